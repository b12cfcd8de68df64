"""An export in another runtime's format (ONNX, OpenVINO IR, TFLite), in
float32, bfloat16 or int8, checked against the TensorFlow session.

    result = write_converted(work, spec, 'openvino', ['global_pool'],
                             resolve_precision('openvino', 'int8'),
                             batch_size=None, sets=calibration_sets(...))

The checkpoint's graph is built with batch norm folded into the convolutions
(export_graph, fold_batch_norms=True), frozen, and handed to the format's
runtime module (runtimes.CONVERTED), which writes its file(s), quantizing
to int8 on the calibration images. The written model is then loaded by that
runtime and run on the check images (held back from calibration; random
preprocessed images for float32 and bfloat16 without --calibration) next to
the unfolded float32 session graph: export_check.agreement's figures must be
within export_check.bounds of the precision, or ExportError lists them
(accept_accuracy_drop=True writes it anyway). The figures go into
export.json's "accuracy".
"""
import os

from slim_resnet.inference import export_check
from slim_resnet.inference import export_graph
from slim_resnet.inference import inference_graph
from slim_resnet.inference import precision as precision_lib
from slim_resnet.inference import runtimes
from slim_resnet.inference.export_graph import ExportError

RANDOM_CHECK_IMAGES = 8


def format_module(fmt):
  """The runtime module that writes `fmt` (its extra checked)."""
  return runtimes.runtime_module(runtimes.CONVERTED[fmt], '--format %s' % fmt)


def resolve_precision(fmt, precision, strict=False):
  """The Precision a converted export is written and checked in.

  'auto' is bfloat16 where the format has it and the CPU runs it natively,
  else float32. bfloat16 without native support falls back to float32 with
  a message (strict: PrecisionError), as --precision does elsewhere.

  Raises:
    ExportError: For a precision the format does not have.
  """
  module = format_module(fmt)
  precision = precision or 'float32'
  has_bf16 = 'bfloat16' in module.PRECISIONS
  if precision == 'auto':
    precision = ('bfloat16' if has_bf16 and module.bfloat16_support()
                 else 'float32')
    return precision_lib.Precision(precision, 'auto')
  if precision not in module.PRECISIONS:
    raise ExportError(
        '--precision %s: --format %s is written in %s; for bfloat16 use '
        '--format openvino, frozen or savedmodel (float16: frozen or '
        'savedmodel, on a GPU)' % (
            precision, fmt, ' or '.join(module.PRECISIONS)))
  if precision == 'bfloat16' and not module.bfloat16_support():
    why = 'the %s runtime has no native bf16 on this CPU' % fmt
    if strict:
      raise precision_lib.PrecisionError(
          'precision bfloat16 is not supported here: %s; use float32 or '
          'int8 (or drop --precision-strict to fall back)' % why)
    chosen = precision_lib.Precision('float32', 'bfloat16',
                                     why + '; writing float32')
    from slim_resnet import notices  # pylint: disable=g-import-not-at-top
    notices.say(chosen.describe())
    return chosen
  return precision_lib.Precision(precision, precision)


def _session_outputs(spec, end_points, batch_size, images):
  """The unfolded float32 session graph's outputs on `images`."""
  with export_graph.LoadedGraph(spec, 'images', end_points,
                                fold_batch_norms=False,
                                batch_size=batch_size) as reference:
    if batch_size:
      return runtimes.run_in_batches(reference.run, images, batch_size)
    return reference.run(images)


def _frozen_folded(spec, end_points, batch_size, path):
  """Writes the folded, frozen GraphDef to `path`; returns (input tensor
  name, {output key: tensor name})."""
  with export_graph.LoadedGraph(spec, 'images', end_points,
                                fold_batch_norms=True,
                                batch_size=batch_size) as folded:
    graph_def = inference_graph.freeze_graph_def(
        folded.session, [t.op.name for t in folded.outputs.values()])
    names = {k: t.name for k, t in folded.outputs.items()}
    input_name = folded.inputs.name
  with open(path, 'wb') as f:
    f.write(graph_def.SerializeToString())
  return input_name, names


def write_converted(work, spec, fmt, end_points, chosen, batch_size=None,
                    sets=None, accept_accuracy_drop=False):
  """Writes and checks a converted export in `work`.

  Args:
    work: The directory to write into (export.export_model's temporary one).
    spec: The checkpoint's ModelSpec.
    fmt: 'onnx', 'openvino' or 'tflite'.
    end_points: end_points keys output too.
    chosen: A Precision (resolve_precision).
    batch_size: A fixed batch dimension, or None.
    sets: calibration.CalibrationSets (required for int8), or None.
    accept_accuracy_drop: Write it even past the bounds.

  Returns:
    (model file, input name in it, {output key: name in it}, accuracy
    figures with 'bounds' and 'failures').

  Raises:
    ExportError: Past the bounds, or int8 without calibration images.
  """
  module = format_module(fmt)
  if chosen.name == 'int8' and (sets is None or not len(sets.calibration)):
    raise ExportError(
        '--precision int8 needs --calibration IMAGES_OR_DATASET: a few '
        'hundred images like those the model will see (files, folders, '
        'globs or TFRecords, e.g. the training set)')
  check = (sets.check if sets is not None else export_check.test_batch(
      spec, 'images', batch_size or RANDOM_CHECK_IMAGES))
  expected = _session_outputs(spec, end_points, batch_size, check)
  frozen_path = os.path.join(work, '.frozen_graph.pb')
  try:
    input_name, names = _frozen_folded(spec, end_points, batch_size,
                                       frozen_path)
    model_file, input_name, outputs = module.write(
        frozen_path, work, input_name, names, chosen.name,
        calibration=None if sets is None else sets.calibration,
        batch_size=batch_size)
  finally:
    if os.path.exists(frozen_path):
      os.remove(frozen_path)
  model = module.Model(os.path.join(work, model_file), input_name, outputs,
                       chosen.name, batch_size=batch_size)
  try:
    found = model.run(check)
  finally:
    model.close()
  figures = export_check.agreement(expected, found)
  failed = export_check.failures(figures, chosen.name)
  if failed and not accept_accuracy_drop:
    raise ExportError(
        'the %s %s export is worse than the float32 session on %d %s: %s; '
        'calibrate on more images like the real ones (--calibration, '
        '--calibration-size), or write it anyway with '
        '--accept-accuracy-drop (the figures go into export.json)' % (
            chosen.name, fmt, len(check),
            'held-back images' if sets is not None else 'random images',
            '; '.join(failed)))
  figures.update(bounds=export_check.bounds(chosen.name), failures=failed,
                 check_images='held back' if sets is not None else 'random')
  return model_file, input_name, outputs, figures
