"""TFRecords in research/slim's format, and a converter from image folders.

Each record is a tf.train.Example with research/slim's keys
(datasets/dataset_utils.image_to_tfexample):
  image/encoded      bytes   the encoded image (JPEG or PNG)
  image/format       bytes   b'jpeg' or b'png'
  image/class/label  int64   the class id (plus labels_offset, if any)
  image/height       int64
  image/width        int64
Shards are named '<name>_<split>_<i:05d>-of-<n:05d>.tfrecord', next to a
'labels.txt' of 'id:class_name' lines (research/slim's label file). Every
shard is written to a temporary name and renamed.

    summary = convert_image_folder('flowers/', 'records/', name='flowers')
    dataset = read_tfrecords('records/flowers_train_*.tfrecord')
"""
import glob
import io
import os

import numpy as np
from PIL import Image

from slim_resnet import files
from slim_resnet.data import image_folder
from slim_resnet.data import images as images_lib
import tensorflow as tf

FEATURES = {
    'image/encoded': tf.io.FixedLenFeature((), tf.string, default_value=''),
    'image/format': tf.io.FixedLenFeature((), tf.string, default_value='jpeg'),
    'image/class/label': tf.io.FixedLenFeature((), tf.int64, default_value=-1),
    'image/height': tf.io.FixedLenFeature((), tf.int64, default_value=0),
    'image/width': tf.io.FixedLenFeature((), tf.int64, default_value=0),
}
LABELS_FILE = 'labels.txt'


def _int64(value):
  return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(value)]))


def _bytes(value):
  return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def image_to_tfexample(image_data, image_format, height, width, class_id):
  """A tf.train.Example with research/slim's keys."""
  return tf.train.Example(features=tf.train.Features(feature={
      'image/encoded': _bytes(image_data),
      'image/format': _bytes(image_format),
      'image/class/label': _int64(class_id),
      'image/height': _int64(height),
      'image/width': _int64(width),
  }))


def encode_for_record(path):
  """(encoded bytes, format, height, width) of an image file.

  JPEG and PNG files are stored as they are; any other format is decoded and
  re-encoded as PNG, since TensorFlow decodes JPEG/PNG/GIF/BMP only.

  Raises:
    images.ImageDecodeError: If the file is not a decodable image.
  """
  array = images_lib.load_image(path)  # Validates and gives the size.
  with open(path, 'rb') as f:
    data = f.read()
  with Image.open(io.BytesIO(data)) as image:
    kind = (image.format or '').lower()
  if kind in ('jpeg', 'png'):
    return data, kind.encode(), array.shape[0], array.shape[1]
  buffer = io.BytesIO()
  Image.fromarray(array).save(buffer, format='PNG')
  return buffer.getvalue(), b'png', array.shape[0], array.shape[1]


def write_label_file(class_names, directory):
  """Writes 'id:class_name' lines to directory/labels.txt (atomically)."""
  path = os.path.join(directory, LABELS_FILE)
  files.atomic_write_text(path, ''.join(
      '%d:%s\n' % (i, name) for i, name in enumerate(class_names)))
  return path


def read_label_file(directory):
  """The class names of directory/labels.txt, in id order."""
  with open(os.path.join(directory, LABELS_FILE), encoding='utf-8') as f:
    pairs = [line.rstrip('\n').split(':', 1) for line in f if line.strip()]
  return [name for _, name in sorted((int(i), n) for i, n in pairs)]


def write_shards(examples, directory, name, split, num_shards=2,
                 labels_offset=0):
  """Writes Examples as sharded TFRecords.

  Args:
    examples: image_folder.Examples.
    directory: Output directory (created if needed).
    name: Dataset name in the file names.
    split: 'train' or 'validation' (any string).
    num_shards: Number of files; examples are dealt out in order.
    labels_offset: Added to every label (1 to reserve 0 for background).

  Returns:
    (paths of the shards, dict path -> reason for the files skipped).
  """
  os.makedirs(directory, exist_ok=True)
  num_shards = max(1, min(num_shards, len(examples.paths)))
  skipped = {}
  shard_paths = []
  for shard in range(num_shards):
    out = os.path.join(directory, '%s_%s_%05d-of-%05d.tfrecord' % (
        name, split, shard, num_shards))
    with tf.io.TFRecordWriter(out + '.tmp') as writer:
      for i in range(shard, len(examples.paths), num_shards):
        path = examples.paths[i]
        try:
          data, kind, height, width = encode_for_record(path)
        except images_lib.ImageDecodeError as e:
          skipped[path] = e.reason
          continue
        writer.write(image_to_tfexample(
            data, kind, height, width,
            int(examples.labels[i]) + labels_offset).SerializeToString())
    os.replace(out + '.tmp', out)
    shard_paths.append(out)
  return shard_paths, skipped


