"""ONNX: tf2onnx writes it, onnxruntime runs it (the `onnx` extra).

    write('frozen_graph.pb', 'export/', 'images:0', {'logits': 'logits:0'},
          'int8', calibration=images)        # export/model.onnx
    model = Model('export/model.onnx', 'images:0', {'logits': 'logits:0'})

float32: the frozen GraphDef converted by tf2onnx (opset OPSET), names kept
('images:0', 'logits:0', 'end_points/<key>:0'). int8: onnxruntime's static
post-training quantization of that model, QDQ format, int8 weights per
output channel and uint8 activations whose ranges are calibrated (min/max)
on the calibration images. onnxruntime has no bfloat16 CPU kernels: run a
float32 .onnx on OpenVINO (--runtime openvino) for bf16.
"""
import os

import onnxruntime

from slim_resnet.inference import precision as precision_lib
from slim_resnet.inference import runtimes

PRECISIONS = runtimes.PRECISIONS['onnx']
LOAD_PRECISIONS = ()
OPSET = 17
MODEL_FILE = 'model.onnx'


def write(frozen_graph, export_dir, input_name, outputs, precision,
          calibration=None, batch_size=None):
  """Writes export_dir/model.onnx; returns (its file name, the input name
  in it, {key: output name in it}).

  Args:
    frozen_graph: A frozen GraphDef file (inference.export's, batch norm
      folded).
    input_name, outputs: Its input tensor and {key: tensor name}.
    precision: 'float32' or 'int8'.
    calibration: float32 [n, size, size, 3] preprocessed images (int8).
    batch_size: The input's batch dimension (None: any).
  """
  tf2onnx = runtimes.require('tf2onnx', 'onnx', '--format onnx')
  import onnx  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  graph_def = tf.compat.v1.GraphDef()
  with open(frozen_graph, 'rb') as f:
    graph_def.ParseFromString(f.read())
  proto, _ = tf2onnx.convert.from_graph_def(
      graph_def, input_names=[input_name], output_names=list(outputs.values()),
      opset=OPSET)
  path = os.path.join(export_dir, MODEL_FILE)
  if precision != 'int8':
    onnx.save(proto, path)
    return MODEL_FILE, input_name, dict(outputs)
  from onnxruntime import quantization  # pylint: disable=g-import-not-at-top
  float_path = os.path.join(export_dir, '.float.onnx')
  onnx.save(proto, float_path)
  try:
    quantization.quantize_static(
        float_path, path, _Reader(input_name, runtimes.calibration_batches(
            calibration, batch_size, default=8)),
        quant_format=quantization.QuantFormat.QDQ, per_channel=True,
        activation_type=quantization.QuantType.QUInt8,
        weight_type=quantization.QuantType.QInt8,
        calibrate_method=quantization.CalibrationMethod.MinMax)
  finally:
    os.remove(float_path)
  return MODEL_FILE, input_name, dict(outputs)


class _Reader(object):
  """onnxruntime's CalibrationDataReader over the calibration images."""

  def __init__(self, input_name, batches):
    self._batches = iter([{input_name: batch} for batch in batches])

  def get_next(self):
    return next(self._batches, None)


class Model(runtimes.BatchedModel):
  """model.onnx in an onnxruntime InferenceSession on the CPU.

  Args:
    path: The .onnx file.
    input_name: Its input, e.g. 'images:0'.
    outputs: {output key: output name}.
    precision: What the file holds ('float32' or 'int8'): onnxruntime picks
      no precision at load time.
    strict, batch_size: As the other runtimes (unused).
  """

  def __init__(self, path, input_name, outputs, precision='float32',
               strict=False, batch_size=None):
    del strict
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = (
        onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL)
    self.session = onnxruntime.InferenceSession(
        path, options, providers=['CPUExecutionProvider'])
    self._input = input_name
    self.outputs = list(outputs)
    self._names = [outputs[k] for k in self.outputs]
    self._batch_size = batch_size
    self.precision = precision_lib.Precision(precision, precision)

  def _run_fixed(self, images):
    return dict(zip(self.outputs, self.session.run(
        self._names, {self._input: images})))

  def close(self):
    self.session = None
