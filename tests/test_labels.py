"""ImageNet labels shipped as data."""
import pytest

from slim_resnet.checkpoints import assets
from slim_resnet.checkpoints import labels


def test_imagenet_1000_and_1001():
  names = labels.imagenet_labels()
  assert len(names) == 1000 and len(set(names)) >= 998
  assert names[0] == 'tench, Tinca tinca'
  assert names[999] == 'toilet tissue, toilet paper, bathroom tissue'
  with_background = labels.imagenet_labels(1001)
  assert with_background[0] == 'background'
  assert with_background[1:] == names


def test_other_class_counts_fail():
  with pytest.raises(ValueError, match='1000 classes, or 1001.*num_classes=10'):
    labels.imagenet_labels(10)


def test_asset_path_errors():
  assert assets.asset_path('imagenet_labels.txt').exists()
  with pytest.raises(FileNotFoundError, match='nothing.txt is in neither'):
    assets.asset_path('nothing.txt')
