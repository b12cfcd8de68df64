"""Restore: reference-written checkpoints into our graphs, and every report."""
import numpy as np
import pytest
import tensorflow as tf
import tf_slim as slim

import ckptutil
import netutil
from slim_resnet import checkpoints
from slim_resnet import resnet_v1
from slim_resnet import resnet_v2


@pytest.fixture(scope='module')
def v1(tmp_path_factory):
  """The reference resnet_v1_50 (1000 classes) and its V1 and V2 files."""
  ref, values = ckptutil.reference('resnet_v1_50', 1000)
  root = tmp_path_factory.mktemp('v1')
  extras = ckptutil.official_extras('resnet_v1_50')
  paths = {version: ckptutil.save(values, str(root / ('v%d' % version) /
                                              'resnet_v1_50.ckpt'),
                                  version, extras)
           for version in (1, 2)}
  images = netutil.mesh_images(ckptutil.SHAPE)
  logits = ref.session.run(ref.net, {ref.inputs: images})
  ref.session.close()
  return {'values': values, 'paths': paths, 'logits': logits,
          'images': images}


@pytest.fixture(scope='module')
def v2(tmp_path_factory):
  """The reference resnet_v2_50 with 1001 classes, as the official files."""
  ref, values = ckptutil.reference('resnet_v2_50', 1001)
  path = ckptutil.save(values, str(tmp_path_factory.mktemp('v2') /
                                   'resnet_v2_50.ckpt'), 1,
                       {'global_step': np.array(5, np.int64)})
  images = netutil.mesh_images(ckptutil.SHAPE)
  probabilities = ref.session.run(ref.end_points['predictions'],
                                  {ref.inputs: images})
  ref.session.close()
  return {'values': values, 'path': path, 'probabilities': probabilities,
          'images': images}


def ours(module, name, num_classes, scope=None, arg_scope=True, outer=None,
         outer_variable_scope=None, **kwargs):
  """Our net; `outer` is a name scope (variables keep their names),
  `outer_variable_scope` one that prefixes the variable names too."""
  graph = tf.Graph()
  with graph.as_default():
    images = tf.compat.v1.placeholder(tf.float32, ckptutil.SHAPE)
    context = (slim.arg_scope(module.resnet_arg_scope()) if arg_scope
               else slim.arg_scope([]))
    variable_scope = (tf.compat.v1.variable_scope(outer_variable_scope)
                      if outer_variable_scope else slim.arg_scope([]))
    with context, tf.name_scope(outer) if outer else slim.arg_scope([]), \
        variable_scope:
      net, end_points = getattr(module, name)(
          images, num_classes, is_training=False, spatial_squeeze=False,
          scope=scope or name, **kwargs)
    sess = tf.compat.v1.Session(graph=graph)
    sess.run(tf.compat.v1.global_variables_initializer())
  return netutil.Built(graph, sess, images, net, end_points)


@pytest.mark.parametrize('version', [1, 2])
def test_restore_gives_the_reference_outputs(v1, version):
  built = ours(resnet_v1, 'resnet_v1_50', 1000)
  restored = checkpoints.restore(built.session, v1['paths'][version])
  assert len(restored) == 267
  logits = built.session.run(built.net, {built.inputs: v1['images']})
  assert netutil.relative_difference(logits, v1['logits']) <= 1e-4


def test_exclude_logits_for_a_new_head(v1):
  built = ours(resnet_v1, 'resnet_v1_50', 5)
  head_before = netutil.value(built, 'resnet_v1_50/logits/weights')
  checkpoints.restore(built.session, v1['paths'][2],
                      exclude_scopes=['resnet_v1_50/logits'])
  after = netutil.value(built)
  for name, value in after.items():
    if name.startswith('resnet_v1_50/logits'):
      continue
    np.testing.assert_array_equal(value, v1['values'][name])
  np.testing.assert_array_equal(after['resnet_v1_50/logits/weights'],
                                head_before)



@pytest.mark.parametrize('where', ['tower_0/', 'my_net/'])
def test_exclude_the_checkpoint_scope_of_a_moved_head(v1, where):
  """exclude_scopes names the head as the checkpoint (and the hint) does."""
  if where == 'tower_0/':
    built = ours(resnet_v1, 'resnet_v1_50', 5, outer_variable_scope='tower_0')
    options, prefix = {}, 'tower_0/resnet_v1_50/'
  else:
    built = ours(resnet_v1, 'resnet_v1_50', 5, scope='my_net')
    options = {'var_scope_map': {'my_net/': 'resnet_v1_50/'}}
    prefix = 'my_net/'
  head = prefix + 'logits/weights'
  head_before = netutil.value(built, head)
  restored = checkpoints.restore(built.session, v1['paths'][2],
                                 exclude_scopes=['resnet_v1_50/logits'],
                                 **options)
  assert len(restored) == 265
  after = netutil.value(built)
  assert all(n.startswith(prefix) for n in after)
  for name, value in after.items():
    if not name.startswith(prefix + 'logits'):
      np.testing.assert_array_equal(
          value, v1['values']['resnet_v1_50/' + name[len(prefix):]])
  np.testing.assert_array_equal(after[head], head_before)

