"""Export an inference graph: a frozen GraphDef and a SavedModel, checked.

    result = export_model('runs/flowers', 'exported/flowers')
    # exported/flowers/frozen_graph.pb     input 'images:0', outputs
    #                                      'logits:0', 'predictions:0', 'classes:0'
    # exported/flowers/saved_model/        signature 'serving_default'
    # exported/flowers/export.json         names, shapes, the parity check
    # exported/flowers/model_spec.json, labels.txt

research/slim's export_inference_graph.py + freeze_graph in one call. The
input is a float32 placeholder 'images' [batch, size, size, 3] of
preprocessed images, or (input_type='image_bytes') a string placeholder
'image_bytes' [batch] of encoded JPEG/PNG/GIF/BMP files that the graph decodes
and preprocesses as the checkpoint expects. Outputs: 'logits' [batch,
classes], 'predictions' (softmax), 'classes' (argmax), and any end_points as
'end_points/<key>' (SavedModel output key: the end_points key).

fold_batch_norms=True builds the net without batch norm and loads each conv's
batch norm folded into its weights and a bias (optimize.restore_folded).

Before anything is moved into place, both exported forms are run on a test
batch next to the checkpoint's own session graph; they must agree within
atol=rtol=1e-4, or ExportError. Everything is written to a temporary
directory and renamed into export_dir.

precision='bfloat16' (or 'float16' on a GPU, 'auto'; slim_resnet.precision):
the files keep float32 weights and float32 inputs/outputs, and the precision
is carried by the session config that runs them: grappler's
auto_mixed_precision_onednn_bfloat16 rewrite, which in the frozen graph casts
the constant weights to bf16 once, when the session first runs. export.json
records it ('precision', 'session_config' as a text ConfigProto); run the
frozen graph with optimize.InferenceSession(..., precision='bfloat16') and the
SavedModel in a Session with precision.session_config('bfloat16'). The check
then runs both forms in that precision against the float32 session graph: the
float outputs must be within BF16_TOLERANCE of the largest |logit| (classes
are compared and their agreement recorded, not required).
"""
import dataclasses
import io
import json
import os
import shutil
import tempfile
from typing import Dict, List, Optional

import numpy as np
import tf_slim as slim

from slim_resnet import errors
from slim_resnet import nets_factory
from slim_resnet import optimize
from slim_resnet import precision as precision_lib
from slim_resnet.checkpoints import model_spec as model_spec_lib
from slim_resnet.checkpoints import restorer
import tensorflow as tf

INPUT_TYPES = ('images', 'image_bytes')
FROZEN_GRAPH = 'frozen_graph.pb'
SAVED_MODEL = 'saved_model'
EXPORT_INFO = 'export.json'
TOLERANCE = 1e-4
BF16_TOLERANCE = 0.05  # Of max |output|; bf16 keeps 8 bits of mantissa.


class ExportError(errors.UserError):
  """An export that cannot be made, or whose outputs do not match."""


@dataclasses.dataclass
class ExportResult(object):
  """Where the export went and how it was checked.

  Attributes:
    export_dir: The directory written.
    frozen_graph: Path of the frozen GraphDef (or None).
    saved_model: Path of the SavedModel directory (or None).
    input_name: The input tensor name, e.g. 'images:0'.
    outputs: {output key: tensor name}.
    max_abs_diff: {format: largest |exported - session| over the outputs}.
    precision: The precision the export was checked in (what runs).
    class_agreement: {format: fraction of 'classes' equal to the float32
      session's}, with a lowered precision.
  """
  export_dir: str
  frozen_graph: Optional[str]
  saved_model: Optional[str]
  input_name: str
  outputs: Dict[str, str]
  max_abs_diff: Dict[str, float]
  end_points: List[str] = dataclasses.field(default_factory=list)
  precision: str = 'float32'
  class_agreement: Dict[str, float] = dataclasses.field(default_factory=dict)


