"""Checkpoints: the manifest, fetching, inspecting and restoring.

    from slim_resnet import checkpoints
    path = checkpoints.fetch_checkpoint('resnet_v1_50')
    init_fn = checkpoints.get_init_fn(path, exclude_scopes=['resnet_v1_50/logits'])
"""
from slim_resnet.checkpoints.archive import extract_archive  # noqa: F401
from slim_resnet.checkpoints.errors import *  # noqa: F401,F403
from slim_resnet.checkpoints.fetch import cache_dir  # noqa: F401
from slim_resnet.checkpoints.fetch import fetch_checkpoint  # noqa: F401
from slim_resnet.checkpoints.inspect_checkpoint import describe_checkpoint  # noqa: F401
from slim_resnet.checkpoints.inspect_checkpoint import read_checkpoint  # noqa: F401
from slim_resnet.checkpoints.manifest import get_spec  # noqa: F401
from slim_resnet.checkpoints.manifest import load_manifest  # noqa: F401
from slim_resnet.checkpoints.model_spec import resolve_model  # noqa: F401
from slim_resnet.checkpoints.restorer import get_init_fn  # noqa: F401
from slim_resnet.checkpoints.restorer import restore  # noqa: F401