def convert_image_folder(root, directory, name='images',
                         validation_fraction=0.2, num_shards=2,
                         labels_offset=0, seed=0):
  """Converts root/<class>/<images> to train and validation TFRecords.

  Returns:
    A dict with 'class_names', 'train' and 'validation' (shard paths),
    'counts' per split and 'skipped' {path: reason}.
  """
  examples = image_folder.read_image_folder(root)
  train, validation = image_folder.split_examples(
      examples, validation_fraction, seed)
  summary = {'class_names': examples.class_names, 'skipped': {}, 'counts': {}}
  for split, subset in (('train', train), ('validation', validation)):
    if not subset.paths:
      summary[split] = []
      summary['counts'][split] = 0
      continue
    shards, skipped = write_shards(subset, directory, name, split, num_shards,
                                   labels_offset)
    summary[split] = shards
    summary['skipped'].update(skipped)
    summary['counts'][split] = len(subset.paths) - len(skipped)
  # Label ids in the records start at labels_offset: name the ones below.
  reserved = (['background'] if labels_offset == 1 else
              ['unused_%d' % i for i in range(labels_offset)])
  write_label_file(reserved + list(examples.class_names), directory)
  return summary


def parse_example(serialized):
  """A serialized slim Example -> (image uint8 [h, w, 3], label int64)."""
  parsed = tf.io.parse_single_example(serialized, FEATURES)
  image = tf.io.decode_image(parsed['image/encoded'], channels=3,
                             expand_animations=False)
  image.set_shape([None, None, 3])
  return image, parsed['image/class/label']


def read_tfrecords(file_pattern):
  """A tf.data.Dataset of (image uint8 [h, w, 3], label) from shards.

  Raises:
    FileNotFoundError: If no file matches.
  """
  files = sorted(tf.io.gfile.glob(file_pattern))
  if not files:
    raise FileNotFoundError('no TFRecord files match %s' % file_pattern)
  return tf.data.TFRecordDataset(files).map(
      parse_example, num_parallel_calls=tf.data.AUTOTUNE)


def tfrecord_pattern(source, split=None):
  """The TFRecord files `source` names, as a glob pattern: a .tfrecord file
  or a glob of them, or a folder of shards (those of `split`, e.g. 'train',
  when it has them; else all); None when it names image files instead."""
  if os.path.isdir(source):
    pattern = os.path.join(source, '*_%s_*.tfrecord' % split)
    if split and glob.glob(pattern):
      return pattern
    if glob.glob(os.path.join(source, '*.tfrecord')):
      return os.path.join(source, '*.tfrecord')
    return None
  if source.endswith('.tfrecord') or source.endswith('.tfrecord*'):
    return source
  matches = glob.glob(source)
  if matches and all(m.endswith('.tfrecord') for m in matches):
    return source
  return None


def tfrecord_files(sources, split=None):
  """The TFRecord files named by `sources` (a path, or a list of paths as a
  shell expands an unquoted glob), sorted; None when they name image files
  instead. See tfrecord_pattern."""
  sources = ([os.fspath(sources)] if isinstance(sources, (str, os.PathLike))
             else [os.fspath(s) for s in sources])
  if len(sources) == 1:
    pattern = tfrecord_pattern(sources[0], split)
    return sorted(glob.glob(pattern)) if pattern else None
  if sources and all(s.endswith('.tfrecord') and os.path.isfile(s)
                     for s in sources):
    return sorted(sources)
  return None