def _preprocessed_images(spec, input_type, batch_size=None):
  """(input placeholder, preprocessed float32 [batch, size, size, 3])."""
  size = spec.image_size
  if input_type == 'images':
    spec.note_assumptions()
    images = tf.compat.v1.placeholder(tf.float32, [batch_size, size, size, 3],
                                      name='images')
    return images, images
  encoded = tf.compat.v1.placeholder(tf.string, [batch_size],
                                     name='image_bytes')
  preprocess = spec.preprocessing_fn()

  def decode_and_preprocess(data):
    # JPEG with the accurate integer DCT, as Pillow (the Classifier's and
    # training's decoder) does; TF's default, INTEGER_FAST, differs by a few
    # levels per pixel.
    image = tf.cond(
        tf.io.is_jpeg(data),
        lambda: tf.io.decode_jpeg(data, channels=3,
                                  dct_method='INTEGER_ACCURATE'),
        lambda: tf.io.decode_image(data, channels=3, expand_animations=False))
    image.set_shape([None, None, 3])
    return preprocess(image)
  images = tf.map_fn(decode_and_preprocess, encoded,
                     fn_output_signature=tf.float32)
  images.set_shape([batch_size, size, size, 3])
  return encoded, images


def build_inference_graph(spec, input_type='images', end_points=(),
                          fold_batch_norms=False, *, batch_size=None):
  """Builds the exported graph in the default graph (batch_size: a fixed
  batch dimension of the input, research/slim's --batch_size; None: any).

  Returns:
    (input placeholder, {output key: tensor}).

  Raises:
    ExportError: For an unknown input type or end_points key.
  """
  if input_type not in INPUT_TYPES:
    raise ExportError('input_type must be one of %s; got %r' % (
        ', '.join(INPUT_TYPES), input_type))
  inputs, images = _preprocessed_images(spec, input_type, batch_size)
  arg_scope = nets_factory.arg_scopes_map[spec.model](
      use_batch_norm=not fold_batch_norms)
  with slim.arg_scope(arg_scope):
    logits, net_end_points = nets_factory.get_network(spec.model)(
        images, num_classes=spec.num_classes, is_training=False,
        **spec.model_options)
  unknown = [k for k in end_points if k not in net_end_points]
  if unknown:
    raise ExportError('unknown end_points %s; this model has: %s' % (
        ', '.join(unknown), ', '.join(net_end_points)))
  outputs = {}
  if spec.num_classes:
    logits = tf.reshape(logits, [-1, spec.num_classes])
    outputs['logits'] = tf.identity(logits, name='logits')
    outputs['predictions'] = tf.nn.softmax(logits, name='predictions')
    outputs['classes'] = tf.argmax(logits, 1, name='classes')
  for key in end_points:
    outputs[key] = tf.identity(net_end_points[key], name='end_points/' + key)
  if not outputs:
    raise ExportError('a model without logits (num_classes=%s) needs '
                      'end_points to export' % spec.num_classes)
  return inputs, outputs


class _Session(object):
  """A graph built by build_inference_graph, with the checkpoint loaded."""

  def __init__(self, spec, input_type, end_points, fold_batch_norms,
               batch_size=None):
    self.graph = tf.Graph()
    with self.graph.as_default():
      self.inputs, self.outputs = build_inference_graph(
          spec, input_type, end_points, fold_batch_norms,
          batch_size=batch_size)
      self.session = tf.compat.v1.Session(graph=self.graph)
      self.session.run(tf.compat.v1.global_variables_initializer())
      if fold_batch_norms:
        optimize.restore_folded(self.session, spec.checkpoint_path)
      else:
        restorer.restore(self.session, spec.checkpoint_path,
                         checkpoint_background=spec.checkpoint_background)

  def run(self, batch):
    return self.session.run(self.outputs, {self.inputs: batch})

  def close(self):
    self.session.close()


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


def _write_saved_model(session, directory):
  with session.graph.as_default():
    builder = tf.compat.v1.saved_model.Builder(directory)
    signature = (
        tf.compat.v1.saved_model.signature_def_utils.predict_signature_def(
            inputs={session.inputs.op.name: session.inputs},
            outputs=session.outputs))
    builder.add_meta_graph_and_variables(
        session.session, [tf.compat.v1.saved_model.tag_constants.SERVING],
        signature_def_map={'serving_default': signature},
        strip_default_attrs=True)
  builder.save()


def _run_frozen(path, input_name, outputs, batch, precision='float32'):
  """Runs the written frozen graph as users would (optimize.InferenceSession)."""
  graph_def = tf.compat.v1.GraphDef()
  with open(path, 'rb') as f:
    graph_def.ParseFromString(f.read())
  op_name = lambda tensor_name: tensor_name.rsplit(':', 1)[0]
  with optimize.InferenceSession(graph_def, op_name(input_name),
                                 [op_name(n) for n in outputs.values()],
                                 precision=precision) as run:
    return dict(zip(outputs, run(batch)))


def _run_saved_model(path, batch, precision='float32'):
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


