"""Inference graphs: frozen, batch norm folded, run in a tuned session.

A frozen GraphDef, for export (batch_norm_folding does the same with
variables):
    graph_def = optimized_graph_def(session, 'images', ['logits'])
    with InferenceSession(graph_def, 'images', ['logits']) as run:
      logits, = run(batch)

Steps, each TensorFlow's own tool:
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

Precision (slim_resnet.inference.precision): InferenceSession(..., precision='bfloat16')
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
  from slim_resnet.inference import precision as precision_lib  # pylint: disable=g-import-not-at-top
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


class OwnsSession(object):
  """close() and `with` for an object that holds a Session as .session."""

  def close(self):
    self.session.close()

  def __enter__(self):
    return self

  def __exit__(self, *exc_info):
    self.close()


class InferenceSession(OwnsSession):
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
      slim_resnet.inference.precision. `self.precision` is what runs.
    strict: Raise precision.PrecisionError instead of falling back to
      float32 on a CPU without bf16 kernels.
  """

  def __init__(self, graph_def, input_name, output_names, device=None,
               xla=False, precision='float32', strict=False):
    from slim_resnet.inference import precision as precision_lib  # pylint: disable=g-import-not-at-top
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
