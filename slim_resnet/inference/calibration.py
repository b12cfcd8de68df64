"""Images for post-training quantization and for the export's accuracy check.

    sets = calibration_sets(spec, 'flowers/train', calibration_size=300)
    sets.calibration      # float32 [300, size, size, 3], preprocessed
    sets.check            # float32 [100, size, size, 3]: other images
    sets.describe()       # '300 calibration and 100 check images from ...'

The source is what `classify` takes (image files, folders, glob patterns)
or research/slim TFRecords (a .tfrecord file, a glob of them, or a folder of
shards: then its train split when it has one). Images are drawn in a fixed
shuffled order (seed), decoded and preprocessed as the checkpoint expects
(spec.preprocessing_fn). The first check_size are held back for the
check, the next calibration_size go to calibration, never both; with fewer
images than both, a quarter (at least one) is held back. Or the check
images come from a source of their own (check_source, e.g. a validation
split; its files are then left out of calibration). Undecodable files are
skipped and counted.
"""
import dataclasses
import os

import numpy as np

from slim_resnet import errors
from slim_resnet.data import images as images_lib
from slim_resnet.data import tfrecords

DEFAULT_CALIBRATION_SIZE = 300
DEFAULT_CHECK_SIZE = 100


class CalibrationError(errors.UserError):
  """A calibration source with no (or too few) usable images."""


@dataclasses.dataclass
class CalibrationSets(object):
  """Preprocessed images: calibration [n, size, size, 3] and check [m, ...].

  Attributes:
    source: What they were read from.
    skipped: {path: reason} of files that could not be decoded.
  """
  calibration: np.ndarray
  check: np.ndarray
  source: str
  skipped: dict = dataclasses.field(default_factory=dict)

  def describe(self):
    return ('%d calibration and %d held-back check images from %s%s' % (
        len(self.calibration), len(self.check), self.source,
        ' (%d undecodable files skipped)' % len(self.skipped)
        if self.skipped else ''))

  def as_dict(self):
    return {'source': self.source, 'calibration_images': len(self.calibration),
            'check_images': len(self.check),
            'skipped': len(self.skipped)}


def _sources(source):
  return ([os.fspath(source)] if isinstance(source, (str, os.PathLike))
          else [os.fspath(s) for s in source])


def _describe(source):
  return ', '.join(_sources(source))


def _paths_of(source):
  """The image files of `source` as real paths (none for TFRecords)."""
  sources = _sources(source)
  if tfrecords.tfrecord_files(sources) is not None:
    return set()
  try:
    return {os.path.realpath(p) for p in images_lib.list_images(sources)}
  except FileNotFoundError:
    return set()


def _raw_images(source, count, seed, exclude=frozenset(), split='train',
                flag='--calibration'):
  """Up to `count` decoded uint8 images [h, w, 3] and {path: reason}, from
  files not in `exclude` (real paths), or from TFRecords (a folder of
  shards: its `split` when it has one)."""
  sources = _sources(source)
  record_files = tfrecords.tfrecord_files(sources, split)
  if record_files:
    return _records(record_files, count, seed), {}
  try:
    paths = [p for p in images_lib.list_images(sources)
             if os.path.realpath(p) not in exclude]
  except FileNotFoundError as e:
    raise CalibrationError('%s; %s takes image files, folders, glob '
                           'patterns or TFRecords' % (e, flag)) from None
  order = np.random.RandomState(seed).permutation(len(paths))
  images, skipped = [], {}
  for i in order:
    if len(images) == count:
      break
    try:
      images.append(images_lib.load_image(paths[i]))
    except images_lib.ImageDecodeError as e:
      skipped[paths[i]] = e.reason
  return images, skipped


