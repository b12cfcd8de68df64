"""slim_resnet: TF-Slim's ResNets on current TensorFlow.

    from slim_resnet import resnet_v1   # instead of: from nets import resnet_v1
    with slim.arg_scope(resnet_v1.resnet_arg_scope()):
      net, end_points = resnet_v1.resnet_v1_50(images, 1000, is_training=False)
"""
# compat must run before anything imports tf_slim.
from slim_resnet import compat  # noqa: F401  pylint: disable=unused-import
from slim_resnet import resnet_utils  # noqa: E402
from slim_resnet import resnet_v1  # noqa: E402
from slim_resnet import resnet_v2  # noqa: E402
from slim_resnet.nets_factory import get_network  # noqa: E402
from slim_resnet.nets_factory import get_network_fn  # noqa: E402
from slim_resnet.nets_factory import list_networks  # noqa: E402
from slim_resnet.nets_factory import networks_map  # noqa: E402

__version__ = '0.1.0'
