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

Weights (InferenceSession(..., weights=)): by default in float32 the big
float constants (conv and fc weights) are moved out of the GraphDef into
variables, assigned once from numpy before the first run
(weights_to_variables, assign_weights). Grappler, the session's graph copies
and the Python graph then never hold them; the variables do, once. Same
fusions and logits as constants; peak RSS of InferenceSession.from_file on
resnet_v1_50 at 224 px: ~2040 MB with constants, ~1010 MB with variables
(scripts/benchmark.py, slim_resnet_v1_50_frozen; tf-slim's ~1095 MB). The
cost: oneDNN reorders non-constant filters on every run, ~8% more CPU per
image at batch 1 and ~3% at 16 (weights='constants' avoids it).

Precision (slim_resnet.inference.precision): InferenceSession(..., precision='bfloat16')
adds grappler's auto_mixed_precision_onednn_bfloat16 rewrite, and the
weights are stored as bf16 (weights_to_bfloat16, or bf16 variables): the
rewrite drops their Casts, so only the input and output are cast per run.
Where they live trades batch-1 speed for memory. As constants, oneDNN keeps
each filter in its blocked layout across runs, but grappler's and the
session's copies of the graph hold them too (from_file's peak RSS on
resnet_v1_50 at 224 px: ~1190 MB). As variables the peak is ~820 MB, but
oneDNN reorders every filter on every run; traced at batch 1 that costs
only where the outputs are small: block4 (7x7; 30 against 11 ms) and the
logits (1x1; 3.3 against 0.5 ms), blocks 1-3 the same. The bf16 default,
weights='mixed', keeps the weights of MIXED_CONSTANT_ELEMENTS values or more
(block4's and the logits', 16.5M of 25.5M) constants and the others variables:
~1010 MB peak, with most of the constants' batch-1 speed (README
"Performance": 1.68x against 1.84x the tf-slim reference's images/s).

