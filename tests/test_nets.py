"""Builders: checkpoint names, end_points, reuse, training, basic nets, errors."""
import numpy as np
import pytest
import tensorflow as tf
import tf_slim as slim

import netutil
import slim_resnet
from slim_resnet import configs
from slim_resnet import resnet_v1
from slim_resnet import resnet_v2

MODULES = {'resnet_v1': resnet_v1, 'resnet_v2': resnet_v2}


def build(name, input_shape=(2, 64, 64, 3), session=False, **kwargs):
  module = MODULES[name.rsplit('_', 1)[0]]
  return netutil.build(getattr(module, name), module.resnet_arg_scope(),
                       list(input_shape), session=session, **kwargs)


@pytest.fixture(scope='module')
def v1_50():
  return build('resnet_v1_50', num_classes=1000, is_training=False)


@pytest.fixture(scope='module')
def v2_50():
  return build('resnet_v2_50', num_classes=1001, is_training=False)


def shapes(built):
  return {n: v.shape.as_list()
          for n, v in netutil.variables_by_name(built).items()}


def test_v1_checkpoint_names(v1_50):
  names = shapes(v1_50)
  assert names['resnet_v1_50/conv1/weights'] == [7, 7, 3, 64]
  assert names['resnet_v1_50/conv1/BatchNorm/gamma'] == [64]
  assert names['resnet_v1_50/block1/unit_1/bottleneck_v1/shortcut/weights'] \
      == [1, 1, 64, 256]
  assert names['resnet_v1_50/block1/unit_1/bottleneck_v1/shortcut/BatchNorm/'
               'moving_mean'] == [256]
  assert names['resnet_v1_50/block4/unit_3/bottleneck_v1/conv3/weights'] == [
      1, 1, 512, 2048]
  assert names['resnet_v1_50/logits/weights'] == [1, 1, 2048, 1000]
  assert names['resnet_v1_50/logits/biases'] == [1000]
  assert not any('biases' in n for n in names if 'logits' not in n)
  with v1_50.graph.as_default():
    assert len(tf.compat.v1.model_variables()) == 267
  assert netutil.param_count(v1_50) == 25557032


def test_v2_checkpoint_names(v2_50):
  names = shapes(v2_50)
  assert names['resnet_v2_50/conv1/weights'] == [7, 7, 3, 64]
  assert names['resnet_v2_50/conv1/biases'] == [64]
  assert 'resnet_v2_50/conv1/BatchNorm/gamma' not in names
  assert names['resnet_v2_50/postnorm/gamma'] == [2048]
  assert names['resnet_v2_50/postnorm/moving_variance'] == [2048]
  assert names['resnet_v2_50/block1/unit_1/bottleneck_v2/preact/beta'] == [64]
  assert names['resnet_v2_50/block1/unit_1/bottleneck_v2/shortcut/biases'] == [
      256]
  assert names['resnet_v2_50/block1/unit_1/bottleneck_v2/conv3/biases'] == [256]
  assert names['resnet_v2_50/logits/biases'] == [1001]
  with v2_50.graph.as_default():
    assert len(tf.compat.v1.model_variables()) == 272
  # 25,568,360 at 1000 classes; one more class adds 2048 + 1.
  assert netutil.param_count(v2_50) == 25568360 + 2049


def test_v2_101_parameter_count():
  built = build('resnet_v2_101', num_classes=1000, is_training=False)
  assert netutil.param_count(built) == 44577896


@pytest.mark.slow
def test_v2_152_parameter_count():
  built = build('resnet_v2_152', num_classes=1000, is_training=False)
  assert netutil.param_count(built) == 60236904


