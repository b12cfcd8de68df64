"""inspect_checkpoint: V1 and V2 files, extras, and the model they fit."""
import numpy as np
import pytest

import ckptutil
import netutil
from slim_resnet import resnet_v1
from slim_resnet import resnet_v2
from slim_resnet.checkpoints import inspect_checkpoint

SHAPE = [2, 32, 32, 3]


def _values(module, name, num_classes):
  built = netutil.build(getattr(module, name), module.resnet_arg_scope(),
                        SHAPE, num_classes=num_classes, is_training=False,
                        depth_multiplier=0.125)
  values = built.session.run(netutil.variables_by_name(built))
  built.session.close()
  return values


def _slots(values):
  """What an RMSProp run with moving averages adds to a training checkpoint."""
  extras = {'global_step': np.array(7, np.int64)}
  for name, value in values.items():
    for slot in ('RMSProp', 'RMSProp_1', 'ExponentialMovingAverage'):
      extras['%s/%s' % (name, slot)] = value
  return extras


@pytest.fixture(scope='module')
def files(tmp_path_factory):
  """resnet_v2_18 (3 classes, with slots) in V1 and V2; resnet_v1_18 (no
  logits) in V2; and the model values."""
  root = tmp_path_factory.mktemp('inspect')
  v2 = _values(resnet_v2, 'resnet_v2_18', 3)
  v1 = _values(resnet_v1, 'resnet_v1_18', None)
  return {
      'v2': v2,
      'v2_v1_format': ckptutil.save(v2, str(root / 'a' / 'v2.ckpt'), 1,
                                    _slots(v2)),
      'v2_v2_format': ckptutil.save(v2, str(root / 'b' / 'v2.ckpt'), 2,
                                    _slots(v2)),
      'v1_no_logits': ckptutil.save(v1, str(root / 'c' / 'v1.ckpt'), 2),
  }


def test_v1_and_v2_formats_read_the_same(files):
  old = inspect_checkpoint.read_checkpoint(files['v2_v1_format'])
  new = inspect_checkpoint.read_checkpoint(files['v2_v2_format'])
  assert list(old.items()) == list(new.items())
  assert list(old) == sorted(old)
  assert old['global_step'] == ((), 'int64')
  assert old['resnet_v2_18/logits/biases'] == ((3,), 'float32')


@pytest.mark.parametrize('version', [1, 2])
def test_describe_finds_the_model_and_the_extras(files, version):
  info = inspect_checkpoint.describe_checkpoint(
      files['v2_v%d_format' % version])
  assert (info.model, info.scope, info.version, info.unit, info.depth) == (
      'resnet_v2_18', 'resnet_v2_18', 'v2', 'basic', 18)
  assert info.num_units == (2, 2, 2, 2)
  assert (info.num_classes, info.depth_multiplier) == (3, 0.125)
  model = files['v2']
  assert sorted(info.model_variables) == sorted(model)
  assert len(info.extras) == 1 + 3 * len(model)
  assert 'resnet_v2_18/postnorm/gamma/RMSProp_1' in info.extras
  assert info.parameters == sum(v.size for v in model.values())


def test_describe_without_logits(files):
  info = inspect_checkpoint.describe_checkpoint(files['v1_no_logits'])
  assert (info.model, info.num_classes, info.extras) == ('resnet_v1_18', None,
                                                         [])


def test_describe_something_else():
  info = inspect_checkpoint.describe_checkpoint(
      'fake', {'dense/kernel': ((3, 4), 'float32'), 'global_step': ((),
                                                                   'int64')})
  assert info.model is None and 'no ResNet unit' in info.reason
  assert (info.extras, info.parameters) == (['global_step'], 12)


def test_is_extra():
  for name in ('global_step', 'resnet_v1_50/mean_rgb', 'a/weights/Momentum',
               'a/weights/RMSProp_1', 'a/weights/ExponentialMovingAverage',
               'a/weights/Adam_1'):
    assert inspect_checkpoint.is_extra(name), name
  for name in ('a/BatchNorm/moving_mean', 'a/logits/biases'):
    assert not inspect_checkpoint.is_extra(name), name


def test_format_description(files):
  info = inspect_checkpoint.describe_checkpoint(files['v2_v2_format'])
  text = inspect_checkpoint.format_description(info, max_variables=5)
  assert 'model: resnet_v2_18' in text and 'num_classes: 3' in text
  assert '(extra)' in text and '... %d more' % (len(info.variables) - 5) in text


def _shapes(module, name, **options):
  built = netutil.build(getattr(module, name), module.resnet_arg_scope(),
                        SHAPE, num_classes=2, is_training=False, **options)
  shapes = {n: v.shape for n, v in built.session.run(
      netutil.variables_by_name(built)).items()}
  built.session.close()
  return shapes


@pytest.mark.parametrize('depth_multiplier', [0.0625, 0.3])
def test_depth_multiplier_from_every_block_rebuilds_the_same_net(
    tmp_path, depth_multiplier):
  # Block1 alone read 0.0625 as 0.125 (min_base_depth 8 hides it there) and
  # 0.3 as 0.296875 (block4: 152 channels instead of 153).
  trained = _shapes(resnet_v1, 'resnet_v1_18',
                    depth_multiplier=depth_multiplier)
  path = ckptutil.save({n: np.zeros(s, np.float32) for n, s in trained.items()},
                       str(tmp_path / 'model.ckpt'), 2)
  info = inspect_checkpoint.describe_checkpoint(path)
  assert info.depth_multiplier == depth_multiplier
  assert _shapes(resnet_v1, 'resnet_v1_18',
                 depth_multiplier=info.depth_multiplier) == trained


def test_block_depths_no_multiplier_gives_fail_with_the_depths():
  value, reason = inspect_checkpoint.infer_depth_multiplier([8, 16, 300, 64])
  assert value is None and '[8, 16, 300, 64]' in reason
