"""compat: tf-slim's batch norm on TF >= 2.16, and faster graph building."""
import importlib
import sys

import numpy as np
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


def test_every_table_target_exists_and_every_alias_is_applied():
  for row in compat.TABLE:
    module_name, attribute = row.old.split(':')
    new = compat.resolve(row.new)
    assert getattr(importlib.import_module(module_name), attribute) is new, row
    assert row.tf_version and row.used_by, row


def test_an_alias_never_shadows_a_name_tensorflow_still_has():
  from tensorflow.python.ops import array_ops  # pylint: disable=g-import-not-at-top,g-direct-tensorflow-import
  concat = array_ops.concat
  row = compat.Moved('tensorflow.python.ops.array_ops:concat',
                     'tensorflow.python.ops.array_ops_stack:stack', '-', '-')
  assert compat.apply_table((row,)) == []
  assert array_ops.concat is concat


def _run(code):
  import subprocess  # pylint: disable=g-import-not-at-top
  return subprocess.run([sys.executable, '-c', code], capture_output=True,
                        text=True, timeout=300)


def test_import_is_lazy_and_plain_tf_slim_is_left_alone():
  proc = _run(
      'import sys, slim_resnet\n'
      'assert "tensorflow" not in sys.modules, "compat imported TF"\n'
      'import sys, tf_slim\n'
      'from tensorflow.python.framework import ops\n'
      'assert hasattr(ops, "IndexedSlices")\n')
  assert proc.returncode == 0, proc.stderr
  proc = _run(
      'import sys, tf_slim\n'
      'from tensorflow.python.framework import ops\n'
      'from tensorflow.python.ops import array_ops\n'
      'assert not hasattr(ops, "IndexedSlices")\n'
      'assert not hasattr(array_ops, "stack")\n'
      'import slim_resnet\n'  # tf_slim already imported: applied at once
      'assert hasattr(array_ops, "stack")\n'
      'v = sys.modules["tf_slim.ops.variables"]\n'
      'from slim_resnet.compat import tf_slim_fixes\n'
      'assert v.assign_from_checkpoint is tf_slim_fixes.assign_from_checkpoint\n'
      'assert tf_slim.assign_from_checkpoint is v.assign_from_checkpoint\n')
  assert proc.returncode == 0, proc.stderr


def test_fixed_assign_from_checkpoint_restores_partitioned_variables(tmp_path):
  value = np.arange(12, dtype=np.float32).reshape(4, 3)
  with tf.Graph().as_default():
    tf.compat.v1.get_variable('v', initializer=value)
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      path = tf.compat.v1.train.Saver().save(sess, str(tmp_path / 'ckpt'))
  with tf.Graph().as_default():
    parts = tf.compat.v1.get_variable(
        'v', [4, 3], partitioner=tf.compat.v1.fixed_size_partitioner(2))
    op, feed = slim.assign_from_checkpoint(path, {'v': list(parts)})
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      sess.run(op, feed)
      np.testing.assert_array_equal(sess.run(parts.as_tensor()), value)
