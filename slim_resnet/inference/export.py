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
batch norm folded into its weights and a bias (batch_norm_folding.restore_folded).

Before anything is moved into place, both exported forms are run on a test
batch next to the checkpoint's own session graph; they must agree within
atol=rtol=1e-4, or ExportError. Everything is written to a temporary
directory and renamed into export_dir.

precision='bfloat16' (or 'float16' on a GPU, 'auto'; slim_resnet.inference.precision):
the files keep float32 weights and float32 inputs/outputs, and the precision
is carried by the session config that runs them: grappler's
auto_mixed_precision_onednn_bfloat16 rewrite (InferenceSession stores the
frozen graph's weights as bf16 once, when it loads it). export.json
records it ('precision', 'session_config' as a text ConfigProto); run the
frozen graph with inference_graph.InferenceSession(..., precision='bfloat16') and the
SavedModel in a Session with precision.session_config('bfloat16'). The check
then runs both forms in that precision against the float32 session graph: the
float outputs must be within BF16_TOLERANCE of the largest |logit| (classes
are compared and their agreement recorded, not required).
"""
import dataclasses
import json
import os
import shutil
import tempfile
from typing import Dict, List, Optional

from slim_resnet import files
from slim_resnet.checkpoints import model_spec as model_spec_lib
from slim_resnet.inference import calibration as calibration_lib
from slim_resnet.inference import converted_export
from slim_resnet.inference import export_check
from slim_resnet.inference import export_graph
from slim_resnet.inference import inference_graph
from slim_resnet.inference import precision as precision_lib
from slim_resnet.inference import runtimes
from slim_resnet.inference.export_graph import ExportError
import tensorflow as tf

FROZEN_GRAPH = runtimes.FORMATS['frozen'][0]
SAVED_MODEL = runtimes.FORMATS['savedmodel'][0]
EXPORT_INFO = runtimes.EXPORT_INFO
# --format's TensorFlow forms: format -> the `formats` name.
TF_FORMATS = {'frozen': 'frozen', 'savedmodel': 'saved_model'}


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
    format: 'onnx', 'openvino' or 'tflite' for a converted export (None:
      the TensorFlow forms); model_file: its file in export_dir.
    accuracy: A converted export's figures against the float32 session on
      the check images (export_check.agreement), with 'bounds' and
      'failures' (export_check.failures; non-empty only when accepted).
    calibration: Where the calibration and check images came from, how
      many (calibration.CalibrationSets.as_dict), or None.
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
  format: Optional[str] = None
  model_file: Optional[str] = None
  accuracy: dict = dataclasses.field(default_factory=dict)
  calibration: Optional[dict] = None


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


def export_model(checkpoint, export_dir, input_type='images', end_points=(),
                 fold_batch_norms=False, formats=('frozen', 'saved_model'),
                 overwrite=False, batch_size=None, precision='float32',
                 precision_strict=False, *, format=None,  # pylint: disable=redefined-builtin
                 calibration=None,
                 calibration_size=calibration_lib.DEFAULT_CALIBRATION_SIZE,
                 check_size=calibration_lib.DEFAULT_CHECK_SIZE,
                 check_images=None, accept_accuracy_drop=False, **overrides):
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
      export.json records it); 'int8' for a converted format. precision_strict:
      raise instead of falling back to float32 where it is not supported.
    format: One format instead of `formats`: 'frozen', 'savedmodel', or a
      converted one, 'onnx', 'openvino' or 'tflite' (converted_export:
      batch norm always folded, 'images' input only).
    calibration: Images for int8 and for the accuracy check: files, folders,
      globs or TFRecords (calibration.calibration_sets); calibration_size
      images calibrate, check_size others are held back for the check
      (or come from check_images, e.g. a validation split).
    accept_accuracy_drop: Write a converted export past the accuracy bounds
      (export_check.bounds; the figures are in export.json either way).
    **overrides: ModelSpec fields (model, num_classes, image_size, ...).

  Returns:
    An ExportResult.

  Raises:
    ExportError: For bad arguments, an existing export_dir, or outputs that
      do not match the session graph.
    checkpoints.CheckpointError: If the checkpoint cannot be found or fit.
  """
  converted = format in runtimes.CONVERTED
  if format is not None and not converted:
    if format not in TF_FORMATS:
      raise ExportError('format must be one of %s; got %r' % (
          ', '.join(list(TF_FORMATS) + list(runtimes.CONVERTED)), format))
    formats = (TF_FORMATS[format],)
  formats = tuple(formats)
  bad = [f for f in formats if f not in ('frozen', 'saved_model')]
  if bad or not formats:
    raise ExportError("formats must be 'frozen' and/or 'saved_model'; got %r"
                      % (formats,))
  if converted and input_type != 'images':
    raise ExportError('--format %s takes preprocessed images (input type '
                      "'images'); image_bytes is for frozen and savedmodel"
                      % format)
  if (calibration is not None or check_images is not None) and not converted:
    raise ExportError('--calibration and --check-images are for --format '
                      'onnx, openvino or tflite (int8, and their accuracy '
                      'check on real images); frozen and savedmodel are '
                      'checked as they are')
  if precision == 'int8' and not converted:
    raise ExportError('int8 is post-training quantization into --format '
                      'onnx, openvino or tflite (with --calibration IMAGES)')
  export_dir = os.path.abspath(export_dir)
  files.recover_replaced_directory(export_dir)
  if os.path.exists(export_dir) and not overwrite:
    raise ExportError('%s exists; choose another directory, or replace it with '
                      '--overwrite (overwrite=True)'
                      % export_dir)
  spec = model_spec_lib.resolve_model(checkpoint, **overrides)
  if converted:
    chosen = converted_export.resolve_precision(format, precision,
                                                precision_strict)
  else:
    chosen = precision_lib.resolve(precision, precision_strict,
                                   cast_once=True)
  sets = None
  if calibration is not None or check_images is not None:
    sets = calibration_lib.calibration_sets(spec, calibration,
                                            calibration_size, check_size,
                                            check_source=check_images)
  end_points = list(end_points)
  parent = os.path.dirname(export_dir)
  os.makedirs(parent, exist_ok=True)
  work = tempfile.mkdtemp(prefix='.' + os.path.basename(export_dir) + '.',
                          dir=parent)
  os.chmod(work, files.directory_mode())  # mkdtemp makes it 0700.
  try:
    if converted:
      result = _convert_into(work, spec, format, end_points, chosen,
                             batch_size, sets, accept_accuracy_drop)
    else:
      result = _export_into(work, spec, input_type, end_points,
                            fold_batch_norms, formats, chosen, batch_size)
    result.format = format
    _write_info(work, result, spec, input_type,
                fold_batch_norms or converted, chosen, batch_size)
    files.replace_directory(work, export_dir)
  except BaseException:
    shutil.rmtree(work, ignore_errors=True)
    raise
  result.export_dir = export_dir
  for field in ('frozen_graph', 'saved_model', 'model_file'):
    path = getattr(result, field)
    if path:
      setattr(result, field, os.path.join(export_dir, os.path.basename(path)))
  return result


def _export_into(work, spec, input_type, end_points, fold_batch_norms,
                 formats, chosen, batch_size=None):
  """Writes and checks the export in `work`; returns an ExportResult."""
  reference = export_graph.LoadedGraph(spec, input_type, end_points,
                                       fold_batch_norms=False,
                                       batch_size=batch_size)
  exported = (export_graph.LoadedGraph(spec, input_type, end_points,
                                       fold_batch_norms=True,
                                       batch_size=batch_size)
              if fold_batch_norms else reference)
  try:
    batch = export_check.test_batch(spec, input_type, batch_size or 2)
    expected = reference.run(batch)
    names = {k: t.name for k, t in exported.outputs.items()}
    result = ExportResult(export_dir=work, frozen_graph=None,
                          saved_model=None, input_name=exported.inputs.name,
                          outputs=names, max_abs_diff={},
                          end_points=end_points, precision=chosen.name)
    if 'frozen' in formats:
      result.frozen_graph = os.path.join(work, FROZEN_GRAPH)
      frozen = inference_graph.freeze_graph_def(
          exported.session, [t.op.name for t in exported.outputs.values()])
      with open(result.frozen_graph, 'wb') as f:
        f.write(frozen.SerializeToString())
      result.max_abs_diff['frozen'] = export_check.max_abs_diff(
          expected, export_check.run_frozen(result.frozen_graph, result.input_name, names,
                                batch, chosen), 'the frozen graph', chosen,
          result.class_agreement, 'frozen')
    if 'saved_model' in formats:
      result.saved_model = os.path.join(work, SAVED_MODEL)
      _write_saved_model(exported, result.saved_model)
      result.max_abs_diff['saved_model'] = export_check.max_abs_diff(
          expected, export_check.run_saved_model(result.saved_model, batch, chosen),
          'the SavedModel', chosen, result.class_agreement, 'saved_model')
  finally:
    reference.close()
    if exported is not reference:
      exported.close()
  return result


def _convert_into(work, spec, fmt, end_points, chosen, batch_size, sets,
                  accept_accuracy_drop):
  """Writes and checks a converted export in `work` (converted_export)."""
  model_file, input_name, outputs, figures = converted_export.write_converted(
      work, spec, fmt, end_points, chosen, batch_size, sets,
      accept_accuracy_drop)
  worst = max([o['max_abs_error'] for o in figures['outputs'].values()] +
              [0.0])
  return ExportResult(
      export_dir=work, frozen_graph=None, saved_model=None,
      input_name=input_name, outputs=outputs, max_abs_diff={fmt: worst},
      end_points=end_points, precision=chosen.name,
      model_file=os.path.join(work, model_file), accuracy=figures,
      calibration=sets.as_dict() if sets is not None else None)


def _write_info(work, result, spec, input_type, fold_batch_norms, chosen,
                batch_size):
  """model_spec.json, labels.txt and export.json into `work`."""
  model_spec_lib.write_model_spec(spec, work)
  converted = result.format in runtimes.CONVERTED
  info = dict(dataclasses.asdict(result), export_dir=None,
              frozen_graph=result.frozen_graph and FROZEN_GRAPH,
              saved_model=result.saved_model and SAVED_MODEL,
              model_file=result.model_file and os.path.basename(
                  result.model_file),
              batch_size=batch_size,
              input_type=input_type, fold_batch_norms=fold_batch_norms,
              model=spec.model, num_classes=spec.num_classes,
              image_size=spec.image_size, checkpoint=spec.checkpoint_path,
              preprocessing=spec.preprocessing,
              assumed=list(spec.assumed),
              tolerance=(export_check.bounds(chosen.name) if converted else
                         export_check.BF16_TOLERANCE if chosen.lowered
                         else export_check.TOLERANCE),
              tolerance_relative_to_scale=converted or chosen.lowered,
              precision=chosen.name, precision_requested=chosen.requested,
              precision_reason=chosen.reason,
              session_config=(None if converted else
                              str(precision_lib.session_config(chosen))))
  info['runtime'] = runtimes.FORMATS[runtimes.export_format(info)][2]
  with open(os.path.join(work, EXPORT_INFO), 'w', encoding='utf-8') as f:
    json.dump(info, f, indent=2, sort_keys=True)
