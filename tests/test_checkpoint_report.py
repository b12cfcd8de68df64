"""report.compare on name dicts: each hint, without building graphs."""
import pytest

from slim_resnet.checkpoints import errors
from slim_resnet.checkpoints import report


def v1_names(scope='resnet_v1_50', units=(3, 4, 6, 3), classes=1000):
  shapes = {scope + '/conv1/weights': (7, 7, 3, 64)}
  for b, n in enumerate(units, 1):
    for u in range(1, n + 1):
      prefix = '%s/block%d/unit_%d/bottleneck_v1/' % (scope, b, u)
      shapes[prefix + 'conv1/weights'] = (1, 1, 64, 64 * 2 ** (b - 1))
  shapes[scope + '/logits/weights'] = (1, 1, 2048, classes)
  shapes[scope + '/logits/biases'] = (classes,)
  return shapes


def test_depth_hint():
  result = report.compare(v1_names(units=(3, 4, 6, 3)),
                          v1_names(units=(3, 4, 23, 3)))
  # Every name of the 50 is in the 101: only the architecture check fails.
  assert result.missing == [] and not result.shape_mismatches
  assert not result.ok
  assert result.architecture == ('the checkpoint holds resnet_v1_101, the '
                                 'graph is resnet_v1_50')
  assert any('holds resnet_v1_101' in h and 'build resnet_v1_101' in h
             for h in result.hints)


def test_ok_when_equal():
  result = report.compare(v1_names(), v1_names())
  assert result.ok and not result.hints and not result.unexpected


def test_format_lists_at_most_ten():
  graph = {'a/x%d' % i: (1,) for i in range(15)}
  text = report.format_report(report.compare(graph, {}), 'ckpt')
  assert 'missing from the checkpoint (15)' in text
  assert '... 5 more' in text


def _renamed(shapes, old, new):
  return {n.replace(old, new): s for n, s in shapes.items()}


def _hints(graph, ckpt):
  result = report.compare(graph, ckpt)
  assert not result.ok
  return ' | '.join(result.hints)


def test_version_hint():
  ckpt = _renamed(v1_names(), 'bottleneck_v1', 'bottleneck_v2')
  ckpt['resnet_v1_50/postnorm/gamma'] = (2048,)
  assert ('the checkpoint is a resnet_v2 (bottleneck_v2 units) and the graph '
          'a resnet_v1') in _hints(v1_names(), ckpt)


def test_arg_scope_hint():
  ckpt = {'resnet_v1_50/conv1/weights': (7, 7, 3, 64),
          'resnet_v1_50/conv1/BatchNorm/moving_mean': (64,)}
  graph = {'resnet_v1_50/conv1/weights': (7, 7, 3, 64),
           'resnet_v1_50/conv1/biases': (64,)}
  assert 'slim.arg_scope(resnet_vX.resnet_arg_scope())' in _hints(graph, ckpt)


def test_scope_prefix_hint():
  graph = _renamed(v1_names(), 'resnet_v1_50/', 'my_net/')
  assert "var_scope_map={'my_net/': 'resnet_v1_50/'}" in _hints(graph,
                                                                 v1_names())


@pytest.mark.parametrize('graph_classes, ckpt_classes, hint', [
    (1000, 1001, 'build with num_classes=1001; if one side\'s class 0 is a '
     'background class, restore with labels_offset_mode="drop_background"'),
    (1001, 1000, 'labels_offset_mode="add_background"'),
    (5, 1000, 'exclude_scopes=["resnet_v1_50/logits"]'),
])
def test_class_count_hints(graph_classes, ckpt_classes, hint):
  result = report.compare(v1_names(classes=graph_classes),
                          v1_names(classes=ckpt_classes))
  assert len(result.shape_mismatches) == 2 and not result.missing
  assert hint in ' | '.join(result.hints)
  assert hint in report.format_report(result, 'x.ckpt')


def test_error_carries_the_report():
  result = report.compare(v1_names(classes=5), v1_names())
  with pytest.raises(errors.CheckpointMismatchError) as info:
    report.raise_if_mismatch(result, 'x.ckpt')
  assert info.value.report is result
  assert isinstance(info.value, ValueError)
  assert isinstance(info.value, errors.CheckpointError)
