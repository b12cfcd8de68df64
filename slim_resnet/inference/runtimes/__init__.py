"""Runtimes for export directories: one interface over TensorFlow,
onnxruntime, OpenVINO and TFLite.

    model = runtimes.load('exported/r50_int8')      # the format's own runtime
    outputs = model.run(images)    # float32 [n, size, size, 3], preprocessed
    # {'logits': [n, classes], 'predictions': ..., 'classes': [n],
    #  '<end_points key>': [n, ...]}
    model.close()

An export directory (inference.export) holds export.json (format, input
name, {output key: name in the file}, precision, batch size, the accuracy
check's figures), model_spec.json and labels.txt beside the model file(s).

FORMATS: format -> (model file, runtimes that run it, the default runtime).
RUNTIMES: runtime -> (module here, the pip extra it needs or None). Each
runtime module has `Model(path, input_name, outputs, precision)` with
run(images) and close(); those that convert a frozen GraphDef into their
format have `write(frozen_graph, export_dir, input_name, outputs, precision,
calibration, batch_size)` (in PRECISIONS of their format).
"""
import importlib
import json
import os
import threading

import numpy as np

from slim_resnet import errors
from slim_resnet import notices
from slim_resnet.inference import precision as precision_lib

EXPORT_INFO = 'export.json'

FORMATS = {
    # format: (model file in the export directory, runtimes, default)
    'frozen': ('frozen_graph.pb', ('tensorflow',), 'tensorflow'),
    'savedmodel': ('saved_model', ('tensorflow',), 'tensorflow'),
    'onnx': ('model.onnx', ('onnxruntime', 'openvino'), 'onnxruntime'),
    'openvino': ('model.xml', ('openvino',), 'openvino'),
    'tflite': ('model.tflite', ('tflite',), 'tflite'),
}
RUNTIMES = {
    # runtime: (module in this package, pip extra or None)
    'tensorflow': ('tensorflow_graph', None),
    'onnxruntime': ('onnx_runtime', 'onnx'),
    'openvino': ('openvino_runtime', 'openvino'),
    'tflite': ('tflite_interpreter', None),
}
# The formats a runtime module writes from a frozen GraphDef (the others are
# inference.export's own TensorFlow forms).
CONVERTED = {'onnx': 'onnxruntime', 'openvino': 'openvino', 'tflite': 'tflite'}
# The precisions each converted format is written in (bfloat16: OpenVINO's
# load-time inference precision; int8: post-training quantization).
PRECISIONS = {'onnx': ('float32', 'int8'),
              'openvino': ('float32', 'bfloat16', 'int8'),
              'tflite': ('float32', 'int8')}


class ExportRuntimeError(errors.UserError):
  """An export directory that cannot be run: unknown runtime, missing extra,
  a runtime that does not read its format."""


class MissingExtraError(ExportRuntimeError):
  """A runtime's Python package is not installed; names the pip install."""


def _missing(what, package, extra, error):
  return MissingExtraError(
      "%s needs %s, which is not installed (%s): pip install "
      "'slim_resnet[%s]' (from a clone: pip install -e '.[%s]')" % (
          what, package, error, extra, extra))


def require(package, extra, what):
  """Imports `package`, or raises MissingExtraError naming the install.

  Args:
    package: The module to import, e.g. 'onnxruntime'.
    extra: slim_resnet's extra that installs it, e.g. 'onnx'.
    what: What needs it, for the message, e.g. '--format onnx'.
  """
  try:
    return importlib.import_module(package)
  except ImportError as e:
    raise _missing(what, package.split('.')[0], extra, e) from None


def runtime_module(runtime, what=None):
  """The module of a runtime (RUNTIMES), its extra checked on import."""
  if runtime not in RUNTIMES:
    raise ExportRuntimeError('unknown runtime %r; known: %s' % (
        runtime, ', '.join(RUNTIMES)))
  name, extra = RUNTIMES[runtime]
  try:
    return importlib.import_module(__name__ + '.' + name)
  except ImportError as e:
    if not extra:
      raise
    raise _missing(what or 'the %s runtime' % runtime,
                   'the %s extra' % extra, extra, e) from None


def is_export(path):
  """Whether `path` is an export directory (it holds export.json)."""
  return bool(path) and isinstance(path, (str, os.PathLike)) and (
      os.path.isfile(os.path.join(os.fspath(path), EXPORT_INFO)))


def read_info(export_dir):
  """export.json of an export directory, as a dict."""
  path = os.path.join(export_dir, EXPORT_INFO)
  try:
    with open(path, encoding='utf-8') as f:
      return json.load(f)
  except ValueError as e:
    raise ExportRuntimeError('%s is not valid JSON: %s' % (path, e)) from None


def export_format(info):
  """The format of an export.json: 'format', or the TensorFlow forms of an
  export written before it had one (frozen graph first)."""
  if info.get('format'):
    return info['format']
  return 'frozen' if info.get('frozen_graph') else 'savedmodel'


def choose_runtime(fmt, runtime=None):
  """The runtime for a format: `runtime` if it reads it, else the default."""
  _, readers, default = FORMATS[fmt]
  if runtime is None:
    return default
  if runtime not in RUNTIMES:
    raise ExportRuntimeError('unknown runtime %r; known: %s' % (
        runtime, ', '.join(RUNTIMES)))
  if runtime not in readers:
    raise ExportRuntimeError('the %s runtime does not read the %s format; it is '
                        'read by %s' % (runtime, fmt, ', '.join(readers)))
  return runtime


