"""Preprocessing numbers, checked by hand and against numpy."""
import numpy as np
import pytest
import tensorflow as tf

from slim_resnet import preprocessing
from slim_resnet.preprocessing import inception_preprocessing
from slim_resnet.preprocessing import vgg_preprocessing

MEAN = np.array(vgg_preprocessing.MEAN_RGB, np.float32)


def run(fn, *arrays, times=1):
  with tf.Graph().as_default():
    tf.compat.v1.set_random_seed(0)
    placeholders = [tf.compat.v1.placeholder(tf.as_dtype(a.dtype), a.shape)
                    for a in arrays]
    out = fn(*placeholders)
    feed = dict(zip(placeholders, arrays))
    with tf.compat.v1.Session() as sess:
      return [sess.run(out, feed) for _ in range(times)]


def mesh(height, width, channels=3):
  y, x = np.mgrid[0:height, 0:width]
  return np.stack([(10 * y + x + 20 * c) % 256 for c in range(channels)],
                  axis=-1).astype(np.uint8)


def test_vgg_eval_central_crop_and_mean():
  image = mesh(4, 6)
  out, = run(lambda im: vgg_preprocessing.preprocess_image(
      im, 2, 2, is_training=False, resize_side_min=4), image)
  # The smaller side is already 4: no resize; central 2x2 at offsets (1, 2).
  np.testing.assert_allclose(out, image[1:3, 2:4].astype(np.float32) - MEAN,
                             atol=1e-4)
  assert out[0, 0, 0] == pytest.approx(12 - 123.68, abs=1e-4)


@pytest.mark.parametrize('shape,side,expected', [
    ((100, 50), 256, (512, 256)), ((50, 100), 256, (256, 512)),
    ((33, 77), 10, (10, 23)), ((256, 256), 256, (256, 256))])
def test_aspect_preserving_resize_sizes(shape, side, expected):
  image = np.zeros(shape + (3,), np.uint8)
  out, = run(lambda im: vgg_preprocessing.aspect_preserving_resize(im, side),
             image)
  assert out.shape[:2] == expected


def test_vgg_eval_resizes_then_crops():
  image = np.full((100, 50, 3), 7, np.uint8)
  out, = run(lambda im: preprocessing.get_preprocessing('vgg')(im, 224, 224),
             image)
  assert out.shape == (224, 224, 3)
  np.testing.assert_allclose(out, 7.0 - MEAN[None, None, :] + np.zeros(
      (224, 224, 3)), atol=1e-3)


def test_vgg_train_random_crop_flip_and_values():
  constant = np.full((40, 30, 3), 200, np.uint8)
  outs = run(lambda im: vgg_preprocessing.preprocess_image(
      im, 16, 16, is_training=True, resize_side_min=30, resize_side_max=40),
             constant, times=3)
  for out in outs:
    assert out.shape == (16, 16, 3)
    np.testing.assert_allclose(out, 200.0 - MEAN + np.zeros((16, 16, 3)),
                               atol=1e-3)
  # Left half dark, right half bright: flips show up as either orientation.
  halves = np.zeros((16, 16, 3), np.uint8)
  halves[:, 8:] = 255
  outs = run(lambda im: vgg_preprocessing.preprocess_image(
      im, 16, 16, is_training=True, resize_side_min=16, resize_side_max=16),
             halves, times=20)
  left_bright = {bool(o[0, 0, 0] > 0) for o in outs}
  assert left_bright == {True, False}


def test_inception_eval_against_numpy():
  image = mesh(8, 8)
  out, = run(lambda im: inception_preprocessing.preprocess_for_eval(
      im, 4, 4, central_fraction=0.5), image)
  expected = (image[2:6, 2:6].astype(np.float32) / 255.0 - 0.5) * 2.0
  np.testing.assert_allclose(out, expected, atol=1e-5)


def test_inception_eval_default_crop_and_range():
  image = np.random.RandomState(0).randint(0, 256, (50, 40, 3), np.uint8)
  out, = run(lambda im: preprocessing.get_preprocessing('inception')(
      im, 299, 299), image)
  assert out.shape == (299, 299, 3)
  assert out.min() >= -1.0 and out.max() <= 1.0


def test_inception_train_shape_and_range():
  image = np.random.RandomState(1).randint(0, 256, (60, 50, 3), np.uint8)
  fn = preprocessing.get_preprocessing('inception', is_training=True)
  for out in run(lambda im: fn(im, 32, 32), image, times=3):
    assert out.shape == (32, 32, 3)
    assert out.min() >= -1.0 - 1e-6 and out.max() <= 1.0 + 1e-6
  slow = preprocessing.get_preprocessing('inception', is_training=True)
  out, = run(lambda im: slow(im, 8, 8, fast_mode=False), image)
  assert out.shape == (8, 8, 3)


@pytest.mark.parametrize('name', ['vgg', 'inception'])
@pytest.mark.parametrize('channels', [1, 4])
def test_grayscale_and_rgba_inputs(name, channels):
  image = mesh(10, 10, channels)
  out, = run(lambda im: preprocessing.get_preprocessing(name)(
      im, 8, 8, **({'resize_side_min': 10} if name == 'vgg' else {})), image)
  assert out.shape == (8, 8, 3)
  if channels == 1:
    np.testing.assert_allclose(out[..., 0] - out[..., 1],
                               (MEAN[1] - MEAN[0]) if name == 'vgg' else 0,
                               atol=1e-4)


def test_torchvision_normalization_by_hand():
  """ToTensor + Normalize(mean, std) of the central crop, computed here."""
  image = mesh(4, 6)
  out, = run(lambda im: preprocessing.get_preprocessing('torchvision')(
      im, 2, 2, resize_side_min=4), image)
  crop = image[1:3, 2:4].astype(np.float64) / 255.0
  want = (crop - np.array([0.485, 0.456, 0.406])) / np.array(
      [0.229, 0.224, 0.225])
  np.testing.assert_allclose(out, want, atol=1e-5)


def test_factory_table_and_errors():
  assert preprocessing.preprocessing_name('resnet_v1_50') == 'vgg'
  assert preprocessing.preprocessing_name('resnet_v2_152') == 'vgg'
  assert preprocessing.preprocessing_name('inception') == 'inception'
  with pytest.raises(ValueError, match='not recognized.*vgg, inception'):
    preprocessing.get_preprocessing('mobilenet')
  with tf.Graph().as_default():
    with pytest.raises(ValueError, match='1, 3 or 4 channels; got 2'):
      vgg_preprocessing.ensure_rgb(tf.zeros([4, 4, 2]))