def test_end_points_keys_and_shapes(v1_50):
  ep = v1_50.end_points
  expected = ['resnet_v1_50/conv1']
  for block, units in zip(range(1, 5), (3, 4, 6, 3)):
    for unit in range(1, units + 1):
      prefix = 'resnet_v1_50/block%d/unit_%d/bottleneck_v1' % (block, unit)
      expected += [prefix + '/conv1', prefix + '/conv2', prefix + '/conv3']
      if unit == 1:
        expected.append(prefix + '/shortcut')
      expected.append(prefix)
    expected.append('resnet_v1_50/block%d' % block)
  expected += ['global_pool', 'resnet_v1_50/logits',
               'resnet_v1_50/spatial_squeeze', 'predictions']
  assert sorted(ep) == sorted(expected)
  assert list(ep)[-4:] == expected[-4:]
  assert ep['resnet_v1_50/conv1'].shape.as_list() == [2, 32, 32, 64]
  assert ep['resnet_v1_50/block1'].shape.as_list() == [2, 8, 8, 256]
  assert ep['resnet_v1_50/block2'].shape.as_list() == [2, 4, 4, 512]
  assert ep['resnet_v1_50/block3'].shape.as_list() == [2, 2, 2, 1024]
  assert ep['resnet_v1_50/block4'].shape.as_list() == [2, 2, 2, 2048]
  assert ep['global_pool'].shape.as_list() == [2, 1, 1, 2048]
  assert ep['resnet_v1_50/logits'].shape.as_list() == [2, 1, 1, 1000]
  assert ep['predictions'].shape.as_list() == [2, 1000]
  assert v1_50.net is ep['resnet_v1_50/spatial_squeeze']


def test_store_non_strided_activations():
  built = build('resnet_v1_18', num_classes=None, global_pool=False,
                store_non_strided_activations=True)
  ep = built.end_points
  assert ep['resnet_v1_18/block1'].shape.as_list() == [2, 16, 16, 64]
  assert ep['resnet_v1_18/block2'].shape.as_list() == [2, 8, 8, 128]
  assert ep['resnet_v1_18/block3'].shape.as_list() == [2, 4, 4, 256]
  assert built.net.shape.as_list() == [2, 2, 2, 512]


@pytest.mark.parametrize('name', ['resnet_v1_18', 'resnet_v2_50'])
def test_non_strided_activations_subsample_to_the_nominal_ones(name):
  """By value: each stored block output, subsampled by its stride, is the
  nominal block output, and the final features are the same."""
  module = MODULES[name.rsplit('_', 1)[0]]
  builder = getattr(module, name)
  with tf.Graph().as_default():
    tf.compat.v1.set_random_seed(0)
    images = tf.compat.v1.placeholder(tf.float32, [2, 64, 64, 3])
    with slim.arg_scope(module.resnet_arg_scope()):
      nominal, nominal_ep = builder(images, None, False, False,
                                    depth_multiplier=0.25)
      dense, dense_ep = builder(images, None, False, False, reuse=True,
                                store_non_strided_activations=True,
                                depth_multiplier=0.25)
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      netutil.randomize_batch_norm(netutil.Built(
          tf.compat.v1.get_default_graph(), sess, images, nominal,
          nominal_ep), seed=3)
      keys = ['%s/block%d' % (name, i) for i in (1, 2, 3)]
      got = sess.run([nominal, dense] + [nominal_ep[k] for k in keys] +
                     [dense_ep[k] for k in keys],
                     {images: np.random.RandomState(1).uniform(
                         -1, 1, [2, 64, 64, 3])})
  # Dense and strided convolutions sum in other orders: float rounding of
  # the largest values (10^3 here with random batch norm) reaches the small
  # ones, so the tolerance is of the scale (AVX2 kernels showed 1e-6 of it).
  close = lambda a, b: np.testing.assert_allclose(
      a, b, rtol=1e-4, atol=1e-5 * max(1.0, float(np.abs(b).max())))
  close(got[1], got[0])
  for nominal_block, dense_block in zip(got[2:5], got[5:]):
    assert dense_block.shape[1] == 2 * nominal_block.shape[1]
    close(dense_block[:, ::2, ::2], nominal_block)


def test_reuse_shares_variables_and_towers_build():
  with tf.Graph().as_default():
    images = tf.compat.v1.placeholder(tf.float32, [2, 32, 32, 3])
    with slim.arg_scope(resnet_v1.resnet_arg_scope()):
      for tower in range(2):
        with tf.name_scope('tower_%d' % tower):
          net, _ = resnet_v1.resnet_v1_18(images, 5, is_training=False,
                                          reuse=tower > 0)
      count = len(tf.compat.v1.global_variables())
      # A second model under another scope has its own variables.
      resnet_v1.resnet_v1_18(images, 5, is_training=False,
                             scope='resnet_v1_18_b')
      names = [v.op.name for v in tf.compat.v1.global_variables()]
  assert count == len(names) // 2
  assert all(n.startswith(('resnet_v1_18/', 'resnet_v1_18_b/')) for n in names)
  assert net.name.startswith('tower_1/')