Off the GPU, grappler runs once and without its layout and memory optimizers
(inference_config), which only copied the constant-weight graph there.
"""
import ctypes

import numpy as np

from slim_resnet import errors
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


# Float constants at least this big (elements) are the weights that
# InferenceSession places (weights=): conv and fc weights; biases and shapes
# stay constants.
MIN_WEIGHT_ELEMENTS = 4096
# weights='mixed': weights at least this big stay constants. In a ResNet they
# are the ones that run at the smallest spatial sizes (resnet_v1_50: all of
# block4's but unit_1/conv1's, and the logits'; 16.5M of 25.5M values), where
# oneDNN's per-run reorder of a variable filter costs most against the conv.
MIXED_CONSTANT_ELEMENTS = 1 << 20
WEIGHTS = ('variables', 'constants', 'mixed')


def _size(node):
  """How many values a Const NodeDef holds (None: unknown rank)."""
  shape = node.attr['value'].tensor.tensor_shape
  if shape.unknown_rank:
    return None
  return int(np.prod([d.size for d in shape.dim]))


def _weight_node(node):
  """Whether a NodeDef is a float32 Const of >= MIN_WEIGHT_ELEMENTS values."""
  if node.op != 'Const' or node.attr['dtype'].type != tf.float32.as_datatype_enum:
    return False
  size = _size(node)
  return size is not None and size >= MIN_WEIGHT_ELEMENTS


def _replace_weights(graph_def, replace):
  """A copy of graph_def in which replace(copy, node) stands in for each
  weight Const (_weight_node); every other node is copied as it is."""
  copy = tf.compat.v1.GraphDef()
  copy.versions.CopyFrom(graph_def.versions)
  copy.library.CopyFrom(graph_def.library)
  for node in graph_def.node:
    if _weight_node(node):
      replace(copy, node)
    else:
      copy.node.add().CopyFrom(node)
  return copy


def _to_variable(copy, node, values, stored_dtype):
  """Adds weight `node` to `copy` as a variable (weights_to_variables) and
  its value, of stored_dtype, to `values`."""
  stored = node.name + '/stored'
  values[stored] = tf.make_ndarray(node.attr['value'].tensor).astype(
      stored_dtype.as_numpy_dtype, copy=False)
  new = copy.node.add(name=node.name, device=node.device,
                      input=[stored] + list(node.input))
  if stored_dtype == tf.float32:
    new.op = 'Identity'
    new.attr['T'].type = tf.float32.as_datatype_enum
  else:
    new.op = 'Cast'
    new.attr['SrcT'].type = stored_dtype.as_datatype_enum
    new.attr['DstT'].type = tf.float32.as_datatype_enum
  _add_variable(copy, stored, values[stored].shape, stored_dtype, node.device)


def _to_bfloat16(copy, node):
  """Adds weight `node` to `copy` as a bf16 Const and a Cast of it
  (weights_to_bfloat16)."""
  value = tf.make_ndarray(node.attr['value'].tensor).astype(
      tf.bfloat16.as_numpy_dtype)
  const = copy.node.add(name=node.name + '/bf16', op='Const',
                        device=node.device)
  const.attr['dtype'].type = tf.bfloat16.as_datatype_enum
  const.attr['value'].tensor.CopyFrom(tf.make_tensor_proto(value))
  del value
  cast = copy.node.add(name=node.name, op='Cast', device=node.device,
                       input=[const.name] + list(node.input))
  cast.attr['SrcT'].type = tf.bfloat16.as_datatype_enum
  cast.attr['DstT'].type = tf.float32.as_datatype_enum


def weights_to_variables(graph_def, stored_dtype=tf.float32):
  """A copy of a GraphDef whose big float constants are variables.

  Each weight Const `w` becomes `w/stored` (VariableV2 of `stored_dtype`),
  `w/stored/value` (its Placeholder), `w/stored/assign`, and `w` itself an
  Identity of the variable (a Cast to float32 if stored_dtype is bfloat16;
  grappler's bf16 rewrite then removes the Cast). Consumers are unchanged.

  Args:
    graph_def: A frozen GraphDef (not changed).
    stored_dtype: tf.float32 or tf.bfloat16, the variables' dtype.

  Returns:
    (GraphDef, {variable name: ndarray of stored_dtype}); feed the values
    once with assign_weights.
  """
  values = {}
  return _replace_weights(
      graph_def, lambda copy, node: _to_variable(copy, node, values,
                                                 stored_dtype)), values


def weights_to_bfloat16(graph_def):
  """A copy of a GraphDef whose big float constants are stored as bfloat16.

  Each weight Const `w` becomes `w/bf16` (a bfloat16 Const) and `w` a Cast
  to float32 of it, which grappler's bf16 rewrite removes: the graph holds
  the weights at half the size, rounded as the rewrite would round them.
  """
  return _replace_weights(graph_def, _to_bfloat16)


def _add_variable(graph_def, name, shape, dtype, device):
  """Adds VariableV2 `name`, Placeholder `name/value`, Assign `name/assign`."""
  shape = tf.TensorShape(shape).as_proto()
  for suffix, op in (('', 'VariableV2'), ('/value', 'Placeholder')):
    node = graph_def.node.add(name=name + suffix, op=op, device=device)
    node.attr['dtype'].type = dtype.as_datatype_enum
    node.attr['shape'].shape.CopyFrom(shape)
  assign = graph_def.node.add(name=name + '/assign', op='Assign',
                              device=device, input=[name, name + '/value'])
  assign.attr['T'].type = dtype.as_datatype_enum
  assign.attr['validate_shape'].b = True
  assign.attr['use_locking'].b = False


def default_weights(precision):
  """'variables' in float32, 'mixed' in bfloat16, 'constants' in float16."""
  return {'float32': 'variables', 'bfloat16': 'mixed'}.get(precision.name,
                                                           'constants')


def place_weights(graph_def, weights, precision_name):
  """graph_def with its weights where `weights` says (InferenceSession).

  One pass: each weight becomes a variable (weights_to_variables) or stays a
  constant, stored as bf16 in bfloat16 (weights_to_bfloat16).

  Returns:
    (GraphDef, {variable name: value}) as weights_to_variables.
  """
  if weights not in WEIGHTS:
    raise errors.UsageError('weights must be one of %s; got %r'
                            % (', '.join(WEIGHTS), weights))
  dtype = tf.bfloat16 if precision_name == 'bfloat16' else tf.float32
  if weights == 'constants' and dtype == tf.float32:
    return graph_def, {}
  values = {}

  def place(copy, node):
    if weights == 'variables' or (
        weights == 'mixed' and _size(node) < MIXED_CONSTANT_ELEMENTS):
      _to_variable(copy, node, values, dtype)
    elif dtype == tf.bfloat16:
      _to_bfloat16(copy, node)
    else:
      copy.node.add().CopyFrom(node)
  return _replace_weights(graph_def, place), values


def release_free_memory():
  """Hands freed heap pages back to the OS (glibc's malloc_trim).

  After the weights are assigned, the freed numpy copies would otherwise
  stay in the process's RSS (about 100 MB for resnet_v1_50) and the first
  large batch would raise the peak above them. Returns False where there is
  no malloc_trim (not glibc).
  """
  try:
    return bool(ctypes.CDLL(None).malloc_trim(0))
  except (OSError, AttributeError, TypeError):
    return False


def assign_weights(session, values):
  """Runs each `name/assign` fed `values[name]`, emptying `values` as it goes.

  One variable at a time, so the process holds each weight about once.
  """
  graph = session.graph
  while values:
    name, value = values.popitem()
    session.run(graph.get_operation_by_name(name + '/assign'),
                {graph.get_tensor_by_name(name + '/value:0'): value})
    del value


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
    weights: Where the weights (float constants of MIN_WEIGHT_ELEMENTS or
      more) live. 'variables' (the float32 default): moved into variables
      (weights_to_variables) assigned once before the first run, so grappler
      and the session's graph copies never hold them; 'constants': kept in
      the GraphDef (bf16 constants in bfloat16; the float16 default);
      'mixed' (the bfloat16 default): those of MIXED_CONSTANT_ELEMENTS or
      more stay constants, the others go to variables. See the module
      docstring for what each costs.
  """

  def __init__(self, graph_def, input_name, output_names, device=None,
               xla=False, precision='float32', strict=False, *,
               weights=None):
    from slim_resnet.inference import precision as precision_lib  # pylint: disable=g-import-not-at-top
    self.precision = precision_lib.as_precision(
        precision, strict, device=device, cast_once=True)
    self.weights = weights or default_weights(self.precision)
    graph_def, self._values = place_weights(graph_def, self.weights,
                                            self.precision.name)
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
    release_free_memory()
    return run

  def _assign(self):
    """Assigns the weight variables (once; a no-op afterwards)."""
    if self._values:
      assign_weights(self.session, self._values)

  def __call__(self, images):
    self._assign()
    if self._input.dtype == tf.float32:
      images = np.asarray(images, np.float32)
    return self.session.run(self._outputs, {self._input: images})
