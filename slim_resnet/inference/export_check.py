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
from slim_resnet.inference.runtimes import op_name
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


# The accuracy gate of the converted formats (onnx, openvino, tflite): their
# outputs on held-back images against the float32 session's.
INT8_MIN_TOP1_AGREEMENT = 0.99
INT8_MIN_COSINE = 0.99


def agreement(expected, found):
  """Figures of an export's outputs against the session's, on the same images.

  Args:
    expected: {output key: array [n, ...]} of the float32 session graph.
    found: The same keys from the export.

  Returns:
    {'images': n, 'top1_agreement': fraction of argmax(logits) equal (when
    there are logits), 'outputs': {key: {'max_abs_error', 'mean_abs_error',
    'scale' (max |expected|), 'relative_error' (max_abs_error / scale),
    'mean_cosine', 'min_cosine' (per image, of the flattened outputs)}}}
    for the float outputs ('predictions' and the integer 'classes' are
    left out: logits say it all).
  """
  figures = {'images': 0, 'outputs': {}}
  for key, value in expected.items():
    if key not in found:
      raise ExportError('the export lacks the output %r' % key)
    figures['images'] = len(value)
    if key == 'predictions' or np.asarray(value).dtype.kind in 'iub' or (
        not np.size(value)):
      continue
    value = np.asarray(value, np.float64)
    got = np.asarray(found[key], np.float64)
    if key == 'logits':
      figures['top1_agreement'] = float(np.mean(
          got.argmax(1) == value.argmax(1)))
    diff = np.abs(got - value)
    scale = max(float(np.max(np.abs(value))), 1e-12)
    flat_e, flat_f = value.reshape(len(value), -1), got.reshape(len(got), -1)
    norms = (np.linalg.norm(flat_e, axis=1) * np.linalg.norm(flat_f, axis=1))
    cosine = np.where(norms > 0, np.sum(flat_e * flat_f, axis=1) /
                      np.maximum(norms, 1e-300), 1.0)
    finite = bool(np.all(np.isfinite(got)))
    if not finite:
      diff, cosine = np.full_like(diff, np.inf), np.zeros_like(cosine)
    figures['outputs'][key] = {
        'finite': finite,
        'max_abs_error': float(diff.max()),
        'mean_abs_error': float(diff.mean()),
        'scale': scale, 'relative_error': float(diff.max()) / scale,
        'mean_cosine': float(cosine.mean()),
        'min_cosine': float(cosine.min())}
  return figures


def bounds(precision):
  """The gate's bounds for a precision name: {'relative_error': ...} of
  every float output for float32 (TOLERANCE) and bfloat16 (BF16_TOLERANCE);
  for int8 {'top1_agreement'} of the logits and {'mean_cosine'} of each
  end_points output (int8 logits are judged by the classes they give)."""
  if precision == 'int8':
    return {'top1_agreement': INT8_MIN_TOP1_AGREEMENT,
            'mean_cosine': INT8_MIN_COSINE}
  return {'relative_error': TOLERANCE if precision == 'float32'
          else BF16_TOLERANCE}


def failures(figures, precision):
  """What in `figures` (agreement's) is past the bounds of `precision`:
  a list of 'name value (bound b)' strings, empty when it passes."""
  limits = bounds(precision)
  found = ['%s has NaN or infinite values' % key
           for key, output in figures['outputs'].items()
           if not output.get('finite', True)]
  if 'top1_agreement' in limits and 'top1_agreement' in figures and (
      figures['top1_agreement'] < limits['top1_agreement']):
    found.append('top-1 agreement %.4f (at least %g)' % (
        figures['top1_agreement'], limits['top1_agreement']))
  for key, output in figures['outputs'].items():
    if 'mean_cosine' in limits and key != 'logits' and not (
        output['mean_cosine'] >= limits['mean_cosine']):
      found.append('%s cosine %.4f (at least %g)' % (
          key, output['mean_cosine'], limits['mean_cosine']))
    if 'relative_error' in limits and not (
        output['relative_error'] <= limits['relative_error']):
      found.append('%s error %.3g of its scale %.3g (at most %g)' % (
          key, output['relative_error'], output['scale'],
          limits['relative_error']))
  return found
