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

Weights and precision (InferenceSession(..., weights=, precision=)): where
the frozen graph's weights live, float32 or bf16, constants or variables, is
inference.frozen_weights.

Off the GPU, grappler runs once and without its layout and memory optimizers
(inference_config), which only copied the constant-weight graph there.
"""
import numpy as np

from slim_resnet.inference import frozen_weights
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


def inference_config(xla=False, precision='float32', device=None):
  """A ConfigProto with grappler's constant folding and remapper on.

  Off the GPU, grappler's layout and memory optimizers are off (they change
  nothing in a CPU inference graph, and each copies a constant-weight graph:
  ~200 MB more peak RSS apiece on resnet_v1_50 in bf16), and its passes run
  once instead of twice (~50 MB). The session keeps no copy of its partition
  graphs, so a run asking for them (RunOptions.output_partition_graphs, as
  tfdbg does) fails with InvalidArgumentError.

  Args:
    xla: Turn on XLA JIT compilation.
    precision: A precision.Precision or name; 'bfloat16'/'float16' add
      grappler's mixed-precision rewrite (precision.rewrite).
    device: The graph's device (None: CPU unless it names a GPU).
  """
  from slim_resnet.inference import precision as precision_lib  # pylint: disable=g-import-not-at-top
  config = tf.compat.v1.ConfigProto()
  precision_lib.rewrite(config, precision)
  rewrite = config.graph_options.rewrite_options
  on, off = (rewriter_config_pb2.RewriterConfig.ON,
             rewriter_config_pb2.RewriterConfig.OFF)
  rewrite.constant_folding = on
  rewrite.remapping = on
  rewrite.arithmetic_optimization = on
  rewrite.meta_optimizer_iterations = rewriter_config_pb2.RewriterConfig.ONE
  if not precision_lib.runs_on_gpu(device):
    rewrite.layout_optimizer = off
    rewrite.memory_optimization = rewriter_config_pb2.RewriterConfig.NO_MEM_OPT
  # The session keeps no copy of the graphs it built its executors from:
  # ~100 MB less RSS with resnet_v1_50's weights as bf16 constants.
  # RunOptions(output_partition_graphs=True) (tfdbg's wrappers) then fails.
  config.experimental.disable_output_partition_graphs = True
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
    weights: Where the weights (float constants of
      frozen_weights.MIN_WEIGHT_ELEMENTS or more) live. 'variables' (the
      float32 default): moved into variables (frozen_weights.
      weights_to_variables) assigned once before the first run, so grappler
      and the session's graph copies never hold them; 'constants': kept in
      the GraphDef (bf16 constants in bfloat16; the float16 default);
      'mixed' (the bfloat16 default): those of
      frozen_weights.MIXED_CONSTANT_ELEMENTS or
      more stay constants, the others go to variables. See the module
      docstring for what each costs.
  """

  def __init__(self, graph_def, input_name, output_names, device=None,
               xla=False, precision='float32', strict=False, *,
               weights=None):
    from slim_resnet.inference import precision as precision_lib  # pylint: disable=g-import-not-at-top
    self.precision = precision_lib.as_precision(
        precision, strict, device=device, cast_once=True)
    self.weights = weights or frozen_weights.default_weights(self.precision)
    graph_def, self._values = frozen_weights.place_weights(
        graph_def, self.weights, self.precision.name)
    self.graph = tf.Graph()
    with self.graph.as_default(), tf.compat.v1.device(device):
      tf.graph_util.import_graph_def(graph_def, name='')
    del graph_def
    self._input = self.graph.get_tensor_by_name(input_name + ':0')
    self._outputs = [self.graph.get_tensor_by_name(n + ':0')
                     for n in output_names]
    self.session = tf.compat.v1.Session(
        graph=self.graph, config=inference_config(xla, self.precision, device))

  @classmethod
  def from_file(cls, path, input_name, output_names, **kwargs):
    """Loads a frozen GraphDef file; keeps no Python copy of its weights.

    The parsed GraphDef is freed once imported, then the session is run
    once (a warm-up on zero images when the input is float images of a
    known size; it assigns the weight variables), so the process holds the
    weights once, in the session.
    """
    graph_def = tf.compat.v1.GraphDef()
    with open(path, 'rb') as f:
      graph_def.ParseFromString(f.read())
    run = cls(graph_def, input_name, output_names, **kwargs)
    del graph_def
    run._assign()  # pylint: disable=protected-access
    shape = run._input.shape  # pylint: disable=protected-access
    if run._input.dtype == tf.float32 and shape.rank and (  # pylint: disable=protected-access
        None not in shape.as_list()[1:]):
      run(np.zeros([shape.as_list()[0] or 1] + shape.as_list()[1:],
                   np.float32))
    frozen_weights.release_free_memory()
    return run

  def _assign(self):
    """Assigns the weight variables (once; a no-op afterwards)."""
    if self._values:
      frozen_weights.assign_weights(self.session, self._values)

  def __call__(self, images):
    self._assign()
    if self._input.dtype == tf.float32:
      images = np.asarray(images, np.float32)
    return self.session.run(self._outputs, {self._input: images})