def _max_abs_diff(expected, found, where, precision=None, agreement=None,
                  key=None):
  """Largest |found - expected| over float outputs; raises ExportError.

  With a lowered precision (precision.lowered), float outputs must be within
  BF16_TOLERANCE x max |expected| and integer outputs are not required to
  match: their agreement goes into `agreement` (a dict, by `key`).
  """
  if precision is not None and precision.lowered:
    return _lowered_diff(expected, found, where, agreement, key)
  worst = 0.0
  for key, value in expected.items():
    if key not in found:
      raise ExportError('%s lacks the output %r' % (where, key))
    got = np.asarray(found[key])
    if value.dtype.kind in 'iu':
      if not np.array_equal(value, got):
        raise ExportError('%s: output %r differs from the session graph' % (
            where, key))
      continue
    if not np.allclose(got, value, atol=TOLERANCE, rtol=TOLERANCE):
      raise ExportError(
          '%s: output %r differs from the session graph by up to %.3g '
          '(tolerance %g)' % (where, key, np.max(np.abs(got - value)),
                              TOLERANCE))
    worst = max(worst, float(np.max(np.abs(got - value))) if value.size else 0)
  return worst


def _lowered_diff(expected, found, where, agreement, agreement_key):
  worst = 0.0
  for key, value in expected.items():
    if key not in found:
      raise ExportError('%s lacks the output %r' % (where, key))
    got = np.asarray(found[key])
    if value.dtype.kind in 'iu':
      if agreement is not None and value.size:
        agreement[agreement_key] = float(np.mean(got == value))
      continue
    if not value.size:
      continue
    diff = float(np.max(np.abs(got.astype(np.float64) - value)))
    scale = max(float(np.max(np.abs(value))), 1e-6)
    if not np.all(np.isfinite(got)) or diff > BF16_TOLERANCE * scale:
      raise ExportError(
          '%s: output %r differs from the float32 session graph by up to '
          '%.3g, more than %g of its scale %.3g' % (
              where, key, diff, BF16_TOLERANCE, scale))
    worst = max(worst, diff)
  return worst


def export_model(checkpoint, export_dir, input_type='images', end_points=(),
                 fold_batch_norms=False, formats=('frozen', 'saved_model'),
                 overwrite=False, batch_size=None, precision='float32',
                 precision_strict=False, **overrides):
  """Exports a checkpoint's inference graph, checked against the session.

  Args:
    checkpoint: A training directory, a checkpoint path, a manifest name, or
      None for the shipped checkpoint.
    export_dir: The directory to create.
    input_type: 'images' (preprocessed float32) or 'image_bytes' (encoded
      files).
    end_points: Extra end_points keys to output, e.g. ['global_pool'].
    fold_batch_norms: Fold batch norm into the conv weights and biases.
    formats: Any of 'frozen' and 'saved_model'.
    overwrite: Replace an existing export_dir (only once the new export is
      complete and checked).
    batch_size: A fixed batch dimension of the input (research/slim's
      export --batch_size); None: any batch size.
    precision: 'float32', 'bfloat16', 'float16' or 'auto': the precision
      the export is checked and meant to run in (see the module docstring;
      export.json records it). precision_strict: raise instead of falling
      back to float32 where it is not supported.
    **overrides: ModelSpec fields (model, num_classes, image_size, ...).

  Returns:
    An ExportResult.

  Raises:
    ExportError: For bad arguments, an existing export_dir, or outputs that
      do not match the session graph.
    checkpoints.CheckpointError: If the checkpoint cannot be found or fit.
  """
  formats = tuple(formats)
  bad = [f for f in formats if f not in ('frozen', 'saved_model')]
  if bad or not formats:
    raise ExportError("formats must be 'frozen' and/or 'saved_model'; got %r"
                      % (formats,))
  export_dir = os.path.abspath(export_dir)
  _recover(export_dir)
  if os.path.exists(export_dir) and not overwrite:
    raise ExportError('%s exists; choose another directory, or replace it with '
                      '--overwrite (overwrite=True)'
                      % export_dir)
  spec = model_spec_lib.resolve_model(checkpoint, **overrides)
  chosen = precision_lib.resolve(precision, precision_strict, cast_once=True)
  end_points = list(end_points)
  parent = os.path.dirname(export_dir)
  os.makedirs(parent, exist_ok=True)
  work = tempfile.mkdtemp(prefix='.' + os.path.basename(export_dir) + '.',
                          dir=parent)
  os.chmod(work, _directory_mode())  # mkdtemp makes it 0700.
  try:
    result = _export_into(work, spec, input_type, end_points,
                          fold_batch_norms, formats, chosen, batch_size)
    _move_into_place(work, export_dir)
  except BaseException:
    shutil.rmtree(work, ignore_errors=True)
    raise
  result.export_dir = export_dir
  for field in ('frozen_graph', 'saved_model'):
    path = getattr(result, field)
    if path:
      setattr(result, field, os.path.join(export_dir, os.path.basename(path)))
  return result


