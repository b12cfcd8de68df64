"""Unit tests of the building blocks, slim-style: tiny inputs, hand values."""
import numpy as np
import pytest
import tensorflow as tf
import tf_slim as slim

from slim_resnet import resnet_utils


def run(fn):
  with tf.Graph().as_default():
    tf.compat.v1.set_random_seed(0)
    out = fn()
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      return sess.run(out)


def create_test_input(batch, height, width, channels):
  """A mesh grid [batch, height, width, channels], as slim's tests make."""
  return tf.cast(
      np.tile(
          np.reshape(
              np.reshape(np.arange(height), [height, 1]) +
              np.reshape(np.arange(width), [1, width]),
              [1, height, width, 1]), [batch, 1, 1, channels]), tf.float32)


def test_subsample():
  def fn():
    x = tf.reshape(tf.range(16, dtype=tf.float32), [1, 4, 4, 1])
    return resnet_utils.subsample(x, 2)
  np.testing.assert_array_equal(
      run(fn).reshape(2, 2), [[0, 2], [8, 10]])


def test_subsample_factor_one_is_identity():
  with tf.Graph().as_default():
    x = tf.zeros([1, 4, 4, 1])
    assert resnet_utils.subsample(x, 1) is x


# slim's test weights: the 3x3 mesh grid w[i, j] = i + j, bias 0.
MESH_WEIGHTS = dict(
    weights_initializer=tf.compat.v1.constant_initializer(
        np.add.outer(np.arange(3), np.arange(3)).reshape(3, 3, 1, 1)),
    biases_initializer=tf.compat.v1.zeros_initializer(),
    activation_fn=None)


@pytest.mark.parametrize('n', [4, 5])
def test_conv2d_same_equals_dense_conv_subsampled(n):
  """test_conv2d_same_even (n=4) and odd (n=5), cf. research/slim's tests."""
  def fn():
    x = create_test_input(1, n, n, 1)
    with slim.arg_scope([slim.conv2d], **MESH_WEIGHTS):
      y1 = resnet_utils.conv2d_same(x, 1, 3, stride=1, scope='dense')
      y2 = resnet_utils.conv2d_same(x, 1, 3, stride=2, scope='same')
      y3 = slim.conv2d(x, 1, [3, 3], stride=2, padding='SAME', scope='plain')
    return y1, resnet_utils.subsample(y1, 2), y2, y3
  dense, dense_sub, same, plain = run(fn)
  if n == 4:
    # Hand-computed: 3x3 sums of i + j over a zero-padded 4x4 grid.
    np.testing.assert_array_equal(dense.reshape(4, 4), [
        [14, 28, 43, 26], [28, 48, 66, 37], [43, 66, 84, 46], [26, 37, 46, 22]])
    np.testing.assert_array_equal(same.reshape(2, 2), [[14, 43], [43, 84]])
    # TensorFlow's own SAME stride 2 pads at the end only: different numbers.
    np.testing.assert_array_equal(plain.reshape(2, 2), [[48, 37], [37, 22]])
  np.testing.assert_array_equal(same, dense_sub)


def test_conv2d_same_with_rate_keeps_size():
  def fn():
    x = create_test_input(1, 9, 9, 1)
    with slim.arg_scope([slim.conv2d], activation_fn=None):
      return resnet_utils.conv2d_same(x, 2, 3, stride=1, rate=2, scope='b')
  assert run(fn).shape == (1, 9, 9, 2)


def test_check_inputs_errors():
  with tf.Graph().as_default():
    with pytest.raises(ValueError, match=r'4-D tensor \[batch, height, width'):
      resnet_utils.check_inputs(tf.compat.v1.placeholder(tf.float32, [2, 8, 8]))
    with pytest.raises(ValueError, match='known number of channels'):
      resnet_utils.check_inputs(
          tf.compat.v1.placeholder(tf.float32, [2, 8, 8, None]))
    resnet_utils.check_inputs(
        tf.compat.v1.placeholder(tf.float32, [None, None, None, 3]))


def test_root_block_output_stride():
  assert resnet_utils.root_block_output_stride(None) is None
  assert resnet_utils.root_block_output_stride(16) == 4
  with pytest.raises(ValueError, match='multiple of 4.*output_stride=6'):
    resnet_utils.root_block_output_stride(6)


def test_resnet_arg_scope_defaults():
  scope = resnet_utils.resnet_arg_scope()
  bn = scope[slim.arg_scope_func_key(slim.batch_norm)]
  assert bn['decay'] == 0.997 and bn['epsilon'] == 1e-5 and bn['scale']
  assert bn['updates_collections'] == tf.compat.v1.GraphKeys.UPDATE_OPS
  conv = scope[slim.arg_scope_func_key(slim.conv2d)]
  assert conv['normalizer_fn'] is slim.batch_norm
  assert conv['activation_fn'] is tf.nn.relu
  assert scope[slim.arg_scope_func_key(slim.max_pool2d)]['padding'] == 'SAME'
  no_bn = resnet_utils.resnet_arg_scope(use_batch_norm=False)
  assert no_bn[slim.arg_scope_func_key(slim.conv2d)]['normalizer_fn'] is None


def _unit(inputs, depth, stride, rate=1, outputs_collections=None):
  """A 3x3 conv unit for stack_blocks_dense tests (weights fixed)."""
  return resnet_utils.conv2d_same(inputs, depth, 3, stride, rate=rate,
                                  scope='conv')


def test_stack_blocks_dense_atrous_equals_subsampled_nominal():
  """Dense output at output_stride k, subsampled, equals the nominal one."""
  blocks = [resnet_utils.Block('block%d' % (i + 1), _unit,
                               [{'depth': 2, 'stride': 1},
                                {'depth': 2, 'stride': 2}]) for i in range(3)]

  def fn():
    x = create_test_input(2, 17, 17, 1)
    outputs = {}
    with slim.arg_scope([slim.conv2d], activation_fn=None,
                        weights_initializer=tf.compat.v1.ones_initializer(),
                        biases_initializer=tf.compat.v1.zeros_initializer()):
      for output_stride in (1, 2, 4, 8, None):
        with tf.compat.v1.variable_scope('os_%s' % output_stride):
          outputs[output_stride] = resnet_utils.stack_blocks_dense(
              x, blocks, output_stride)
    return outputs
  outputs = run(fn)
  nominal = outputs[None]
  assert nominal.shape == (2, 3, 3, 2)
  for output_stride in (1, 2, 4, 8):
    factor = 8 // output_stride
    np.testing.assert_allclose(outputs[output_stride][:, ::factor, ::factor],
                               nominal, rtol=1e-5)


def test_stack_blocks_dense_unreachable_output_stride():
  blocks = [resnet_utils.Block('block1', _unit, [{'depth': 2, 'stride': 2}])]
  with tf.Graph().as_default():
    x = tf.zeros([1, 8, 8, 1])
    with pytest.raises(ValueError, match=r'cannot be reached.*\[1, 2\].*3'):
      resnet_utils.stack_blocks_dense(x, blocks, output_stride=3)
