"""The optimized inference graph equals the session graph (1e-4)."""
import numpy as np
import tensorflow as tf
import pytest

import netutil
from slim_resnet import resnet_v1
from slim_resnet import resnet_v2
from slim_resnet.checkpoints import errors
from slim_resnet.inference import batch_norm_folding
from slim_resnet.inference import frozen_weights
from slim_resnet.inference import inference_graph as optimize


@pytest.mark.parametrize('module,name,folded_all', [
    (resnet_v1, 'resnet_v1_18', True), (resnet_v2, 'resnet_v2_18', False),
    (resnet_v1, 'resnet_v1_50', True)])
def test_folded_graph_equals_session_graph(module, name, folded_all):
  built = netutil.build(getattr(module, name), module.resnet_arg_scope(),
                        [2, 64, 64, 3], num_classes=5, is_training=False,
                        depth_multiplier=0.25)
  netutil.randomize_batch_norm(built, seed=3)
  images = netutil.mesh_images([2, 64, 64, 3])
  output = built.end_points['predictions'].op.name
  logits = built.net.op.name
  expected = built.session.run([built.net, built.end_points['predictions']],
                               {built.inputs: images})
  graph_def = optimize.optimized_graph_def(built.session, 'inputs',
                                           [logits, output])
  batch_norms = optimize.count_ops(graph_def, 'FusedBatchNormV3')
  with built.graph.as_default():
    before = optimize.count_ops(built.graph.as_graph_def(), 'FusedBatchNormV3')
  assert before > 0
  assert optimize.count_ops(graph_def, 'VarHandleOp') == 0
  if folded_all:
    assert batch_norms == 0
  else:
    # preact of every unit and postnorm remain.
    units = len([k for k in built.end_points if k.endswith('basic_v2')])
    assert batch_norms == units + 1
  with optimize.InferenceSession(graph_def, 'inputs', [logits, output]) as run:
    got = run(images)
  for a, b in zip(got, expected):
    assert netutil.relative_difference(a, b) <= 1e-4
  built.session.close()


@pytest.mark.parametrize('module,name', [(resnet_v1, 'resnet_v1_18'),
                                         (resnet_v2, 'resnet_v2_18')])
def test_folded_values_in_a_net_without_batch_norm(module, name):
  kwargs = dict(num_classes=5, is_training=False, depth_multiplier=0.25)
  built = netutil.build(getattr(module, name), module.resnet_arg_scope(),
                        [2, 64, 64, 3], **kwargs)
  values = netutil.randomize_batch_norm(built, seed=4)
  images = netutil.mesh_images([2, 64, 64, 3])
  expected = built.session.run(built.net, {built.inputs: images})
  folded = batch_norm_folding.fold_batch_norm_values(values)
  plain = netutil.build(getattr(module, name),
                        module.resnet_arg_scope(use_batch_norm=False),
                        [2, 64, 64, 3], **kwargs)
  assert set(netutil.variables_by_name(plain)) == set(folded)
  netutil.load_values(plain, folded)
  got = plain.session.run(plain.net, {plain.inputs: images})
  assert netutil.relative_difference(got, expected) <= 1e-4
  with plain.graph.as_default():
    ops = {op.type for op in plain.graph.get_operations()}
  assert ('FusedBatchNormV3' in ops) == (name.startswith('resnet_v2'))


def test_restore_folded_from_a_checkpoint(tmp_path):
  kwargs = dict(num_classes=3, is_training=False, depth_multiplier=0.25)
  built = netutil.build(resnet_v1.resnet_v1_18, resnet_v1.resnet_arg_scope(),
                        [2, 64, 64, 3], **kwargs)
  netutil.randomize_batch_norm(built, seed=5)
  images = netutil.mesh_images([2, 64, 64, 3])
  expected = built.session.run(built.net, {built.inputs: images})
  with built.graph.as_default():
    path = tf.compat.v1.train.Saver().save(built.session,
                                           str(tmp_path / 'bn.ckpt'))
  plain = netutil.build(resnet_v1.resnet_v1_18,
                        resnet_v1.resnet_arg_scope(use_batch_norm=False),
                        [2, 64, 64, 3], **kwargs)
  plain.graph.finalize()
  loaded = batch_norm_folding.restore_folded(plain.session, path)
  assert 'resnet_v1_18/conv1/biases' in loaded
  got = plain.session.run(plain.net, {plain.inputs: images})
  assert netutil.relative_difference(got, expected) <= 1e-4
  other = netutil.build(resnet_v1.resnet_v1_18,
                        resnet_v1.resnet_arg_scope(use_batch_norm=False),
                        [2, 64, 64, 3], num_classes=3, is_training=False)
  with pytest.raises(errors.CheckpointMismatchError,
                     match='use_batch_norm=False'):
    batch_norm_folding.restore_folded(other.session, path)


def small_variances(built, values, seed):
  """Moving variances of 5e-6..5e-5 (gamma scaled to keep activations ~1),
  so that batch norm's epsilon (1e-5) changes every output."""
  rng = np.random.RandomState(seed)
  for name in values:
    if name.endswith('/moving_variance'):
      variance = rng.uniform(5e-6, 5e-5, values[name].shape).astype(np.float32)
      values[name] = variance
      gamma = name.replace('moving_variance', 'gamma')
      if gamma in values:
        values[gamma] = (values[gamma] * np.sqrt(variance)).astype(np.float32)
  netutil.load_values(built, values)
  return values


@pytest.mark.parametrize('module,name', [(resnet_v1, 'resnet_v1_18'),
                                         (resnet_v2, 'resnet_v2_18')])
