"""Fixed versions of tf-slim 1.1.0 functions that no alias can repair.

compat.TABLE installs each one over the tf-slim original (rows with
fix=True) when tf_slim is imported after slim_resnet; each function says what
it fixes. The bodies are tf-slim's (Apache 2.0, The TensorFlow Authors) with
the fix marked `# slim_resnet:`.
"""
# pylint: disable=g-direct-tensorflow-import,protected-access
import tensorflow.compat.v1 as tf
from tensorflow.python.ops import array_ops
from tensorflow.python.ops import control_flow_ops
from tensorflow.python.platform import tf_logging as logging
from tf_slim.ops import variables as slim_variables


def assign_from_checkpoint(model_path, var_list, ignore_missing_vars=False):
  """tf_slim.assign_from_checkpoint, restoring partitioned variables on NumPy >= 1.23.

  tf-slim indexes the checkpoint value with a *list* of slices
  (`value[[slice(0, 2), slice(0, 3)]]`), which NumPy 1.23 turned into an
  IndexError (multidimensional indexing needs a tuple); here it is a tuple.

  Args:
    model_path: the checkpoint path.
    var_list: a list of (possibly partitioned) variables, or a dict from
      checkpoint names to a variable or a list of variables.
    ignore_missing_vars: if True, skip variables missing in the checkpoint
      with a warning instead of failing.

  Returns:
    (restore_op, feed_dict) to run to restore var_list.

  Raises:
    ValueError: a variable is missing from the checkpoint (and not
      ignore_missing_vars) or its shape differs.
  """
  grouped_vars = {}
  if isinstance(var_list, (tuple, list)):
    for var in var_list:
      ckpt_name = slim_variables.get_variable_full_name(var)
      grouped_vars.setdefault(ckpt_name, []).append(var)
  else:
    for ckpt_name, value in var_list.items():
      grouped_vars[ckpt_name] = (
          value if isinstance(value, (tuple, list)) else [value])

  reader = tf.train.NewCheckpointReader(model_path)
  feed_dict = {}
  assign_ops = []
  for ckpt_name in grouped_vars:
    if not reader.has_tensor(ckpt_name):
      log_str = 'Checkpoint is missing variable [%s]' % ckpt_name
      if ignore_missing_vars:
        logging.warning(log_str)
        continue
      raise ValueError(log_str)
    ckpt_value = reader.get_tensor(ckpt_name)

    for var in grouped_vars[ckpt_name]:
      placeholder_tensor = array_ops.placeholder(
          dtype=var.dtype.base_dtype,
          shape=var.get_shape(),
          name='placeholder/' + var.op.name)
      assign_ops.append(var.assign(placeholder_tensor))

      if not var._save_slice_info:
        if var.get_shape() != ckpt_value.shape:
          raise ValueError(
              'Total size of new array must be unchanged for %s '
              'lh_shape: [%s], rh_shape: [%s]' %
              (ckpt_name, str(ckpt_value.shape), str(var.get_shape())))
        feed_dict[placeholder_tensor] = ckpt_value.reshape(ckpt_value.shape)
      else:
        slice_dims = zip(var._save_slice_info.var_offset,
                         var._save_slice_info.var_shape)
        # slim_resnet: a tuple of slices, not a list.
        slice_dims = tuple(slice(start, start + size)
                           for (start, size) in slice_dims)
        slice_value = ckpt_value[slice_dims]
        slice_value = slice_value.reshape(var._save_slice_info.var_shape)
        feed_dict[placeholder_tensor] = slice_value

  assign_op = control_flow_ops.group(*assign_ops)
  return assign_op, feed_dict
