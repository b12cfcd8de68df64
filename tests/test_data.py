"""Image folders and slim-format TFRecords: convert, read back, equal pixels."""
import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from slim_resnet.data import image_folder
from slim_resnet.data import tfrecords


@pytest.fixture
def folder(tmp_path):
  rng = np.random.RandomState(0)
  root = tmp_path / 'images'
  pixels = {}
  for c, name in enumerate(['cat', 'dog', 'emu']):
    (root / name).mkdir(parents=True)
    for i in range(5):
      array = rng.randint(0, 256, (6 + c, 8, 3), np.uint8)
      path = root / name / ('%d.png' % i)
      Image.fromarray(array).save(path)
      pixels[str(path)] = array
  Image.fromarray(array).save(root / 'emu' / 'x.bmp')  # re-encoded as PNG
  pixels[str(root / 'emu' / 'x.bmp')] = array
  (root / 'dog' / 'broken.jpg').write_bytes(b'\xff\xd8 not really')
  return root, pixels


def test_read_and_split(folder):
  root, _ = folder
  examples = image_folder.read_image_folder(str(root))
  assert examples.class_names == ['cat', 'dog', 'emu']
  assert len(examples.paths) == 17
  assert list(np.bincount(examples.labels)) == [5, 6, 6]
  train, validation = image_folder.split_examples(examples, 0.2, seed=0)
  assert list(np.bincount(validation.labels)) == [1, 1, 1]
  assert not set(train.paths) & set(validation.paths)
  assert sorted(train.paths + validation.paths) == sorted(examples.paths)
  again = image_folder.split_examples(examples, 0.2, seed=0)
  assert again[1].paths == validation.paths


def test_read_errors(tmp_path):
  with pytest.raises(FileNotFoundError, match='no class subfolders'):
    image_folder.read_image_folder(str(tmp_path))
  (tmp_path / 'a').mkdir()
  with pytest.raises(FileNotFoundError, match='has no files'):
    image_folder.read_image_folder(str(tmp_path))


def test_convert_and_read_back(folder, tmp_path):
  root, pixels = folder
  out = tmp_path / 'records'
  summary = tfrecords.convert_image_folder(str(root), str(out), name='pets',
                                           num_shards=2, labels_offset=1)
  assert summary['class_names'] == ['cat', 'dog', 'emu']
  assert list(summary['skipped']) == [str(root / 'dog' / 'broken.jpg')]
  assert summary['counts'] == {'train': 13, 'validation': 3}
  assert sorted(os.listdir(out)) == [
      'labels.txt', 'pets_train_00000-of-00002.tfrecord',
      'pets_train_00001-of-00002.tfrecord',
      'pets_validation_00000-of-00002.tfrecord',
      'pets_validation_00001-of-00002.tfrecord']
  # Ids start at labels_offset=1: id 0 is named background.
  assert tfrecords.read_label_file(str(out)) == ['background', 'cat', 'dog',
                                                'emu']
  with tf.Graph().as_default():
    dataset = tfrecords.read_tfrecords(str(out / 'pets_*.tfrecord'))
    image, label = tf.compat.v1.data.make_one_shot_iterator(
        dataset).get_next()
    read = []
    with tf.compat.v1.Session() as sess:
      while True:
        try:
          read.append(sess.run([image, label]))
        except tf.errors.OutOfRangeError:
          break
  assert len(read) == 16
  by_bytes = {a.tobytes(): (p, a) for p, a in pixels.items()}
  for array, label in read:
    path, original = by_bytes[array.tobytes()]
    np.testing.assert_array_equal(array, original)
    class_name = os.path.basename(os.path.dirname(path))
    assert label == ['cat', 'dog', 'emu'].index(class_name) + 1


def test_slim_keys():
  example = tfrecords.image_to_tfexample(b'abc', b'png', 3, 4, 7)
  feature = example.features.feature
  assert set(feature) == set(tfrecords.FEATURES)
  assert feature['image/class/label'].int64_list.value == [7]
  assert feature['image/format'].bytes_list.value == [b'png']


def test_no_files_match(tmp_path):
  with pytest.raises(FileNotFoundError, match='no TFRecord files match'):
    tfrecords.read_tfrecords(str(tmp_path / '*.tfrecord'))
