"""Fast inference graphs: batch norm folded into the convolutions.

Two ways, with the same numbers (tests: within 1e-4 of the session graph):

1. Folded variables (no freezing, the memory of the weights only): build the
   net under resnet_arg_scope(use_batch_norm=False), then
       restore_folded(sess, 'resnet_v1_50.ckpt')
   loads the checkpoint with every conv's batch norm folded into its weights
   and a bias (fold_batch_norm_values).

2. A frozen GraphDef, for export:
    graph_def = optimized_graph_def(session, 'images', ['logits'])
    with InferenceSession(graph_def, 'images', ['logits']) as run:
      logits, = run(batch)

Steps of 2, each TensorFlow's own tool:
  1. freeze: variables become constants
     (tf.compat.v1.graph_util.convert_variables_to_constants);
  2. strip what the outputs do not need, drop Identity nodes, and fold each
     inference-mode batch norm that follows a convolution into the
     convolution's weights and a bias (optimize_for_inference_lib). In v1 nets
     every batch norm folds; in v2 nets the conv1/conv2 ones of each unit do,
     while 'preact' and 'postnorm' (which follow an addition) stay as fused
     batch norms;
  3. run with grappler's constant folding and remapper on (Conv2D + BiasAdd +
     ReLU become one fused kernel on CPU).
Numbers equal the unfolded graph's within float32 rounding (tests: 1e-4).

Precision (slim_resnet.precision): InferenceSession(..., precision='bfloat16')
adds grappler's auto_mixed_precision_onednn_bfloat16 rewrite. In a frozen
graph the weights are constants, so the Cast to bf16 the rewrite puts before
each convolution is folded by constant folding when the session first runs:
the weights are cast once and held as bf16; only the input and output are
cast per run. InferenceSession.from_file keeps no parsed GraphDef alive.
"""
import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import rewriter_config_pb2
from tensorflow.python.tools import optimize_for_inference_lib  # pylint: disable=g-direct-tensorflow-import


def freeze_graph_def(session, output_names):
  """The session's graph with variables turned into constants.

  Args:
    session: A Session whose graph holds the network, variables restored.
    output_names: Op names of the outputs to keep, e.g. ['resnet_v1_50/predictions/Softmax'].

  Returns:
    A GraphDef with no variables.
  """
  return tf.compat.v1.graph_util.convert_variables_to_constants(
      session, session.graph.as_graph_def(), list(output_names))


def optimized_graph_def(session, input_name, output_names,
                        fold_batch_norms=True):
  """Freezes the session's graph and folds its batch norms.

  Args:
    session: A Session holding the network built with is_training=False.
    input_name: The op name of the input placeholder [batch, h, w, 3] float32.
    output_names: Op names of the outputs.
    fold_batch_norms: If False, only freeze and strip.

  Returns:
    A GraphDef.
  """
  frozen = freeze_graph_def(session, output_names)
  if not fold_batch_norms:
    return tf.compat.v1.graph_util.extract_sub_graph(frozen, list(output_names))
  return optimize_for_inference_lib.optimize_for_inference(
      frozen, [input_name], list(output_names),
      tf.float32.as_datatype_enum)


def count_ops(graph_def, op_type):
  """How many nodes of `op_type` a GraphDef has (e.g. 'FusedBatchNormV3')."""
  return sum(1 for node in graph_def.node if node.op == op_type)


def inference_config(xla=False, precision='float32'):
  """A ConfigProto with grappler's constant folding and remapper on.

  Args:
    xla: Turn on XLA JIT compilation.
    precision: A precision.Precision or name; 'bfloat16'/'float16' add
      grappler's mixed-precision rewrite (precision.rewrite).
  """
  from slim_resnet import precision as precision_lib  # pylint: disable=g-import-not-at-top
  config = tf.compat.v1.ConfigProto()
  precision_lib.rewrite(config, precision)
  rewrite = config.graph_options.rewrite_options
  rewrite.constant_folding = rewriter_config_pb2.RewriterConfig.ON
  rewrite.remapping = rewriter_config_pb2.RewriterConfig.ON
  rewrite.arithmetic_optimization = rewriter_config_pb2.RewriterConfig.ON
  if xla:
    config.graph_options.optimizer_options.global_jit_level = (
        tf.compat.v1.OptimizerOptions.ON_1)
  return config


class InferenceSession(object):
  """Runs a frozen GraphDef: `outputs = run(images)`.

  Args:
    graph_def: A frozen GraphDef (e.g. from optimized_graph_def).
    input_name: The op name of its input (float32 images, or any other
      type, e.g. export's encoded 'image_bytes', fed as given).
    output_names: Op names of the outputs returned by __call__.
    device: Optional device for the imported graph, e.g. '/GPU:0'.
    xla: Turn on XLA JIT compilation.
    precision: 'float32' (default), 'bfloat16', 'float16' or 'auto' (a
      frozen graph casts its weights once, so 'auto' is bfloat16 wherever
      the CPU has bf16 kernels), or a resolved precision.Precision; see
      slim_resnet.precision. `self.precision` is what runs.
    strict: Raise precision.PrecisionError instead of falling back to
      float32 on a CPU without bf16 kernels.
  """

  def __init__(self, graph_def, input_name, output_names, device=None,
               xla=False, precision='float32', strict=False):
    from slim_resnet import precision as precision_lib  # pylint: disable=g-import-not-at-top
    self.precision = precision_lib.as_precision(
        precision, strict, device=device, cast_once=True)
    self.graph = tf.Graph()
    with self.graph.as_default(), tf.compat.v1.device(device):
      tf.graph_util.import_graph_def(graph_def, name='')
    self._input = self.graph.get_tensor_by_name(input_name + ':0')
    self._outputs = [self.graph.get_tensor_by_name(n + ':0')
                     for n in output_names]
    self.session = tf.compat.v1.Session(
        graph=self.graph, config=inference_config(xla, self.precision))

  @classmethod
  def from_file(cls, path, input_name, output_names, **kwargs):
    """Loads a frozen GraphDef file; keeps no Python copy of its weights.

    The parsed GraphDef is freed once imported and the session has been run
    once (a warm-up on one zero image when the input is float images of a
    known size), so the process holds the weights in the session's
    optimized graph only (bf16 with precision='bfloat16').
    """
    graph_def = tf.compat.v1.GraphDef()
    with open(path, 'rb') as f:
      graph_def.ParseFromString(f.read())
    run = cls(graph_def, input_name, output_names, **kwargs)
    del graph_def
    shape = run._input.shape  # pylint: disable=protected-access
    if run._input.dtype == tf.float32 and shape.rank and (  # pylint: disable=protected-access
        None not in shape.as_list()[1:]):
      run(np.zeros([1] + shape.as_list()[1:], np.float32))
    return run

  def __call__(self, images):
    if self._input.dtype == tf.float32:
      images = np.asarray(images, np.float32)
    return self.session.run(self._outputs, {self._input: images})

  def close(self):
    self.session.close()

  def __enter__(self):
    return self

  def __exit__(self, *exc_info):
    self.close()


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