def test_include_scopes_restores_only_those(v1):
  built = ours(resnet_v1, 'resnet_v1_50', 1000)
  before = netutil.value(built)
  restored = checkpoints.restore(built.session, v1['paths'][2],
                                 include_scopes=['resnet_v1_50/block1'])
  assert restored and all(n.startswith('resnet_v1_50/block1/')
                          for n in restored)
  after = netutil.value(built)
  for name, value in after.items():
    expected = (v1['values'][name] if name.startswith('resnet_v1_50/block1/')
                else before[name])
    np.testing.assert_array_equal(value, expected)


def test_1001_to_1000_drops_the_background(v2):
  built = ours(resnet_v2, 'resnet_v2_50', 1000)
  with built.graph.as_default():
    init_fn = checkpoints.get_init_fn(v2['path'])
  init_fn(built.session)
  assert [f[2] for f in init_fn.fixes] == ['drop_background'] * 2
  weights = netutil.value(built, 'resnet_v2_50/logits/weights')
  np.testing.assert_array_equal(
      weights, v2['values']['resnet_v2_50/logits/weights'][..., 1:])
  logits = built.session.run(built.net, {built.inputs: v2['images']})
  np.testing.assert_array_equal(
      np.argmax(logits.reshape(2, -1), 1),
      np.argmax(v2['probabilities'][:, 0, 0, 1:], 1))


def test_1000_to_1001_adds_a_background(v1):
  built = ours(resnet_v1, 'resnet_v1_50', 1001)
  checkpoints.restore(built.session, v1['paths'][1])
  biases = netutil.value(built, 'resnet_v1_50/logits/biases')
  assert biases[0] == checkpoints.restorer.BACKGROUND_BIAS
  np.testing.assert_array_equal(biases[1:],
                                v1['values']['resnet_v1_50/logits/biases'])
  probabilities = built.session.run(built.end_points['predictions'],
                                    {built.inputs: v1['images']})
  assert probabilities[..., 0].max() < 1e-6


def test_outer_scope_and_renamed_scope(v1):
  tower = ours(resnet_v1, 'resnet_v1_50', 1000, outer='tower_0')
  checkpoints.restore(tower.session, v1['paths'][2])
  logits = tower.session.run(tower.net, {tower.inputs: v1['images']})
  assert netutil.relative_difference(logits, v1['logits']) <= 1e-4
  renamed = ours(resnet_v1, 'resnet_v1_50', 1000, scope='my_net')
  with pytest.raises(checkpoints.CheckpointMismatchError,
                     match=r"var_scope_map=\{'my_net/': 'resnet_v1_50/'\}"):
    checkpoints.restore(renamed.session, v1['paths'][2])
  checkpoints.restore(renamed.session, v1['paths'][2],
                      var_scope_map={'my_net/': 'resnet_v1_50/'})
  logits = renamed.session.run(renamed.net, {renamed.inputs: v1['images']})
  assert netutil.relative_difference(logits, v1['logits']) <= 1e-4


def test_report_without_arg_scope(v1):
  built = ours(resnet_v1, 'resnet_v1_50', 1000, arg_scope=False)
  with pytest.raises(checkpoints.CheckpointMismatchError) as info:
    checkpoints.restore(built.session, v1['paths'][2])
  message = str(info.value)
  assert 'resnet_arg_scope()' in message
  assert 'missing from the checkpoint' in message
  assert 'resnet_v1_50/conv1/biases' in message
  assert info.value.report.missing


def test_report_v2_graph_v1_checkpoint(v1):
  built = ours(resnet_v2, 'resnet_v2_50', 1000, scope='resnet_v1_50')
  with pytest.raises(checkpoints.CheckpointMismatchError,
                     match='checkpoint is a resnet_v1.*graph a resnet_v2'):
    checkpoints.restore(built.session, v1['paths'][2])


def test_report_class_counts(v1, v2):
  other = ours(resnet_v1, 'resnet_v1_50', 5)
  with pytest.raises(checkpoints.CheckpointMismatchError,
                     match=r'exclude_scopes=\["resnet_v1_50/logits"\]'):
    checkpoints.restore(other.session, v1['paths'][2])
  built = ours(resnet_v2, 'resnet_v2_50', 1000)
  with pytest.raises(checkpoints.CheckpointMismatchError,
                     match='1001 classes and the graph 1000: .*build with '
                     'num_classes=1001'):
    checkpoints.restore(built.session, v2['path'], labels_offset_mode='off')


