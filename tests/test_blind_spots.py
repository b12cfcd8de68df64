"""Small checks the rest of the suite missed: each fails on a realistic
one-line bug (named in its docstring)."""
import os

import numpy as np
import pytest

from slim_resnet import files
from slim_resnet.checkpoints import restorer


def test_scope_matching_needs_the_slash_boundary():
  """Catches in_scopes matching by prefix: 'unit_1' matching 'unit_10'."""
  scopes = ['resnet_v1_50/block3/unit_1', 'resnet_v1_50/logits/']
  assert restorer.in_scopes('resnet_v1_50/block3/unit_1/conv1/weights', scopes)
  assert restorer.in_scopes('resnet_v1_50/block3/unit_1', scopes)
  assert restorer.in_scopes('resnet_v1_50/logits/biases', scopes)
  assert not restorer.in_scopes('resnet_v1_50/block3/unit_10/conv1/weights',
                                scopes)
  assert not restorer.in_scopes('resnet_v1_50/block3/unit_12', scopes)
  assert not restorer.in_scopes('resnet_v1_50/logits_new/biases', scopes)


class Boom(Exception):
  pass


@pytest.mark.parametrize('where', ['write', 'rename'])
@pytest.mark.parametrize('old', [None, b'old contents'])
def test_atomic_write_failing_midway_leaves_the_old_file(tmp_path, monkeypatch,
                                                         where, old):
  """Catches writing in place (open(path, 'wb')), and a failed write that
  leaves path.tmp behind."""
  path = str(tmp_path / 'out.bin')
  if old is not None:
    with open(path, 'wb') as f:
      f.write(old)

  def write(f):
    f.write(b'new, half')
    if where == 'write':
      raise Boom()
    f.write(b' and the rest')
  if where == 'rename':
    def replace(src, dst):
      raise Boom()
    monkeypatch.setattr(os, 'replace', replace)
  with pytest.raises(Boom):
    files.atomic_write(path, write)
  monkeypatch.undo()
  assert os.listdir(tmp_path) == ([] if old is None else ['out.bin'])
  if old is not None:
    with open(path, 'rb') as f:
      assert f.read() == old
  files.atomic_write_text(path, 'whole')
  with open(path) as f:
    assert f.read() == 'whole'
  assert os.listdir(tmp_path) == ['out.bin']


# Basic units against numpy (ResNet-18/34 have no reference net to compare).

EPSILON = 1e-5  # research/slim's resnet_arg_scope batch_norm_epsilon.


def np_conv(x, w, stride, biases=None):
  """research/slim conv2d_same: SAME at stride 1, else explicit pad + VALID."""
  k = w.shape[0]
  pad_beg = (k - 1) // 2
  pad_end = k - 1 - pad_beg
  xp = np.pad(x, [(0, 0), (pad_beg, pad_end), (pad_beg, pad_end), (0, 0)])
  height = (xp.shape[1] - k) // stride + 1
  width = (xp.shape[2] - k) // stride + 1
  out = np.zeros([x.shape[0], height, width, w.shape[3]], np.float64)
  for i in range(k):
    for j in range(k):
      patch = xp[:, i:i + stride * height:stride, j:j + stride * width:stride]
      out += np.einsum('bhwc,co->bhwo', patch, w[i, j])
  return out if biases is None else out + biases


def np_bn(x, values, scope):
  return (values[scope + '/gamma'] * (x - values[scope + '/moving_mean']) /
          np.sqrt(values[scope + '/moving_variance'] + EPSILON) +
          values[scope + '/beta'])


def relu(x):
  return np.maximum(x, 0)


def np_basic_v2(x, v, s, depth, stride):
  preact = relu(np_bn(x, v, s + 'preact'))
  if depth == x.shape[3]:
    shortcut = x[:, ::stride, ::stride]
  else:
    shortcut = np_conv(preact, v[s + 'shortcut/weights'], stride,
                       v[s + 'shortcut/biases'])
  residual = relu(np_bn(np_conv(preact, v[s + 'conv1/weights'], 1), v,
                        s + 'conv1/BatchNorm'))
  residual = np_conv(residual, v[s + 'conv2/weights'], stride,
                     v[s + 'conv2/biases'])
  return shortcut + residual


def np_basic_v1(x, v, s, depth, stride):
  if depth == x.shape[3]:
    shortcut = x[:, ::stride, ::stride]
  else:
    shortcut = np_bn(np_conv(x, v[s + 'shortcut/weights'], stride), v,
                     s + 'shortcut/BatchNorm')
  residual = relu(np_bn(np_conv(x, v[s + 'conv1/weights'], 1), v,
                        s + 'conv1/BatchNorm'))
  residual = np_bn(np_conv(residual, v[s + 'conv2/weights'], stride), v,
                   s + 'conv2/BatchNorm')
  return relu(shortcut + residual)


