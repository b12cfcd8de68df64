"""Labelled images for training and evaluation, from a folder or TFRecords.

    source = open_dataset('flowers/', 'train')          # root/<class>/<images>
    source = open_dataset('records/', 'validation')     # <name>_validation_*.tfrecord
    source = open_dataset('records/*_train_*.tfrecord') # a glob, labels.txt beside
    dataset = source.batches(preprocess_fn, batch_size=32, is_training=True)

An image folder is split per class into train and validation reproducibly
(image_folder.split_examples with validation_fraction and seed), so training
and evaluation on the same folder never share an image; split 'all' takes
every image. A TFRecord directory holds research/slim's shards
(tfrecords.convert_image_folder writes them) and its labels.txt.

Labels: research/slim's --labels_offset is subtracted from every stored label
(records written with labels_offset=1 keep 0 for 'background').
"""
import contextlib
import glob
import os
import re

import numpy as np

from slim_resnet import errors
from slim_resnet.data import image_folder
from slim_resnet.data import images as images_lib
from slim_resnet.data import tfrecords
import tensorflow as tf

SPLITS = ('train', 'validation', 'all')
# Starts the error of a record whose label is not a class of labels.txt.
LABEL_RANGE_MESSAGE = 'label out of range'


class DatasetError(errors.UserError):
  """A dataset path or split that cannot be read; says what was found."""


class DatasetSource(object):
  """Labelled images of one split: class names, size, a tf.data pipeline.

  Attributes:
    path: The folder, directory or glob it was opened from.
    kind: 'folder' or 'tfrecord'.
    split: 'train', 'validation' or 'all'.
    class_names: One name per label (labels_offset already removed).
    paths: Image files (folder) or TFRecord files.
    skipped: {path: reason} of folder images that failed to decode so far
      (filled while the pipeline runs).
  """

  def __init__(self, path, kind, split, class_names, paths, labels=None,
               labels_offset=0):
    self.path = path
    self.kind = kind
    self.split = split
    self.class_names = list(class_names)
    self.paths = list(paths)
    self.labels = labels
    self.labels_offset = labels_offset
    self.skipped = {}
    self._num_examples = len(self.paths) if kind == 'folder' else None

  @property
  def num_classes(self):
    return len(self.class_names)

  @property
  def num_examples(self):
    """Images in the split (TFRecords are counted once, on first use)."""
    if self._num_examples is None:
      self._num_examples = sum(
          1 for path in self.paths
          for _ in tf.compat.v1.io.tf_record_iterator(path))
    return self._num_examples

  def images_and_labels(self, num_readers=None, num_threads=None):
    """A tf.data.Dataset of (uint8 image [h, w, 3], int64 label).

    num_readers: TFRecord files read in parallel; num_threads: images
    decoded in parallel (both default to tf.data's AUTOTUNE).
    """
    threads = num_threads or tf.data.AUTOTUNE
    if self.kind == 'tfrecord':
      dataset = tf.data.TFRecordDataset(
          self.paths, num_parallel_reads=num_readers or tf.data.AUTOTUNE).map(
              tfrecords.parse_example, num_parallel_calls=threads)
    else:
      dataset = self._decoded_folder(threads)
    offset, num_classes = self.labels_offset, self.num_classes

    def check(image, label):
      label -= offset
      in_range = tf.debugging.assert_less(
          tf.cast(label, tf.uint64), tf.cast(num_classes, tf.uint64),
          message='%s (labels_offset %d): a label outside 0..%d' % (
              LABEL_RANGE_MESSAGE, offset, num_classes - 1))
      with tf.control_dependencies([in_range]):
        return image, tf.identity(label)
    return dataset.map(check)

  def _decoded_folder(self, threads=tf.data.AUTOTUNE):
    """Decodes with Pillow (any format); undecodable files are skipped."""
    skipped = self.skipped

    def decode(path):
      path = path.decode('utf-8')
      try:
        return images_lib.load_image(path), True
      except images_lib.ImageDecodeError as e:
        if path not in skipped:
          skipped[path] = e.reason
          tf.compat.v1.logging.warning('skipped %s: %s', path, e.reason)
        return np.zeros([1, 1, 3], np.uint8), False

    def load(path, label):
      image, ok = tf.numpy_function(decode, [path], [tf.uint8, tf.bool])
      image.set_shape([None, None, 3])
      ok.set_shape([])
      return image, label, ok

    dataset = tf.data.Dataset.from_tensor_slices(
        (self.paths, np.asarray(self.labels, np.int64)))
    dataset = dataset.map(load, num_parallel_calls=threads)
    dataset = dataset.filter(lambda image, label, ok: ok)
    return dataset.map(lambda image, label, ok: (image, label))

  def batches(self, preprocess_fn, batch_size, is_training=False, seed=0,
              num_epochs=None, drop_remainder=None, num_readers=None,
              num_threads=None):
    """Preprocessed batches: (float32 images [batch, h, w, 3], labels [batch]).

    Args:
      preprocess_fn: image uint8 [h, w, 3] -> float32 [height, width, 3].
      batch_size: Images per batch.
      is_training: Shuffle (with `seed`) and repeat forever; otherwise one
        pass in order, the last batch possibly smaller.
      seed: Shuffle seed.
      num_epochs: Passes over the data; None: forever when training, once
        otherwise.
      drop_remainder: Drop a last partial batch (default: when training).
      num_readers: TFRecord files read in parallel (research/slim's
        --num_readers); default AUTOTUNE.
      num_threads: Images decoded and preprocessed in parallel
        (--num_preprocessing_threads); default AUTOTUNE.

    Returns:
      A tf.data.Dataset.
    """
    dataset = self.images_and_labels(num_readers, num_threads)
    if is_training:
      dataset = dataset.shuffle(max(batch_size * 8, 1024), seed=seed,
                                reshuffle_each_iteration=True)
    if num_epochs is None:
      num_epochs = -1 if is_training else 1
    dataset = dataset.repeat(num_epochs)
    dataset = dataset.map(lambda image, label: (preprocess_fn(image), label),
                          num_parallel_calls=num_threads or tf.data.AUTOTUNE)
    if drop_remainder is None:
      drop_remainder = is_training
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    return dataset.prefetch(2)


