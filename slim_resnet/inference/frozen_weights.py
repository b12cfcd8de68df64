"""Where a frozen GraphDef's weights live: constants, variables, bf16.

    graph_def, values = place_weights(graph_def, 'mixed', 'bfloat16')
    # ... import graph_def into a session, then:
    assign_weights(session, values)

InferenceSession (inference_graph) calls these; they change only where the
weights are held, never the numbers the graph computes (tests: the same
logits in every placement).

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
"""
import ctypes

import numpy as np

from slim_resnet import errors
import tensorflow as tf


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
