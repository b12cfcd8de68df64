"""OpenVINO: convert_model writes its IR, NNCF quantizes it to int8, the
OpenVINO CPU plugin runs it (the `openvino` extra).

    write('frozen_graph.pb', 'export/', 'images:0', {'logits': 'logits:0'},
          'int8', calibration=images)        # export/model.xml + model.bin
    model = Model('export/model.xml', 'images:0', {'logits': 'logits:0'},
                  'bfloat16')

float32: the frozen GraphDef read by OpenVINO's TensorFlow frontend, saved
with float32 weights (not compressed to float16). int8: NNCF's post-training
quantization of that model (its default preset: symmetric int8 weights,
activation ranges from the calibration images; the full bias correction,
which kept the shipped checkpoint's features at cosine 0.990 where the fast
one gave 0.978).
bfloat16 is not a file but a load-time choice, the CPU plugin's inference
precision hint; on a CPU without bf16 (OpenVINO's capabilities lack 'BF16')
it falls back to float32 with a message, as --precision does. Model also
reads a float32 or int8 .onnx file (--runtime openvino on an onnx export).
"""
import os
import sys

import numpy as np
import openvino

from slim_resnet.inference import precision as precision_lib
from slim_resnet.inference import runtimes

PRECISIONS = runtimes.PRECISIONS['openvino']
LOAD_PRECISIONS = ('float32', 'bfloat16')
MODEL_FILE = 'model.xml'
_HINTS = {'float32': 'f32', 'bfloat16': 'bf16'}


def write(frozen_graph, export_dir, input_name, outputs, precision,
          calibration=None, batch_size=None):
  """Writes export_dir/model.xml and model.bin; returns (model.xml, the
  input name, {key: output name}). Arguments as onnx_runtime.write; precision
  'bfloat16' writes float32 weights (the hint is export.json's)."""
  model = openvino.convert_model(frozen_graph)
  if precision == 'int8':
    nncf = runtimes.require('nncf', 'openvino', '--format openvino '
                            '--precision int8')
    import logging  # pylint: disable=g-import-not-at-top
    nncf.set_log_level(logging.ERROR)
    model = nncf.quantize(
        model, nncf.Dataset(runtimes.calibration_batches(calibration,
                                                         batch_size)),
        subset_size=len(calibration), fast_bias_correction=False)
  openvino.save_model(model, os.path.join(export_dir, MODEL_FILE),
                      compress_to_fp16=False)
  return MODEL_FILE, input_name, dict(outputs)


def bfloat16_support():
  """Whether OpenVINO's CPU plugin has native bf16 here."""
  return 'BF16' in openvino.Core().get_property('CPU',
                                                'OPTIMIZATION_CAPABILITIES')


class Model(runtimes.BatchedModel):
  """An OpenVINO IR (or .onnx) compiled for the CPU.

  Args:
    path: model.xml (model.bin beside it) or a .onnx file.
    input_name: Its input, e.g. 'images:0'.
    outputs: {output key: output name}.
    precision: 'float32', 'bfloat16' (the inference precision hint; falls
      back to float32 without native bf16, or raises with strict) or 'int8'
      (a quantized model, run as it is).
    batch_size: The fixed batch of the model, or None.
  """

  def __init__(self, path, input_name, outputs, precision='float32',
               strict=False, batch_size=None):
    self.precision = precision_lib.Precision(precision, precision)
    if precision == 'bfloat16' and not bfloat16_support():
      why = ("OpenVINO's CPU plugin has no native bf16 on this CPU (its "
             "capabilities lack BF16)")
      if strict:
        raise precision_lib.PrecisionError(
            'precision bfloat16 is not supported here: %s; use float32 or '
            'int8 (or drop --precision-strict to fall back)' % why)
      self.precision = precision_lib.Precision('float32', precision,
                                               why + '; running float32')
      print('slim_resnet: %s' % self.precision.describe(), file=sys.stderr,
            flush=True)
    config = {}
    if self.precision.name in _HINTS:
      config['INFERENCE_PRECISION_HINT'] = _HINTS[self.precision.name]
    self._compiled = openvino.Core().compile_model(path, 'CPU', config)
    del input_name  # One input.
    self.outputs = list(outputs)
    self._outputs = [self._compiled.output(outputs[k]) for k in self.outputs]
    self._request = self._compiled.create_infer_request()
    self._batch_size = batch_size

  def _run_fixed(self, images):
    results = self._request.infer([images])
    return {k: np.array(results[o]) for k, o in zip(self.outputs,
                                                    self._outputs)}

  def close(self):
    self._request = self._compiled = None