@contextlib.contextmanager
def input_errors(source):
  """Turns the errors a session.run over source's batches raises while
  reading the user's files into a DatasetError: a label outside labels.txt,
  an example whose image does not decode or parse, a TFRecord file that is
  truncated or corrupt. Anything else (a preprocessing assert, a bug of
  ours) passes through."""
  try:
    yield
  except (tf.errors.InvalidArgumentError, tf.errors.DataLossError) as e:
    first = errors.tf_error_reason(e.message or str(e))
    if LABEL_RANGE_MESSAGE in e.message:
      raise DatasetError(
          '%s holds labels that are not classes of its labels.txt (%d '
          'classes): %s' % (source.path, source.num_classes, first)) from None
    if isinstance(e, tf.errors.DataLossError):
      raise DatasetError('%s holds a TFRecord file that is truncated or '
                         'corrupt: %s' % (source.path, first)) from None
    if _READ_OPS.search(e.message):
      raise DatasetError('%s holds an example that cannot be read: %s' % (
          source.path, first)) from None
    raise


# The ops whose failure means an example itself is unreadable.
_READ_OPS = re.compile(r'\{\{node [^}]*(Decode|decode|Parse|parse)[^}]*\}\}')


def require_examples(source):
  """Raises DatasetError unless `source` yields at least one usable example.

  Reads (in its own graph) until the first image that decodes, so a split
  that is empty, or whose images all fail to decode, is reported before any
  training step and before anything is written.
  """
  where = '%s (split %r)' % (source.path, source.split)
  if not source.paths:
    raise DatasetError('%s has no examples; expected image files (or '
                       'TFRecords) in it' % where)
  with tf.Graph().as_default():
    first = tf.compat.v1.data.make_one_shot_iterator(
        source.images_and_labels().take(1)).get_next()
    with tf.compat.v1.Session() as session:
      try:
        with input_errors(source):
          session.run(first)
      except tf.errors.OutOfRangeError:
        reasons = sorted(set(source.skipped.values()))
        raise DatasetError(
            '%s has no usable examples: %d files, %d failed to decode%s' % (
                where, len(source.paths), len(source.skipped),
                (' (%s)' % '; '.join(reasons[:3])) if reasons else
                '')) from None


def _tfrecord_files(path, split):
  if os.path.isdir(path):
    pattern = os.path.join(path, '*.tfrecord' if split == 'all' else
                           '*_%s_*.tfrecord' % split)
  else:
    pattern = path
  return sorted(glob.glob(pattern)), pattern


def _has_tfrecords(path):
  return os.path.isdir(path) and bool(glob.glob(os.path.join(path,
                                                             '*.tfrecord')))


def open_dataset(path, split='train', validation_fraction=0.2, seed=0,
                 labels_offset=0):
  """The labelled images of one split of an image folder or TFRecords.

  Args:
    path: A folder root/<class_name>/<images>; a folder of research/slim
      TFRecord shards '<name>_<split>_*.tfrecord' with labels.txt; or a glob
      pattern / file of TFRecords (class names from a labels.txt beside them).
    split: 'train', 'validation' or 'all'.
    validation_fraction: Image folders only: the share of each class held out
      for 'validation'.
    seed: Image folders only: the split seed.
    labels_offset: Subtracted from every stored label (research/slim's
      --labels_offset); the first `labels_offset` names of labels.txt are
      dropped.

  Returns:
    A DatasetSource.

  Raises:
    DatasetError: If nothing usable is found; the message says what was
      expected and what is there.
  """
  path = os.fspath(path)
  if split not in SPLITS:
    raise DatasetError('split must be one of %s; got %r' % (SPLITS, split))
  if not os.path.exists(path) and not glob.has_magic(path):
    raise DatasetError(
        '%s does not exist; expected an image folder (one subfolder of '
        'images per class) or TFRecord shards' % path)
  if os.path.isdir(path) and not _has_tfrecords(path):
    try:
      examples = image_folder.read_image_folder(path)
    except FileNotFoundError as e:
      raise DatasetError(
          '%s: expected a folder with one subfolder of images per class, or '
          'TFRecord shards (*.tfrecord) with a labels.txt' % e) from None
    if split != 'all':
      train, validation = image_folder.split_examples(
          examples, validation_fraction, seed)
      examples = train if split == 'train' else validation
    if not examples.paths:
      raise DatasetError('the %s split of %s is empty (validation_fraction=%s)'
                         % (split, path, validation_fraction))
    return DatasetSource(path, 'folder', split, examples.class_names,
                         examples.paths, examples.labels)
  files, pattern = _tfrecord_files(path, split)
  if not files:
    raise DatasetError(
        'no TFRecord files match %s (expected research/slim shards named '
        '<name>_<split>_<i>-of-<n>.tfrecord, or an image folder)' % pattern)
  directory = os.path.dirname(files[0])
  try:
    class_names = tfrecords.read_label_file(directory)
  except FileNotFoundError:
    raise DatasetError('%s has no %s naming the classes (one "id:name" per '
                       'line, as convert_image_folder writes)' % (
                           directory, tfrecords.LABELS_FILE)) from None
  return DatasetSource(path, 'tfrecord', split, class_names[labels_offset:], files,
                       labels_offset=labels_offset)
