"""Would a checkpoint restore into a model? Build it, plan, read the data.

    check = check_restore('model.ckpt', 'resnet_v1_50', num_classes=1000)
    check.restored, check.fixes, check.tensors, check.bytes

Used by `slim-resnet ckpt check` and by the converters' self-check. The net
is built at 64x64 (variables do not depend on the image size), the restore is
planned with restorer.get_init_fn (the same rules as every restore), and
every tensor of the checkpoint is read, so a truncated or corrupt data file
fails here and not in the first session that needs it.
"""
import dataclasses
from typing import List, Optional, Tuple

import tensorflow as tf

from slim_resnet.checkpoints import inspect_checkpoint
from slim_resnet.checkpoints import restorer


@dataclasses.dataclass
class RestoreCheck(object):
  """What check_restore found (it raises on any problem).

  Attributes:
    checkpoint_path, model, num_classes, model_options: What was checked.
    restored: The checkpoint names that restore.
    fixes: (graph name, checkpoint name, fix) of background-class fixes.
    tensors, bytes: How much tensor data was read (0 without read_data).
  """
  checkpoint_path: str
  model: str
  num_classes: Optional[int]
  model_options: dict
  restored: List[str]
  fixes: List[Tuple[str, str, str]]
  tensors: int = 0
  bytes: int = 0


def check_restore(checkpoint_path, model, num_classes, model_options=None, *,
                  exclude_scopes=(), labels_offset_mode='auto',
                  checkpoint_background=None, read_data=True, run=False):
  """Checks that checkpoint_path restores into `model`.

  Args:
    checkpoint_path: A checkpoint prefix.
    model: A nets_factory name.
    num_classes: Logits size of the graph (0 or None: no logits).
    model_options: Builder arguments, e.g. {'depth_multiplier': 0.125}.
    exclude_scopes, labels_offset_mode, checkpoint_background: As
      restorer.get_init_fn.
    read_data: Read every tensor (catches truncated or corrupt data).
    run: Also restore into a session (allocates the model's variables).

  Returns:
    A RestoreCheck.

  Raises:
    CheckpointMismatchError: If it would not restore; the message has the
      differences and the likely fix.
    CheckpointError: If the index or the tensor data cannot be read.
  """
  from slim_resnet import nets_factory  # pylint: disable=g-import-not-at-top
  network_fn = nets_factory.get_network_fn(model, num_classes)
  with tf.Graph().as_default():
    images = tf.compat.v1.placeholder(tf.float32, [1, 64, 64, 3])
    network_fn(images, spatial_squeeze=False, **(model_options or {}))
    init_fn = restorer.get_init_fn(
        checkpoint_path, exclude_scopes=list(exclude_scopes),
        labels_offset_mode=labels_offset_mode,
        checkpoint_background=checkpoint_background)
    if run:
      with tf.compat.v1.Session() as session:
        init_fn(session)
  tensors = size = 0
  if read_data:
    tensors, size = inspect_checkpoint.verify_checkpoint_data(checkpoint_path)
  return RestoreCheck(checkpoint_path, model, num_classes,
                      dict(model_options or {}), list(init_fn.restored),
                      list(init_fn.fixes), tensors, size)