def test_reuse_without_existing_variables_fails():
  with tf.Graph().as_default():
    images = tf.compat.v1.placeholder(tf.float32, [2, 32, 32, 3])
    with slim.arg_scope(resnet_v1.resnet_arg_scope()):
      with pytest.raises(ValueError, match='does not exist'):
        resnet_v1.resnet_v1_18(images, 5, reuse=True)


@pytest.mark.parametrize('name', ['resnet_v1_18', 'resnet_v2_18'])
def test_training_updates_moving_averages(name):
  built = build(name, num_classes=4, is_training=True, session=True,
                depth_multiplier=0.25)
  with built.graph.as_default():
    labels = tf.constant([0, 1])
    loss = tf.compat.v1.losses.sparse_softmax_cross_entropy(labels, built.net)
    update_ops = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)
    assert update_ops
    with tf.control_dependencies(update_ops):
      train_op = tf.compat.v1.train.GradientDescentOptimizer(0.05).minimize(
          loss)
    mean = [v for v in tf.compat.v1.global_variables()
            if v.op.name == name + '/conv1/BatchNorm/moving_mean' or
            v.op.name.endswith('unit_1/%s/preact/moving_mean' % (
                'basic_v2'))][0]
    weights = [v for v in tf.compat.v1.trainable_variables()
               if v.op.name == name + '/logits/weights'][0]
    sess = built.session
    sess.run(tf.compat.v1.variables_initializer(
        tf.compat.v1.global_variables()))
    before_mean, before_w = sess.run([mean, weights])
    images = netutil.mesh_images([2, 64, 64, 3])
    loss_before = sess.run(loss, {built.inputs: images})
    for _ in range(5):
      sess.run(train_op, {built.inputs: images})
    after_mean, after_w = sess.run([mean, weights])
    loss_after = sess.run(loss, {built.inputs: images})
  assert np.abs(after_mean - before_mean).max() > 0
  assert np.abs(after_w - before_w).max() > 0
  assert np.isfinite(loss_after) and loss_after < loss_before


def basic_net_parameters(version, num_units, num_classes=1000):
  """Trainable parameters of a basic-block net, counted layer by layer."""
  bn = 2  # gamma, beta per channel
  total = 7 * 7 * 3 * 64 + (64 * bn if version == 'v1' else 64)
  depth_in = 64
  for base, units in zip(configs.BASE_DEPTHS, num_units):
    for _ in range(units):
      d = base
      if version == 'v1':
        unit = 9 * depth_in * d + d * bn + 9 * d * d + d * bn
        if depth_in != d:
          unit += depth_in * d + d * bn
      else:
        unit = depth_in * bn + 9 * depth_in * d + d * bn + 9 * d * d + d
        if depth_in != d:
          unit += depth_in * d + d
      total += unit
      depth_in = d
  if version == 'v2':
    total += depth_in * bn  # postnorm
  return total + depth_in * num_classes + num_classes


@pytest.mark.parametrize('name,expected', [
    ('resnet_v1_18', 11689512), ('resnet_v1_34', 21797672),
    ('resnet_v2_18', None), ('resnet_v2_34', None)])
def test_basic_nets_parameter_counts(name, expected):
  """v1 counts are torchvision's resnet18 / resnet34."""
  version = name.split('_')[1]
  depth = int(name.rsplit('_', 1)[1])
  count = basic_net_parameters(version, configs.ARCHITECTURES[depth].num_units)
  if expected is not None:
    assert count == expected
  built = build(name, num_classes=1000, is_training=False)
  assert netutil.param_count(built) == count
  unit = name + '/block1/unit_1/basic_%s/conv1/weights' % version
  assert shapes(built)[unit] == [3, 3, 64, 64]


@pytest.mark.parametrize('name', ['resnet_v1_18', 'resnet_v2_18',
                                  'resnet_v1_50'])
