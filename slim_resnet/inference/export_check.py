"""The export's self-check: each written form, run as users would run it
on a test batch, against the checkpoint's float32 session graph.

    batch = test_batch(spec, 'image_bytes')       # random PNG files
    worst = max_abs_diff(expected, run_frozen(path, 'images:0', names, batch),
                         'the frozen graph')      # or ExportError
"""
import io

import numpy as np

from slim_resnet.inference import inference_graph
from slim_resnet.inference import precision as precision_lib
from slim_resnet.inference.export_graph import ExportError
import tensorflow as tf

TOLERANCE = 1e-4
BF16_TOLERANCE = 0.05  # Of max |output|; bf16 keeps 8 bits of mantissa.


def test_batch(spec, input_type, batch_size=2, seed=0):
  """Random images for the parity check: preprocessed floats or PNG bytes."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  rng = np.random.RandomState(seed)
  size = spec.image_size
  if input_type == 'images':
    return rng.uniform(-120, 140, [batch_size, size, size, 3]).astype(
        np.float32)
  encoded = []
  for _ in range(batch_size):
    buffer = io.BytesIO()
    Image.fromarray(rng.randint(0, 256, [size + 7, size + 3, 3]).astype(
        np.uint8)).save(buffer, format='PNG')
    encoded.append(buffer.getvalue())
  return np.array(encoded, dtype=object)


def run_frozen(path, input_name, outputs, batch, precision='float32'):
  """Runs the written frozen graph as users would (inference_graph.InferenceSession)."""
  graph_def = tf.compat.v1.GraphDef()
  with open(path, 'rb') as f:
    graph_def.ParseFromString(f.read())
  op_name = lambda tensor_name: tensor_name.rsplit(':', 1)[0]
  with inference_graph.InferenceSession(graph_def, op_name(input_name),
                                 [op_name(n) for n in outputs.values()],
                                 precision=precision) as run:
    return dict(zip(outputs, run(batch)))


def run_saved_model(path, batch, precision='float32'):
  with tf.Graph().as_default() as graph:
    with tf.compat.v1.Session(
        graph=graph,
        config=precision_lib.session_config(precision)) as session:
      meta = tf.compat.v1.saved_model.loader.load(
          session, [tf.compat.v1.saved_model.tag_constants.SERVING], path)
      signature = meta.signature_def['serving_default']
      (input_info,) = signature.inputs.values()
      return session.run(
          {k: graph.get_tensor_by_name(v.name)
           for k, v in signature.outputs.items()},
          {graph.get_tensor_by_name(input_info.name): batch})


def max_abs_diff(expected, found, where, precision=None, agreement=None,
                 agreement_key=None):
  """Largest |found - expected| over the float outputs; raises ExportError.

  In float32, float outputs must be within atol=rtol=TOLERANCE and integer
  outputs ('classes') equal. With a lowered precision (precision.lowered),
  float outputs must be finite and within BF16_TOLERANCE x max |expected|,
  and integer outputs are not required to match: their agreement goes into
  `agreement` (a dict, by `agreement_key`).
  """
  lowered = precision is not None and precision.lowered
  worst = 0.0
  for key, value in expected.items():
    if key not in found:
      raise ExportError('%s lacks the output %r' % (where, key))
    got = np.asarray(found[key])
    if value.dtype.kind in 'iu':
      if not lowered and not np.array_equal(value, got):
        raise ExportError('%s: output %r differs from the session graph' % (
            where, key))
      if lowered and agreement is not None and value.size:
        agreement[agreement_key] = float(np.mean(got == value))
      continue
    if not value.size:
      continue
    diff = float(np.max(np.abs(got.astype(np.float64) - value)))
    if lowered:
      scale = max(float(np.max(np.abs(value))), 1e-6)
      if not np.all(np.isfinite(got)) or diff > BF16_TOLERANCE * scale:
        raise ExportError(
            '%s: output %r differs from the float32 session graph by up to '
            '%.3g, more than %g of its scale %.3g' % (
                where, key, diff, BF16_TOLERANCE, scale))
    elif not np.allclose(got, value, atol=TOLERANCE, rtol=TOLERANCE):
      raise ExportError(
          '%s: output %r differs from the session graph by up to %.3g '
          '(tolerance %g)' % (where, key, diff, TOLERANCE))
    worst = max(worst, diff)
  return worst