def test_folding_keeps_epsilon_with_small_variances(module, name):
  """Catches folding without epsilon (s = gamma / sqrt(variance)): with
  variances ~1, as in the tests above, epsilon never mattered."""
  kwargs = dict(num_classes=5, is_training=False, depth_multiplier=0.25)
  built = netutil.build(getattr(module, name), module.resnet_arg_scope(),
                        [2, 64, 64, 3], **kwargs)
  values = small_variances(built, netutil.randomize_batch_norm(built, seed=6),
                           seed=7)
  images = netutil.mesh_images([2, 64, 64, 3])
  expected = built.session.run(built.net, {built.inputs: images})
  # In memory, for a net without batch norm ...
  plain = netutil.build(getattr(module, name),
                        module.resnet_arg_scope(use_batch_norm=False),
                        [2, 64, 64, 3], **kwargs)
  netutil.load_values(plain, batch_norm_folding.fold_batch_norm_values(values))
  got = plain.session.run(plain.net, {plain.inputs: images})
  assert netutil.relative_difference(got, expected) <= 1e-4
  # ... and in the optimized (frozen, folded) graph.
  logits = built.net.op.name
  graph_def = optimize.optimized_graph_def(built.session, 'inputs', [logits])
  with optimize.InferenceSession(graph_def, 'inputs', [logits]) as run:
    frozen, = run(images)
  assert netutil.relative_difference(frozen, expected) <= 1e-4


def test_weights_in_variables_equal_constants(tmp_path, monkeypatch):
  """weights='variables' (the float32 default) moves the conv weights out of
  the graph and gives the constants' logits exactly; from_file too; so does
  'mixed' (the big weights constants, the others variables)."""
  built = netutil.build(resnet_v1.resnet_v1_18, resnet_v1.resnet_arg_scope(),
                        [2, 64, 64, 3], num_classes=5, is_training=False,
                        depth_multiplier=0.25)
  netutil.randomize_batch_norm(built, seed=8)
  images = netutil.mesh_images([2, 64, 64, 3])
  logits = built.net.op.name
  graph_def = optimize.optimized_graph_def(built.session, 'inputs', [logits])
  built.session.close()
  weights = [n.name for n in graph_def.node if frozen_weights._weight_node(n)]  # pylint: disable=protected-access
  assert weights
  with optimize.InferenceSession(graph_def, 'inputs', [logits],
                                 weights='constants') as run:
    expected, = run(images)
  with optimize.InferenceSession(graph_def, 'inputs', [logits]) as run:
    assert run.weights == 'variables'
    got, = run(images)
    held = run.graph.as_graph_def()
  np.testing.assert_array_equal(got, expected)
  assert not [n for n in held.node if frozen_weights._weight_node(n)]  # pylint: disable=protected-access
  assert optimize.count_ops(held, 'VariableV2') == len(weights)
  assert optimize.count_ops(graph_def, 'VariableV2') == 0  # Not changed.
  path = str(tmp_path / 'frozen.pb')
  with open(path, 'wb') as f:
    f.write(graph_def.SerializeToString())
  with optimize.InferenceSession.from_file(path, 'inputs', [logits]) as run:
    np.testing.assert_array_equal(run(images)[0], expected)
  # 'mixed': the weights of MIXED_CONSTANT_ELEMENTS values or more stay
  # constants, the others are variables; same logits.
  sizes = sorted(int(np.prod([d.size for d in
                              n.attr['value'].tensor.tensor_shape.dim]))
                 for n in graph_def.node if frozen_weights._weight_node(n))  # pylint: disable=protected-access
  split = sizes[len(sizes) // 2]
  monkeypatch.setattr(frozen_weights, 'MIXED_CONSTANT_ELEMENTS', split)
  with optimize.InferenceSession(graph_def, 'inputs', [logits],
                                 weights='mixed') as run:
    np.testing.assert_array_equal(run(images)[0], expected)
    held = run.graph.as_graph_def()
  kept = [n for n in held.node if frozen_weights._weight_node(n)]  # pylint: disable=protected-access
  assert 0 < len(kept) < len(sizes)
  assert len(kept) == sum(1 for size in sizes if size >= split)
  assert optimize.count_ops(held, 'VariableV2') == len(sizes) - len(kept)
  # In bfloat16 (the GraphDef only; no bf16 CPU needed): the same split, both
  # sides stored as bf16, each weight's name a Cast of it to float32.
  placed, values = frozen_weights.place_weights(graph_def, 'mixed', 'bfloat16')
  bf16 = tf.bfloat16.as_datatype_enum
  nodes = {n.name: n for n in placed.node}
  def size(shape):
    return int(np.prod([d.size for d in shape.dim]))
  constants = [size(n.attr['value'].tensor.tensor_shape) for n in placed.node
               if n.op == 'Const' and n.attr['dtype'].type == bf16]
  variables = [size(n.attr['shape'].shape) for n in placed.node
               if n.op == 'VariableV2' and n.attr['dtype'].type == bf16]
  assert sorted(constants + variables) == sizes
  assert min(constants) >= split > max(variables)
  assert sorted(v.size for v in values.values()) == sorted(variables)
  assert {v.dtype for v in values.values()} == {np.dtype(tf.bfloat16.as_numpy_dtype)}
  for n in graph_def.node:
    if frozen_weights._weight_node(n):  # pylint: disable=protected-access
      assert nodes[n.name].op == 'Cast'
      assert nodes[n.name].attr['DstT'].type == tf.float32.as_datatype_enum
  with pytest.raises(ValueError):
    optimize.InferenceSession(graph_def, 'inputs', [logits], weights='disk')
