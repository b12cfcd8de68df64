"""open_dataset: image folders split per class, TFRecord shards and globs,
labels_offset, undecodable files skipped, clear errors."""
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from slim_resnet.data import datasets
from slim_resnet.data import tfrecords


@pytest.fixture
def folder(tmp_path):
  root = tmp_path / 'images'
  for c, name in enumerate(['ant', 'bee']):
    (root / name).mkdir(parents=True)
    for i in range(5):
      Image.fromarray(np.full([4 + c, 6, 3], 10 * i + c, np.uint8)).save(
          root / name / ('%d.png' % i))
  (root / 'bee' / 'bad.jpg').write_bytes(b'not a jpeg')
  return root


def read_all(source, batch_size=3):
  """Every (image, label) of a source's batches, with the identity
  preprocessing on a fixed 4x6 crop."""
  with tf.Graph().as_default():
    dataset = source.batches(
        lambda image: tf.cast(image[:4, :6], tf.float32), batch_size)
    images, labels = tf.compat.v1.data.make_one_shot_iterator(
        dataset).get_next()
    out = []
    with tf.compat.v1.Session() as sess:
      while True:
        try:
          out.append(sess.run([images, labels]))
        except tf.errors.OutOfRangeError:
          return out


def test_folder_splits_are_disjoint(folder):
  train = datasets.open_dataset(str(folder), 'train')
  validation = datasets.open_dataset(str(folder), 'validation')
  every = datasets.open_dataset(str(folder), 'all')
  assert train.class_names == ['ant', 'bee']
  assert not set(train.paths) & set(validation.paths)
  assert sorted(train.paths + validation.paths) == sorted(every.paths)
  assert validation.num_examples == 2 and every.num_examples == 11


def test_folder_skips_undecodable_files(folder):
  source = datasets.open_dataset(str(folder), 'all')
  batches = read_all(source)
  labels = np.concatenate([b[1] for b in batches])
  assert sorted(labels) == [0] * 5 + [1] * 5
  assert list(source.skipped) == [str(folder / 'bee' / 'bad.jpg')]
  assert [len(b[1]) for b in batches] == [3, 3, 3, 1]  # Last batch kept.


def test_tfrecords_by_folder_and_glob_with_labels_offset(folder, tmp_path):
  out = tmp_path / 'records'
  tfrecords.convert_image_folder(str(folder), str(out), name='bugs',
                                 labels_offset=1)
  by_folder = datasets.open_dataset(str(out), 'train', labels_offset=1)
  assert by_folder.kind == 'tfrecord'
  assert by_folder.class_names == ['ant', 'bee']
  assert by_folder.num_examples == 8
  by_glob = datasets.open_dataset(str(out / 'bugs_validation_*.tfrecord'),
                                  labels_offset=1)
  assert by_glob.num_examples == 2
  labels = np.concatenate([b[1] for b in read_all(by_glob)])
  assert sorted(labels) == [0, 1]
  images = np.concatenate([b[0] for b in read_all(by_folder)])
  assert images.shape == (8, 4, 6, 3)
  # Without the offset the stored ids 1..2 meet 3 names, background first.
  assert datasets.open_dataset(str(out), 'train').class_names == [
      'background', 'ant', 'bee']


def test_training_batches_repeat_and_shuffle(folder):
  source = datasets.open_dataset(str(folder), 'all')
  with tf.Graph().as_default():
    dataset = source.batches(lambda image: tf.cast(image[:4, :6], tf.float32),
                             4, is_training=True, seed=1)
    labels = tf.compat.v1.data.make_one_shot_iterator(dataset).get_next()[1]
    with tf.compat.v1.Session() as sess:
      seen = [sess.run(labels) for _ in range(10)]  # 40 > 10 images
  assert all(len(b) == 4 for b in seen)
  assert set(np.concatenate(seen)) == {0, 1}


def test_errors(tmp_path, folder):
  with pytest.raises(datasets.DatasetError, match='does not exist'):
    datasets.open_dataset(str(tmp_path / 'nothing'))
  (tmp_path / 'empty').mkdir()
  with pytest.raises(datasets.DatasetError, match='no class subfolders'):
    datasets.open_dataset(str(tmp_path / 'empty'))
  with pytest.raises(datasets.DatasetError, match="split must be one of"):
    datasets.open_dataset(str(folder), 'test')
  with pytest.raises(datasets.DatasetError, match='no TFRecord files match'):
    datasets.open_dataset(str(tmp_path / '*.tfrecord'))
  out = tmp_path / 'records'
  tfrecords.convert_image_folder(str(folder), str(out))
  (out / 'labels.txt').unlink()
  with pytest.raises(datasets.DatasetError, match='has no labels.txt'):
    datasets.open_dataset(str(out))
  with pytest.raises(datasets.DatasetError, match='validation split .* is '
                     'empty'):
    datasets.open_dataset(str(folder), 'validation', validation_fraction=0)
