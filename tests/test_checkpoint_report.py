"""report.compare on name dicts: each hint, without building graphs."""
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