def test_dense_outputs_equal_subsampled_nominal(name):
  """As research/slim's testAtrousFullyConvolutionalValues, every family."""
  outputs = {}
  images = netutil.mesh_images([2, 81, 81, 3])
  for output_stride in (None, 8, 16):
    built = build(name, (2, 81, 81, 3), session=True, num_classes=None,
                  is_training=False, global_pool=False,
                  output_stride=output_stride, depth_multiplier=0.125)
    if output_stride is None:
      values = netutil.randomize_batch_norm(built, seed=1)
    else:
      netutil.load_values(built, values)
    outputs[output_stride] = built.session.run(built.net,
                                               {built.inputs: images})
    built.session.close()
  nominal = outputs[None]
  assert nominal.shape[1:3] == (3, 3)
  for output_stride in (8, 16):
    factor = 32 // output_stride
    dense = outputs[output_stride][:, ::factor, ::factor]
    assert netutil.relative_difference(dense, nominal) < 1e-4


def test_unknown_batch_and_size_run():
  built = build('resnet_v2_18', (None, None, None, 3), session=True,
                num_classes=3, is_training=False, depth_multiplier=0.25)
  for shape in ([1, 40, 40, 3], [3, 65, 33, 3]):
    out = built.session.run(built.net, {built.inputs: np.zeros(shape)})
    assert out.shape == (shape[0], 3)


def test_is_training_none_leaves_batch_norm_to_outer_scope():
  with tf.Graph().as_default():
    images = tf.compat.v1.placeholder(tf.float32, [2, 32, 32, 3])
    with slim.arg_scope(resnet_v1.resnet_arg_scope()):
      with slim.arg_scope([slim.batch_norm], is_training=False):
        resnet_v1.resnet_v1_18(images, 3, is_training=None)
    assert not tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)


def test_depth_multiplier_and_min_base_depth():
  built = build('resnet_v1_50', num_classes=None, depth_multiplier=0.25,
                min_base_depth=32)
  names = shapes(built)
  # base depths 64, 128, 256, 512 -> 16->32 (min), 32, 64, 128.
  assert names['resnet_v1_50/block1/unit_1/bottleneck_v1/conv1/weights'] == [
      1, 1, 64, 32]
  assert names['resnet_v1_50/block4/unit_1/bottleneck_v1/conv3/weights'] == [
      1, 1, 128, 512]


def test_errors():
  with tf.Graph().as_default():
    with slim.arg_scope(resnet_v1.resnet_arg_scope()):
      with pytest.raises(ValueError, match='4-D tensor'):
        resnet_v1.resnet_v1_18(tf.zeros([64, 64, 3]))
      with pytest.raises(ValueError, match='known number of channels'):
        resnet_v1.resnet_v1_18(
            tf.compat.v1.placeholder(tf.float32, [1, 64, 64, None]))
      images = tf.zeros([1, 64, 64, 3])
      with pytest.raises(ValueError, match='multiple of 4'):
        resnet_v1.resnet_v1_18(images, output_stride=6, scope='a')
      with pytest.raises(ValueError, match='cannot be reached'):
        resnet_v1.resnet_v1_18(images, output_stride=64, scope='b')
      with pytest.raises(ValueError, match=r'1x1 logits.*2x2.*global_pool=True'
                         r' or spatial_squeeze=False'):
        resnet_v1.resnet_v1_18(images, 10, global_pool=False, scope='c')
  with pytest.raises(ValueError, match='resnet_v3_50.*resnet_v1_18, '):
    slim_resnet.get_network_fn('resnet_v3_50', 10)


def test_network_factory():
  assert len(slim_resnet.list_networks()) == 12
  network_fn = slim_resnet.get_network_fn('resnet_v2_34', num_classes=6,
                                          weight_decay=0.001)
  assert network_fn.default_image_size == 224
  with tf.Graph().as_default():
    logits, end_points = network_fn(tf.zeros([2, 32, 32, 3]))
    assert logits.shape.as_list() == [2, 6]
    assert 'resnet_v2_34/block4' in end_points
    losses = tf.compat.v1.get_collection(
        tf.compat.v1.GraphKeys.REGULARIZATION_LOSSES)
    assert len(losses) == len([v for v in tf.compat.v1.trainable_variables()
                               if v.op.name.endswith('weights')])
    assert not tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)


def test_builders_names_and_scopes():
  """(Their positional signatures: test_signatures.py.)"""
  import inspect
  for name, fn in slim_resnet.networks_map.items():
    assert fn.__name__ == name
    assert inspect.signature(fn).parameters['scope'].default == name
    assert fn.default_image_size == 224
