"""The drop-in surface: research/slim's exact positional signatures.

research/slim's parameter lists (names, order, defaults) are written here as
data, from its latest nets/resnet_v1.py, nets/resnet_v2.py,
nets/resnet_utils.py, nets/nets_factory.py and
preprocessing/preprocessing_factory.py. Every parameter of ours that
research/slim lacks must be keyword-only, so no positional call lands on it.
"""
import inspect

import pytest
import tensorflow as tf
import tf_slim as slim

from slim_resnet import nets_factory
from slim_resnet import resnet_utils
from slim_resnet import resnet_v1
from slim_resnet import resnet_v2
from slim_resnet.preprocessing import preprocessing_factory

NO_DEFAULT = inspect.Parameter.empty
_V1_COMMON = [('inputs', NO_DEFAULT), ('num_classes', None),
              ('is_training', True), ('global_pool', True),
              ('output_stride', None)]
_V1_TAIL = [('min_base_depth', 8), ('depth_multiplier', 1), ('reuse', None)]


def _v1(name):
  return (_V1_COMMON + [('spatial_squeeze', True),
                        ('store_non_strided_activations', False)] +
          _V1_TAIL + [('scope', name)])


def _v1_deep(name):  # research/slim's resnet_v1_152 / _200 order.
  return (_V1_COMMON + [('store_non_strided_activations', False),
                        ('spatial_squeeze', True)] +
          _V1_TAIL + [('scope', name)])


def _v2(name):
  return _V1_COMMON + [('spatial_squeeze', True), ('reuse', None),
                       ('scope', name)]


_UNIT = [('inputs', NO_DEFAULT), ('depth', NO_DEFAULT),
         ('depth_bottleneck', NO_DEFAULT), ('stride', NO_DEFAULT),
         ('rate', 1), ('outputs_collections', None), ('scope', None)]
_GENERATOR = [('inputs', NO_DEFAULT), ('blocks', NO_DEFAULT),
              ('num_classes', None), ('is_training', True),
              ('global_pool', True), ('output_stride', None),
              ('include_root_block', True), ('spatial_squeeze', True)]
_BLOCK_FN = [('scope', NO_DEFAULT), ('base_depth', NO_DEFAULT),
             ('num_units', NO_DEFAULT), ('stride', NO_DEFAULT)]

RESEARCH_SLIM = {
    resnet_v1.resnet_v1_50: _v1('resnet_v1_50'),
    resnet_v1.resnet_v1_101: _v1('resnet_v1_101'),
    resnet_v1.resnet_v1_152: _v1_deep('resnet_v1_152'),
    resnet_v1.resnet_v1_200: _v1_deep('resnet_v1_200'),
    resnet_v2.resnet_v2_50: _v2('resnet_v2_50'),
    resnet_v2.resnet_v2_101: _v2('resnet_v2_101'),
    resnet_v2.resnet_v2_152: _v2('resnet_v2_152'),
    resnet_v2.resnet_v2_200: _v2('resnet_v2_200'),
    resnet_v1.resnet_v1: _GENERATOR + [
        ('store_non_strided_activations', False), ('reuse', None),
        ('scope', None)],
    resnet_v2.resnet_v2: _GENERATOR + [('reuse', None), ('scope', None)],
    resnet_v1.resnet_v1_block: _BLOCK_FN,
    resnet_v2.resnet_v2_block: _BLOCK_FN,
    resnet_v1.bottleneck: _UNIT + [('use_bounded_activations', False)],
    resnet_v2.bottleneck: _UNIT,
    resnet_utils.subsample: [('inputs', NO_DEFAULT), ('factor', NO_DEFAULT),
                             ('scope', None)],
    resnet_utils.conv2d_same: [
        ('inputs', NO_DEFAULT), ('num_outputs', NO_DEFAULT),
        ('kernel_size', NO_DEFAULT), ('stride', NO_DEFAULT), ('rate', 1),
        ('scope', None)],
    resnet_utils.stack_blocks_dense: [
        ('net', NO_DEFAULT), ('blocks', NO_DEFAULT), ('output_stride', None),
        ('store_non_strided_activations', False),
        ('outputs_collections', None)],
    resnet_utils.resnet_arg_scope: [
        ('weight_decay', 0.0001), ('batch_norm_decay', 0.997),
        ('batch_norm_epsilon', 1e-5), ('batch_norm_scale', True),
        ('activation_fn', tf.nn.relu), ('use_batch_norm', True),
        ('batch_norm_updates_collections',
         tf.compat.v1.GraphKeys.UPDATE_OPS)],
    nets_factory.get_network_fn: [
        ('name', NO_DEFAULT), ('num_classes', NO_DEFAULT),
        ('weight_decay', 0.0), ('is_training', False)],
    preprocessing_factory.get_preprocessing: [
        ('name', NO_DEFAULT), ('is_training', False),
        ('use_grayscale', False)],
}
# Ours only (basic-unit nets): the resnet_v1_50 order, or resnet_v2_50's.
OURS = {resnet_v1.resnet_v1_18: _v1('resnet_v1_18'),
        resnet_v1.resnet_v1_34: _v1('resnet_v1_34'),
        resnet_v2.resnet_v2_18: _v2('resnet_v2_18'),
        resnet_v2.resnet_v2_34: _v2('resnet_v2_34')}


