"""ImageNet class names, shipped as data (checkpoints/imagenet_labels.txt).

The 1000 ILSVRC-2012 classes in the standard synset order (0 = 'tench, Tinca
tinca'). research/slim's v2 checkpoints have 1001 logits: index 0 is
'background' and class i of the 1000 is logit i + 1 (label offset 1).
"""
import functools

from slim_resnet import errors
from slim_resnet.checkpoints import assets


@functools.lru_cache(maxsize=None)
def _imagenet_1000():
  with open(assets.asset_path('imagenet_labels.txt'), encoding='utf-8') as f:
    return tuple(line.rstrip('\n') for line in f if line.strip())


def imagenet_labels(num_classes=1000):
  """The ImageNet label of each logit.

  Args:
    num_classes: 1000, or 1001 for the background-first convention.

  Returns:
    A list of num_classes names.

  Raises:
    errors.UsageError (a ValueError): For any other num_classes.
  """
  if num_classes == 1000:
    return list(_imagenet_1000())
  if num_classes == 1001:
    return ['background'] + list(_imagenet_1000())
  raise errors.UsageError('ImageNet labels exist for 1000 classes, or 1001 with '
                   'background first; got num_classes=%s' % num_classes)