def _records(record_files, count, seed):
  """`count` records' images, drawn from all the files at once (files
  shuffled and interleaved, then a shuffle buffer of at least 10,000
  records: `data convert` writes each shard in class order)."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  order = np.random.RandomState(seed).permutation(len(record_files))
  with tf.Graph().as_default():
    dataset = tf.data.Dataset.from_tensor_slices(
        [record_files[i] for i in order]).interleave(
            tf.data.TFRecordDataset, cycle_length=len(record_files),
            block_length=1).map(tfrecords.parse_example).shuffle(
                max(10000, 4 * count), seed=seed).take(count)
    following = tf.compat.v1.data.make_one_shot_iterator(dataset).get_next()
    images = []
    with tf.compat.v1.Session() as session:
      while True:
        try:
          images.append(session.run(following)[0])
        except tf.errors.OutOfRangeError:
          return images


def preprocess_all(spec, images):
  """uint8 images [h, w, 3] of any sizes -> float32 [n, size, size, 3]
  through the checkpoint's preprocessing (spec.preprocessing_fn)."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  with tf.Graph().as_default():
    raw = tf.compat.v1.placeholder(tf.uint8, [None, None, 3])
    processed = spec.preprocessing_fn()(raw)
    with tf.compat.v1.Session() as session:
      return np.stack([session.run(processed, {raw: images_lib.to_rgb(i)})
                       for i in images]).astype(np.float32)


def calibration_sets(spec, source, calibration_size=DEFAULT_CALIBRATION_SIZE,
                     check_size=DEFAULT_CHECK_SIZE, seed=0, check_source=None):
  """Reads, splits and preprocesses calibration and check images.

  Args:
    spec: The checkpoint's ModelSpec (its preprocessing and image size).
    source: Image files, folders or globs (a string or a list), or TFRecords.
    calibration_size: Images for calibration (default 300).
    check_size: Other images held back for the accuracy check (default 100).
    seed: The shuffle seed.
    check_source: Where the check images come from instead (e.g. a
      validation split; its files that are also in `source` are dropped
      from the calibration images). With source None, only check images
      are read (a float export checked on real images).

  Returns:
    A CalibrationSets.

  Raises:
    CalibrationError: If fewer than 2 images can be read.
  """
  if check_source is not None:
    check_records = tfrecords.tfrecord_files(_sources(check_source),
                                             'validation')
    if check_records is not None and source is not None and (
        tfrecords.tfrecord_files(_sources(source), 'train') == check_records):
      raise CalibrationError(
          '--check-images names the same TFRecords as --calibration (%s); '
          'give another split, or drop --check-images to hold images back'
          % _describe(check_source))
    check, skipped = _raw_images(check_source, check_size, seed + 1,
                                 split='validation', flag='--check-images')
    raw = []
    if source is not None:
      raw, more = _raw_images(source, calibration_size, seed,
                              exclude=_paths_of(check_source))
      skipped.update(more)
    if not check or (source is not None and not raw):
      raise CalibrationError('%s gave no usable image' % _describe(
          check_source if not check else source))
    size = spec.image_size
    return CalibrationSets(
        calibration=(preprocess_all(spec, raw) if raw else
                     np.zeros([0, size, size, 3], np.float32)),
        check=preprocess_all(spec, check),
        source='%s, checked on %s' % (
            _describe(source) if source is not None else 'no calibration',
            _describe(check_source)),
        skipped=skipped)
  described = _describe(source)
  raw, skipped = _raw_images(source, calibration_size + check_size, seed)
  if len(raw) < 2:
    raise CalibrationError(
        '%s gave %d usable image%s%s; calibration needs at least 2 (one to '
        'calibrate, one to check), a few hundred for a good int8 model' % (
            source, len(raw), '' if len(raw) == 1 else 's',
            ' (%d undecodable)' % len(skipped) if skipped else ''))
  held = check_size
  if len(raw) < calibration_size + check_size:
    held = max(1, len(raw) // 4)
  images = preprocess_all(spec, raw)
  return CalibrationSets(calibration=images[held:], check=images[:held],
                         source=described, skipped=skipped)
