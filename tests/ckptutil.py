"""Checkpoints written by the reference nets (tf_slim.nets), as the official
ones were, with non-trivial batch norm values and the official extras."""
import os

import numpy as np
import tensorflow as tf

import netutil
from tf_slim.nets import resnet_v1 as ref_v1
from tf_slim.nets import resnet_v2 as ref_v2

REFERENCE = {'resnet_v1_50': ref_v1, 'resnet_v2_50': ref_v2}
SHAPE = [2, 64, 64, 3]


def reference(name, num_classes):
  """A reference net in its own graph and session, BN randomized."""
  module = REFERENCE[name]
  built = netutil.build(getattr(module, name), module.resnet_arg_scope(),
                        SHAPE, num_classes=num_classes, is_training=False)
  values = netutil.randomize_batch_norm(built, seed=7)
  return built, values


def save(values, prefix, version=2, extras=None):
  """Writes name -> value (plus extras) as a V1 or V2 checkpoint."""
  os.makedirs(os.path.dirname(prefix), exist_ok=True)
  all_values = dict(values, **(extras or {}))
  with tf.Graph().as_default():
    variables = {n: tf.compat.v1.Variable(v, name=n)
                 for n, v in all_values.items()}
    saver = tf.compat.v1.train.Saver(
        variables, write_version=(tf.compat.v1.train.SaverDef.V1
                                  if version == 1 else
                                  tf.compat.v1.train.SaverDef.V2))
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      return saver.save(sess, prefix, write_meta_graph=False,
                        write_state=False)


def official_extras(name):
  return {'global_step': np.array(123, np.int64),
          name + '/mean_rgb': np.array([123.68, 116.78, 103.94], np.float32)}