def export_spec(export_dir, **overrides):
  """The ModelSpec of an export directory (its model_spec.json), for its
  preprocessing and labels; checkpoint_path is the directory.

  Raises:
    ExportRuntimeError: For overrides (--image-size, --num-classes, ...)
      that differ from what the export was made with.
  """
  from slim_resnet.checkpoints import model_spec  # pylint: disable=g-import-not-at-top
  fields = model_spec.read_model_spec(export_dir)
  if not fields:
    raise ExportRuntimeError('%s has export.json but no %s; export it again'
                             % (export_dir, model_spec.SPEC_FILE))
  for key, value in overrides.items():
    if value is not None and fields.get(key) != value:
      raise ExportRuntimeError(
          '%s is an export made with %s=%r; it cannot run with %r: drop the '
          'flag, or export again with it' % (
              export_dir, key, fields.get(key), value))
  return model_spec.ModelSpec(checkpoint_path=os.fspath(export_dir),
                              **fields)


def load(export_dir, runtime=None, precision=None, strict=False, *,
         preprocessed=False):
  """Loads an export directory's model on a runtime.

  Args:
    export_dir: A directory written by inference.export.
    runtime: One of the format's runtimes (FORMATS); None: its default.
    precision: Overrides export.json's precision where the runtime chooses
      it at load time (TensorFlow: float32/bfloat16; OpenVINO: its
      inference precision hint); None: the export's.
    strict: Raise instead of falling back to float32 when that precision is
      not supported here.
    preprocessed: The caller feeds preprocessed images (classify, extract,
      eval): an export whose input is encoded files is refused.

  Returns:
    A runtime Model: run(images) -> {output key: array}, close(),
    .outputs (the keys), .precision (a precision.Precision: what runs) and
    .runtime.

  Raises:
    ExportRuntimeError / MissingExtraError: see above.
  """
  info = read_info(export_dir)
  if preprocessed and info.get('input_type') == 'image_bytes':
    raise ExportRuntimeError(
        '%s takes encoded image files (--input-type image_bytes); classify, '
        'extract and eval feed preprocessed images: export it with '
        '--input-type images' % export_dir)
  fmt = export_format(info)
  runtime = choose_runtime(fmt, runtime)
  module = runtime_module(runtime, 'running a %s export' % fmt)
  stored = info.get('precision', 'float32')
  asked = precision or stored
  if asked != stored and not (stored in module.LOAD_PRECISIONS and
                              asked in module.LOAD_PRECISIONS):
    why = ('%s holds a %s model in %s, and the %s runtime picks no other '
           'precision when it loads one' % (export_dir, fmt, stored, runtime))
    if strict:
      raise precision_lib.PrecisionError(
          'precision %s is not available: %s; export it in that precision '
          '(or drop --precision-strict to run it as it is)' % (asked, why))
    notices.say('precision %s: %s; running %s' % (asked, why, stored))
    asked = stored
  path = os.path.join(export_dir, info.get('model_file') or FORMATS[fmt][0])
  model = module.Model(path, info['input_name'], info['outputs'], asked,
                       strict=strict, batch_size=info.get('batch_size'))
  model.runtime = runtime
  return model


def op_name(tensor_name):
  """'logits:0' -> 'logits': a graph op's name from its tensor's."""
  return tensor_name.rsplit(':', 1)[0]


def _padded(chunk, batch_size):
  """A chunk of fewer than batch_size images, padded with its first."""
  n = len(chunk)
  if n < batch_size:
    chunk = np.concatenate([chunk, np.repeat(chunk[:1], batch_size - n, 0)])
  return chunk


def calibration_batches(images, batch_size=None, default=1):
  """Calibration images in the batches a converter feeds the model: of its
  fixed batch dimension (the last padded), or of `default` images."""
  size = batch_size or default
  return [_padded(images[i:i + size], batch_size) if batch_size else
          images[i:i + size] for i in range(0, len(images), size)]


def run_in_batches(run_fixed, images, batch_size):
  """Runs a model whose batch dimension is fixed at `batch_size` on any n:
  whole batches, the last one padded with copies of its first image.

  Args:
    run_fixed: fn(float32 [batch_size, ...]) -> {key: [batch_size, ...]}.
    images: float32 [n, ...].

  Returns:
    {key: [n, ...]}.
  """
  parts = {}
  for start in range(0, len(images), batch_size):
    chunk = images[start:start + batch_size]
    n = len(chunk)
    for key, value in run_fixed(_padded(chunk, batch_size)).items():
      parts.setdefault(key, []).append(value[:n])
  return {k: np.concatenate(v) for k, v in parts.items()}


class BatchedModel(object):
  """run(images) over a runtime's _run_fixed(float32 batch) -> {key: array},
  in chunks of a fixed batch dimension (self._batch_size) when it has one.
  One call at a time: a TFLite interpreter and an OpenVINO infer request
  are not for concurrent use (Beam's threads share one model)."""

  _batch_size = None
  _lock = None

  def _run_fixed(self, images):
    raise NotImplementedError

  def run(self, images):
    """float32 [n, size, size, 3] preprocessed -> {output key: [n, ...]}."""
    images = np.asarray(images, np.float32)
    if self._lock is None:
      self._lock = threading.Lock()
    with self._lock:
      if self._batch_size:
        return run_in_batches(self._run_fixed, images, self._batch_size)
      return self._run_fixed(images)

  def close(self):
    pass
