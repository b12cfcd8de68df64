"""A folder of images with one subfolder per class, as research/slim's
download_and_convert scripts expect: root/<class_name>/<image files>.

    examples = read_image_folder('flowers/')
    examples.class_names   # sorted subfolder names; label i = class_names[i]
"""
import collections
import os

import numpy as np

from slim_resnet import files
from slim_resnet.data import images as images_lib

Examples = collections.namedtuple('Examples',
                                  ['paths', 'labels', 'class_names'])


def read_image_folder(root):
  """Lists the images of root/<class>/..., labelled by sorted class name.

  Args:
    root: A directory with one subdirectory per class (hidden ones ignored).

  Returns:
    Examples(paths, labels, class_names): paths and integer labels in a
    stable order (by class, then path).

  Raises:
    FileNotFoundError: If root has no class subfolders, or one is empty.
  """
  if not os.path.isdir(root):
    raise FileNotFoundError('%s is not a directory' % root)
  class_names = sorted(d for d in os.listdir(root)
                       if os.path.isdir(os.path.join(root, d)) and
                       not d.startswith('.'))
  if not class_names:
    raise FileNotFoundError(
        '%s has no class subfolders; expected root/<class_name>/<images>' %
        root)
  paths, labels = [], []
  for label, name in enumerate(class_names):
    try:
      found = images_lib.list_images(os.path.join(root, name))
    except FileNotFoundError:
      raise FileNotFoundError('class folder %s has no files' %
                              os.path.join(root, name)) from None
    paths += found
    labels += [label] * len(found)
  return Examples(paths, np.array(labels, np.int64), class_names)


def split_examples(examples, validation_fraction=0.2, seed=0):
  """Splits per class into (train, validation) Examples, reproducibly.

  Each class keeps round(n * validation_fraction) examples for validation (at
  least one when it has two or more).
  """
  rng = np.random.RandomState(seed)
  train, validation = [], []
  for label in range(len(examples.class_names)):
    idx = rng.permutation(np.flatnonzero(examples.labels == label))
    n = int(round(len(idx) * validation_fraction))
    if validation_fraction > 0 and len(idx) >= 2:
      n = max(n, 1)
    validation += sorted(idx[:n])
    train += sorted(idx[n:])

  def subset(indices):
    indices = np.array(sorted(indices), np.int64)
    return Examples([examples.paths[i] for i in indices],
                    examples.labels[indices], examples.class_names)
  return subset(train), subset(validation)


def write_image_folder(images, labels, class_names, root):
  """Writes images as root/<class_name>/<i:05d>.png (each file atomically).

  Args:
    images: uint8 arrays [height, width] or [height, width, 3].
    labels: An int label per image, indexing class_names.
    class_names: Folder names.
    root: The folder to write into (created if needed).

  Returns:
    Examples of the files written.
  """
  from PIL import Image  # pylint: disable=g-import-not-at-top
  paths = []
  for i, (image, label) in enumerate(zip(images, labels)):
    folder = os.path.join(root, class_names[int(label)])
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, '%05d.png' % i)
    picture = Image.fromarray(np.asarray(image, np.uint8))
    files.atomic_write(path, lambda f: picture.save(f, format='PNG'))
    paths.append(path)
  return Examples(paths, np.asarray(labels, np.int64), list(class_names))


def write_sample_folder(root, invert=False):
  """Writes the shipped checkpoint's held-out digits as an image folder.

  359 images 32x32 of scikit-learn's digits that the shipped checkpoint
  (digits_resnet_v1_18) did not train on, in root/0 ... root/9: sample data
  for the fine-tuning walk-through. invert=True writes them as negatives
  (dark digits on white), a look the checkpoint never saw: it classifies
  them near chance until fine-tuned on them.

  Returns:
    Examples of the files written.
  """
  images, labels = load_sample_digits()
  if invert:
    images = 255 - images
  return write_image_folder(images, labels, [str(c) for c in range(10)], root)


def load_sample_digits():
  """The shipped checkpoint's held-out digits: uint8 images [359, 32, 32]
  (grayscale) and their labels 0..9."""
  from slim_resnet.checkpoints import assets  # pylint: disable=g-import-not-at-top
  with np.load(str(assets.asset_path('digits_resnet_v1_18', 'heldout.npz'))) \
      as data:
    return data['images'], data['labels']
