"""Our nets equal tf-slim's reference nets (tf_slim.nets), used only here.

The reference is research/slim's older API: no spatial_squeeze, and no
'global_pool' or '<scope>/spatial_squeeze' end_points. We build ours with
spatial_squeeze=False and compare everything the reference has.
"""
import numpy as np
import pytest
import tensorflow as tf

import netutil
from slim_resnet import resnet_v1
from slim_resnet import resnet_v2
from tf_slim.nets import resnet_v1 as ref_v1
from tf_slim.nets import resnet_v2 as ref_v2

FAMILIES = {'resnet_v1': (resnet_v1, ref_v1), 'resnet_v2': (resnet_v2, ref_v2)}


def build_pair(name, input_shape, **kwargs):
  version = name.rsplit('_', 1)[0]
  ours_module, ref_module = FAMILIES[version]
  # No initializers run: the values are drawn in numpy and loaded into both.
  ours = netutil.build(getattr(ours_module, name),
                       ours_module.resnet_arg_scope(), input_shape,
                       session=False, spatial_squeeze=False, **kwargs)
  ref = netutil.build(getattr(ref_module, name), ref_module.resnet_arg_scope(),
                      input_shape, session=False, **kwargs)
  return tuple(built._replace(session=tf.compat.v1.Session(graph=built.graph))
               for built in (ours, ref))


def update_ops(built):
  with built.graph.as_default():
    return tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)


def assert_same_graph_and_outputs(ours, ref, input_shape, seed=0):
  ours_vars = {n: v.shape.as_list()
               for n, v in netutil.variables_by_name(ours).items()}
  ref_vars = {n: v.shape.as_list()
              for n, v in netutil.variables_by_name(ref).items()}
  assert ours_vars == ref_vars
  assert len(update_ops(ours)) == len(update_ops(ref))
  missing = set(ref.end_points) - set(ours.end_points)
  assert not missing, missing

  values = netutil.random_values(ours, seed)
  netutil.load_values(ours, values)
  netutil.load_values(ref, values)
  images = netutil.mesh_images(input_shape)
  keys = sorted(ref.end_points)
  ours_out = ours.session.run([ours.net] + [ours.end_points[k] for k in keys],
                              {ours.inputs: images})
  ref_out = ref.session.run([ref.net] + [ref.end_points[k] for k in keys],
                            {ref.inputs: images})
  assert ours_out[0].shape == ref_out[0].shape
  for key, a, b in zip(['net'] + keys, ours_out, ref_out):
    assert a.shape == b.shape, key
    assert netutil.relative_difference(a, b) <= 1e-4, key
  assert np.abs(ours_out[0]).max() > 0
  for built in (ours, ref):
    built.session.close()


@pytest.mark.parametrize('name', [
    'resnet_v1_50', 'resnet_v1_101', 'resnet_v1_152', 'resnet_v1_200',
    'resnet_v2_50', 'resnet_v2_101', 'resnet_v2_152', 'resnet_v2_200'])
def test_same_as_reference(name):
  shape = [2, 64, 64, 3]
  ours, ref = build_pair(name, shape, num_classes=7, is_training=False)
  assert_same_graph_and_outputs(ours, ref, shape)


# stack_blocks_dense (resnet_utils) does the atrous work for both families:
# output_stride 8 on one and 16 on the other covers both strides and both
# families' dense path with two builds instead of four.
@pytest.mark.parametrize('name,output_stride', [('resnet_v1_50', 8),
                                                ('resnet_v2_50', 16)])
def test_same_as_reference_dense(name, output_stride):
  shape = [2, 65, 49, 3]  # odd sizes, as for dense prediction
  ours, ref = build_pair(name, shape, num_classes=5, is_training=False,
                         global_pool=False, output_stride=output_stride)
  assert ours.net.shape.as_list()[1:3] == [
      (65 - 1) // output_stride + 1, (49 - 1) // output_stride + 1]
  assert_same_graph_and_outputs(ours, ref, shape)


# Training mode only changes batch norm, and num_classes=None only drops the
# logits (compared in eval mode above): one build checks both.
@pytest.mark.parametrize('name', ['resnet_v1_50', 'resnet_v2_50'])
def test_same_in_training_mode_and_without_logits(name):
  shape = [2, 64, 64, 3]
  ours, ref = build_pair(name, shape, num_classes=None, is_training=True)
  assert ours.net.shape.as_list() == [2, 1, 1, 2048]
  assert len(update_ops(ours)) > 0
  assert_same_graph_and_outputs(ours, ref, shape)