def test_ignore_missing_vars_and_moving_averages(v1, tmp_path):
  values = dict(v1['values'])
  del values['resnet_v1_50/logits/biases']
  shadow = np.full([1000, ], 0.5, np.float32)
  shadow_weights = v1['values']['resnet_v1_50/logits/weights'] * 2
  path = ckptutil.save(values, str(tmp_path / 'ema.ckpt'), 2, {
      'resnet_v1_50/logits/weights/ExponentialMovingAverage': shadow_weights,
      'resnet_v1_50/logits/biases/ExponentialMovingAverage': shadow})
  built = ours(resnet_v1, 'resnet_v1_50', 1000)
  with pytest.raises(checkpoints.CheckpointMismatchError,
                     match='resnet_v1_50/logits/biases'):
    checkpoints.restore(built.session, path)
  marker = np.full([1000], 7.0, np.float32)  # Not in the checkpoint.
  netutil.load_values(built, dict(netutil.value(built), **{
      'resnet_v1_50/logits/biases': marker}))
  checkpoints.restore(built.session, path, ignore_missing_vars=True)
  np.testing.assert_array_equal(
      netutil.value(built, 'resnet_v1_50/logits/weights'),
      v1['values']['resnet_v1_50/logits/weights'])
  np.testing.assert_array_equal(  # The skipped variable kept its value.
      netutil.value(built, 'resnet_v1_50/logits/biases'), marker)
  with pytest.raises(checkpoints.CheckpointMismatchError,
                     # 161 trainable (53 conv weights, 53 gamma/beta pairs,
                     # the logits' 2), of which the 2 logits are shadowed.
                     match='restore_moving_averages: 159 of the trainable '
                     'variables restored have no ExponentialMovingAverage'):
    checkpoints.restore(built.session, path, restore_moving_averages=True)
  checkpoints.restore(built.session, path, restore_moving_averages=True,
                      ignore_missing_averages=True)
  np.testing.assert_array_equal(
      netutil.value(built, 'resnet_v1_50/logits/weights'), shadow_weights)
  np.testing.assert_array_equal(
      netutil.value(built, 'resnet_v1_50/logits/biases'), shadow)


def test_describe_official_style_checkpoints(v1, v2):
  info = checkpoints.describe_checkpoint(v1['paths'][1])
  assert (info.model, info.scope, info.num_classes) == ('resnet_v1_50',
                                                        'resnet_v1_50', 1000)
  assert info.depth_multiplier == 1.0
  assert sorted(info.extras) == ['global_step', 'resnet_v1_50/mean_rgb']
  assert len(info.model_variables) == 267
  trainable = 25557032
  assert info.parameters > trainable
  info = checkpoints.describe_checkpoint(v2['path'])
  assert (info.model, info.num_classes, info.version) == ('resnet_v2_50', 1001,
                                                          'v2')
  assert info.num_units == (3, 4, 6, 3)


def test_unreadable_checkpoint(tmp_path):
  bad = tmp_path / 'bad.ckpt'
  bad.write_bytes(b'not a checkpoint')
  with pytest.raises(checkpoints.CheckpointError, match='cannot read'):
    checkpoints.read_checkpoint(str(bad))


def test_init_fn_restores_another_checkpoint_of_the_same_variables(tmp_path):
  """init_fn(sess, path) loads a later checkpoint without new ops."""
  from slim_resnet.checkpoints import restorer  # pylint: disable=g-import-not-at-top
  first = ckptutil.save({'net/w': np.full([2], 1.0, np.float32)},
                        str(tmp_path / 'a' / 'model.ckpt'))
  second = ckptutil.save({'net/w': np.full([2], 2.0, np.float32)},
                         str(tmp_path / 'b' / 'model.ckpt'))
  with tf.Graph().as_default() as graph:
    var = tf.compat.v1.get_variable('net/w', [2])
    init_fn = restorer.get_init_fn(first, var_list=[var])
    graph.finalize()
    with tf.compat.v1.Session() as sess:
      init_fn(sess)
      np.testing.assert_array_equal(sess.run(var), [1.0, 1.0])
      init_fn(sess, second)
      np.testing.assert_array_equal(sess.run(var), [2.0, 2.0])


@pytest.mark.parametrize('prefix', ['net', 'net/'])
def test_var_scope_map_prefixes_are_scopes(prefix):
  """issue 26 item 17: 'net' also renamed network/... (no '/' boundary)."""
  from slim_resnet.checkpoints import restorer  # pylint: disable=g-import-not-at-top
  ckpt = {'resnet_v1_50/conv1/weights': [1], 'network/conv1/weights': [1]}
  mapping = {prefix: 'resnet_v1_50' + prefix[3:]}
  name = restorer._checkpoint_name  # pylint: disable=protected-access
  assert name('net/conv1/weights', ckpt, mapping) == 'resnet_v1_50/conv1/weights'
  assert name('network/conv1/weights', ckpt, mapping) == 'network/conv1/weights'
