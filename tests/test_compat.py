"""compat: tf-slim's batch norm on TF >= 2.16, and faster graph building."""
import importlib
import sys

import tensorflow as tf
from tensorflow.python.framework import tensor as tensor_lib
import tf_slim as slim

from slim_resnet import compat


def test_old_module_name_is_the_new_module():
  old = importlib.import_module('tf_keras.legacy_tf_layers.normalization')
  new = importlib.import_module('tf_keras.src.legacy_tf_layers.normalization')
  assert old is new
  assert new.__spec__.name == 'tf_keras.src.legacy_tf_layers.normalization'
  assert sum(isinstance(f, compat.LegacyTfLayersFinder)
             for f in sys.meta_path) == 1


def test_install_is_idempotent():
  compat.install()
  assert sum(isinstance(f, compat.LegacyTfLayersFinder)
             for f in sys.meta_path) == 1


def test_slim_batch_norm_builds_and_collects_update_ops():
  with tf.Graph().as_default():
    x = tf.compat.v1.placeholder(tf.float32, [2, 4, 4, 3])
    y = slim.batch_norm(x, is_training=True)
    assert y.shape.as_list() == [2, 4, 4, 3]
    assert len(tf.compat.v1.get_collection(
        tf.compat.v1.GraphKeys.UPDATE_OPS)) == 2


def test_graph_mode_equality_restores_the_flag():
  before = tensor_lib.Tensor._USE_EQUALITY  # pylint: disable=protected-access
  with tf.Graph().as_default():
    with compat.graph_mode_equality():
      assert tensor_lib.Tensor._USE_EQUALITY is False  # pylint: disable=protected-access
  assert tensor_lib.Tensor._USE_EQUALITY == before  # pylint: disable=protected-access


def test_graph_mode_equality_leaves_eager_and_functions_alone():
  before = tensor_lib.Tensor._USE_EQUALITY  # pylint: disable=protected-access
  seen = []

  @tf.function
  def fn():
    with compat.graph_mode_equality():
      seen.append(tensor_lib.Tensor._USE_EQUALITY)  # pylint: disable=protected-access
    return tf.constant(1)

  fn()
  assert seen == [before]
