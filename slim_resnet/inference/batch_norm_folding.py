"""Batch norm folded into the convolutions, as variables (no freezing, the
memory of the weights only): build the net under
resnet_arg_scope(use_batch_norm=False), then

    restore_folded(sess, 'resnet_v1_50.ckpt')

loads the checkpoint with every conv's batch norm folded into its weights and
a bias (fold_batch_norm_values). Numbers equal the batch-norm net's in
inference mode within float32 rounding (tests: 1e-4). The frozen-graph way
is inference_graph.optimized_graph_def.
"""
import numpy as np
import tensorflow as tf


def fold_batch_norm_values(values, epsilon=1e-5):
  """Folds each convolution's batch norm into its weights and a bias.

  For a conv followed by inference-mode batch norm,
      y = gamma * (conv(x, w) - mean) / sqrt(variance + epsilon) + beta
        = conv(x, w * s) + (beta - mean * s),  s = gamma / sqrt(variance + eps).
  The result fits the same network built under
  resnet_arg_scope(use_batch_norm=False), where those convolutions have
  biases instead: same variable names for the weights, '<conv>/biases' for
  the new biases. Batch norms that follow no convolution (resnet_v2's 'preact'
  and 'postnorm') are kept as they are.

  Args:
    values: Dict variable name -> array of a network built under
      resnet_arg_scope() (e.g. read from its checkpoint).
    epsilon: The batch norm epsilon the values were trained with
      (resnet_arg_scope's default 1e-5).

  Returns:
    Dict variable name -> array for the network without conv batch norms.
  """
  folded = {}
  for name, value in values.items():
    scope, _, leaf = name.rpartition('/')
    if leaf == 'weights' and scope + '/BatchNorm/moving_mean' in values:
      bn = scope + '/BatchNorm/'
      mean = values[bn + 'moving_mean']
      gamma = values.get(bn + 'gamma', np.ones_like(mean))
      beta = values.get(bn + 'beta', np.zeros_like(mean))
      scale = gamma / np.sqrt(values[bn + 'moving_variance'] + epsilon)
      folded[name] = (value * scale).astype(value.dtype)
      folded[scope + '/biases'] = (beta - mean * scale).astype(value.dtype)
    elif '/BatchNorm/' in name and (
        name.split('/BatchNorm/')[0] + '/weights' in values):
      continue  # Folded into its convolution above.
    else:
      folded[name] = value
  return folded


def restore_folded(sess, checkpoint_path, epsilon=1e-5):
  """Restores a batch-norm checkpoint into a net built without batch norm.

  Build the network under resnet_arg_scope(use_batch_norm=False) (its
  convolutions then have biases), then call this: the checkpoint's values
  are folded by fold_batch_norm_values and loaded by re-running the
  variables' initializers with the values fed, so no op is added (the graph
  may be finalized). The result computes what the batch-norm network
  computes in inference mode, with fewer ops and the memory of the weights
  only.

  Args:
    sess: A Session whose graph holds the network.
    checkpoint_path: A checkpoint of the same network built under
      resnet_arg_scope() (any format; extras are ignored).
    epsilon: The batch norm epsilon.

  Returns:
    The variable names loaded.

  Raises:
    CheckpointMismatchError: If graph variables have no folded value or
      another shape.
  """
  from slim_resnet.checkpoints import errors  # pylint: disable=g-import-not-at-top
  from slim_resnet.checkpoints import inspect_checkpoint  # pylint: disable=g-import-not-at-top
  reader = tf.compat.v1.train.NewCheckpointReader(checkpoint_path)
  values = {n: reader.get_tensor(n) for n in reader.get_variable_to_shape_map()
            if not inspect_checkpoint.is_extra(n)}
  folded = fold_batch_norm_values(values, epsilon)
  with sess.graph.as_default():
    variables = {v.op.name: v for v in tf.compat.v1.global_variables()}
    problems = sorted(n for n, v in variables.items()
                      if n not in folded or
                      tuple(folded[n].shape) != tuple(v.shape.as_list()))
    if problems:
      raise errors.CheckpointMismatchError(
          'the graph does not match the folded checkpoint %s: %s%s (build '
          'the same net under resnet_arg_scope(use_batch_norm=False))' % (
              checkpoint_path, ', '.join(problems[:10]),
              ' ...' if len(problems) > 10 else ''))
    sess.run([v.initializer for v in variables.values()],
             {v.initial_value: folded[n] for n, v in variables.items()})
  return sorted(variables)