@pytest.mark.parametrize('version', ['v1', 'v2'])
@pytest.mark.parametrize('depth,stride', [(6, 2), (6, 1), (4, 2), (4, 1)])
def test_basic_unit_against_numpy(version, depth, stride):
  """One basic unit (projection or identity shortcut, stride 1 or 2) in
  inference mode vs numpy. Catches the v2 projection shortcut reading the raw
  inputs instead of the pre-activation, a stride on the wrong conv, a
  missing ReLU or bias."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  import tf_slim as slim  # pylint: disable=g-import-not-at-top
  from slim_resnet import resnet_v1  # pylint: disable=g-import-not-at-top
  from slim_resnet import resnet_v2  # pylint: disable=g-import-not-at-top
  module = resnet_v1 if version == 'v1' else resnet_v2
  rng = np.random.RandomState(depth * 10 + stride)
  x = rng.normal(0, 1, [2, 9, 8, 4]).astype(np.float32)
  with tf.Graph().as_default():
    inputs = tf.constant(x)
    with slim.arg_scope(module.resnet_arg_scope()), \
        slim.arg_scope([slim.batch_norm], is_training=False):
      out = module.basic(inputs, depth, stride, scope='unit')
    variables = tf.compat.v1.global_variables()
    with tf.compat.v1.Session() as sess:
      values = {}
      for var in variables:
        leaf = var.op.name.rsplit('/', 1)[-1]
        low, high = (0.5, 1.5) if leaf in ('gamma', 'moving_variance') else (
            -0.5, 0.5)
        values[var.op.name] = rng.uniform(low, high, var.shape.as_list())
        var.load(values[var.op.name].astype(np.float32), sess)
      got = sess.run(out)
  reference = np_basic_v1 if version == 'v1' else np_basic_v2
  expected = reference(x.astype(np.float64), values, 'unit/', depth, stride)
  assert got.shape == expected.shape
  np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


# Preprocessing against research/slim's formulas, in numpy.

def np_resize_bilinear(image, height, width):
  """tf.compat.v1.image.resize_bilinear, align_corners=False (TF1: no half
  pixel centers): source = dest * in / out, clamped neighbours."""
  image = image.astype(np.float64)
  in_h, in_w = image.shape[:2]
  ys = np.arange(height) * (in_h / height)
  xs = np.arange(width) * (in_w / width)
  y0 = np.floor(ys).astype(int)
  x0 = np.floor(xs).astype(int)
  y1, x1 = np.minimum(y0 + 1, in_h - 1), np.minimum(x0 + 1, in_w - 1)
  fy, fx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
  top = image[y0][:, x0] * (1 - fx) + image[y0][:, x1] * fx
  bottom = image[y1][:, x0] * (1 - fx) + image[y1][:, x1] * fx
  return top * (1 - fy) + bottom * fy


def np_vgg_eval(image, out_h, out_w, resize_side):
  """research/slim vgg_preprocessing.preprocess_for_eval."""
  h, w = image.shape[:2]
  scale = resize_side / w if h > w else resize_side / h
  new_h, new_w = int(np.rint(h * scale)), int(np.rint(w * scale))
  resized = np_resize_bilinear(image, new_h, new_w)
  top, left = (new_h - out_h) // 2, (new_w - out_w) // 2
  crop = resized[top:top + out_h, left:left + out_w]
  return crop - np.array([123.68, 116.78, 103.94])


def np_inception_eval(image, height, width, central_fraction=0.875):
  """research/slim inception_preprocessing.preprocess_for_eval (uint8 in)."""
  image = image.astype(np.float64) / 255.0
  h, w = image.shape[:2]
  top = int((h - h * central_fraction) / 2)
  left = int((w - w * central_fraction) / 2)
  image = image[top:h - top, left:w - left]
  return (np_resize_bilinear(image, height, width) - 0.5) * 2.0


def mesh(height, width, seed):
  rng = np.random.RandomState(seed)
  return rng.randint(0, 256, [height, width, 3]).astype(np.uint8)


@pytest.mark.parametrize('size', [(37, 53), (64, 41), (100, 100), (23, 31)])
def test_vgg_and_inception_eval_against_research_slim(size):
  """Non-constant images whose sizes really resize (up and down). Catches
  the vgg resize with align_corners=True, a rounding change in
  _smallest_size_at_least, an off-centre crop, and a changed inception
  central fraction (0.875) or scaling."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from slim_resnet.preprocessing import inception_preprocessing  # pylint: disable=g-import-not-at-top
  from slim_resnet.preprocessing import vgg_preprocessing  # pylint: disable=g-import-not-at-top
  image = mesh(size[0], size[1], seed=size[0])
  with tf.Graph().as_default():
    vgg = vgg_preprocessing.preprocess_image(
        tf.constant(image), 24, 24, is_training=False, resize_side_min=29)
    inception = inception_preprocessing.preprocess_image(
        tf.constant(image), 24, 24, is_training=False)
    with tf.compat.v1.Session() as sess:
      got_vgg, got_inception = sess.run([vgg, inception])
  np.testing.assert_allclose(got_vgg, np_vgg_eval(image, 24, 24, 29),
                             atol=2e-3)
  np.testing.assert_allclose(got_inception, np_inception_eval(image, 24, 24),
                             atol=1e-5)