def _unwrapped(fn):
  # slim.add_arg_scope keeps the signature on __wrapped__.
  return inspect.signature(getattr(fn, '__wrapped__', fn))


@pytest.mark.parametrize('fn', list(RESEARCH_SLIM) + list(OURS),
                         ids=lambda f: '%s.%s' % (f.__module__.rsplit(
                             '.', 1)[-1], f.__name__))
def test_positional_parameters_are_research_slims(fn):
  expected = {**RESEARCH_SLIM, **OURS}[fn]
  params = list(_unwrapped(fn).parameters.values())
  positional = [(p.name, p.default) for p in params
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
  assert positional == expected
  extra = [p for p in params[len(positional):]]
  assert all(p.kind in (p.KEYWORD_ONLY, p.VAR_KEYWORD) for p in extra), extra


def test_block_is_research_slims_namedtuple():
  assert resnet_utils.Block._fields == ('scope', 'unit_fn', 'args')


def test_builders_keep_default_image_size():
  for fn in list(RESEARCH_SLIM)[:10] + list(OURS):
    assert fn.default_image_size == 224
  assert nets_factory.get_network_fn('resnet_v2_50', 10).default_image_size \
      == 224


def _variables():
  return sorted(v.op.name for v in tf.compat.v1.global_variables())


@pytest.mark.parametrize('builder,args,kwargs', [
    # research/slim's positional reuse: 10th for v1_50, 7th for v2.
    (resnet_v1.resnet_v1_18, (10, False, True, None, True, False, 8, 0.125,
                              True), {}),
    (resnet_v2.resnet_v2_18, (10, False, True, None, True, True),
     {'depth_multiplier': 0.125}),
])
def test_positional_reuse_shares_variables(builder, args, kwargs):
  with tf.Graph().as_default():
    images = tf.compat.v1.placeholder(tf.float32, [2, 32, 32, 3])
    with slim.arg_scope(resnet_utils.resnet_arg_scope()):
      builder(images, 10, False, depth_multiplier=0.125)
      before = _variables()
      net, _ = builder(images, *args, **kwargs)
    assert _variables() == before
    assert net.shape.as_list() == [2, 10]


def test_resnet_v1_152_positional_order_is_research_slims():
  """(x, 10, False, True, None, True, False): store_non_strided=True,
  spatial_squeeze=False in research/slim's resnet_v1_152."""
  with tf.Graph().as_default():
    images = tf.compat.v1.placeholder(tf.float32, [2, 64, 64, 3])
    with slim.arg_scope(resnet_utils.resnet_arg_scope()):
      net, end_points = resnet_v1.resnet_v1_152(
          images, 10, False, True, None, True, False, 1, 0.03125)
  assert net.shape.as_list() == [2, 1, 1, 10]  # Not squeezed.
  assert 'resnet_v1_152/spatial_squeeze' not in end_points
  # Non-strided: block1's stored output has the stride of its input (4).
  assert end_points['resnet_v1_152/block1'].shape.as_list()[1:3] == [16, 16]
