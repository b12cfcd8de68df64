"""The optimized inference graph equals the session graph (1e-4)."""
import numpy as np
import pytest

import netutil
from slim_resnet import optimize
from slim_resnet import resnet_v1
from slim_resnet import resnet_v2


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