def _directory_mode():
  """0777 less the umask: what os.makedirs would give."""
  umask = os.umask(0)
  os.umask(umask)
  return 0o777 & ~umask


def _export_into(work, spec, input_type, end_points, fold_batch_norms,
                 formats, chosen, batch_size=None):
  """Writes and checks the export in `work`; returns an ExportResult."""
  reference = _Session(spec, input_type, end_points, fold_batch_norms=False,
                       batch_size=batch_size)
  exported = (_Session(spec, input_type, end_points, fold_batch_norms=True,
                       batch_size=batch_size)
              if fold_batch_norms else reference)
  try:
    batch = test_batch(spec, input_type, batch_size or 2)
    expected = reference.run(batch)
    names = {k: t.name for k, t in exported.outputs.items()}
    result = ExportResult(export_dir=work, frozen_graph=None,
                          saved_model=None, input_name=exported.inputs.name,
                          outputs=names, max_abs_diff={},
                          end_points=end_points, precision=chosen.name)
    if 'frozen' in formats:
      result.frozen_graph = os.path.join(work, FROZEN_GRAPH)
      frozen = optimize.freeze_graph_def(
          exported.session, [t.op.name for t in exported.outputs.values()])
      with open(result.frozen_graph, 'wb') as f:
        f.write(frozen.SerializeToString())
      result.max_abs_diff['frozen'] = _max_abs_diff(
          expected, _run_frozen(result.frozen_graph, result.input_name, names,
                                batch, chosen), 'the frozen graph', chosen,
          result.class_agreement, 'frozen')
    if 'saved_model' in formats:
      result.saved_model = os.path.join(work, SAVED_MODEL)
      _write_saved_model(exported, result.saved_model)
      result.max_abs_diff['saved_model'] = _max_abs_diff(
          expected, _run_saved_model(result.saved_model, batch, chosen),
          'the SavedModel', chosen, result.class_agreement, 'saved_model')
  finally:
    reference.close()
    if exported is not reference:
      exported.close()
  model_spec_lib.write_model_spec(spec, work)
  info = dict(dataclasses.asdict(result), export_dir=None,
              frozen_graph=result.frozen_graph and FROZEN_GRAPH,
              saved_model=result.saved_model and SAVED_MODEL,
              input_type=input_type, fold_batch_norms=fold_batch_norms,
              model=spec.model, num_classes=spec.num_classes,
              image_size=spec.image_size, checkpoint=spec.checkpoint_path,
              preprocessing=spec.preprocessing,
              assumed=list(spec.assumed),
              tolerance=(BF16_TOLERANCE if chosen.lowered else TOLERANCE),
              tolerance_relative_to_scale=chosen.lowered,
              precision=chosen.name, precision_requested=chosen.requested,
              precision_reason=chosen.reason,
              session_config=str(precision_lib.session_config(chosen)))
  with open(os.path.join(work, EXPORT_INFO), 'w', encoding='utf-8') as f:
    json.dump(info, f, indent=2, sort_keys=True)
  return result


def _recover(export_dir):
  """Finishes a swap that _move_into_place did not: a crash between its two
  renames leaves only export_dir.old (renamed back), one after them leaves
  both (the .old is removed)."""
  old = export_dir + '.old'
  if os.path.isdir(old):
    if os.path.exists(export_dir):
      shutil.rmtree(old)
    else:
      os.rename(old, export_dir)


def _move_into_place(work, export_dir):
  """Swaps work in as export_dir by renames; the old export_dir is kept (as
  export_dir.old) until the new one is in place, put back if that fails,
  and recovered by the next export if the process died in between."""
  _recover(export_dir)
  old = None
  if os.path.exists(export_dir):
    old = export_dir + '.old'
    os.rename(export_dir, old)
  try:
    os.rename(work, export_dir)
  except BaseException:
    if old:
      os.rename(old, export_dir)
    raise
  if old:
    shutil.rmtree(old, ignore_errors=True)
