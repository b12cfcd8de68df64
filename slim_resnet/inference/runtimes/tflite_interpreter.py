"""TFLite: TensorFlow's converter writes it, its interpreter runs it (no
extra: both ship with TensorFlow).

    write('frozen_graph.pb', 'export/', 'images:0', {'logits': 'logits:0'},
          'int8', calibration=images)        # export/model.tflite
    model = Model('export/model.tflite', 'images', {'logits': 'logits'})

float32: the frozen GraphDef converted as it is (TFLiteConverter
.from_frozen_graph; XNNPACK runs it). int8: full-integer post-training
quantization with the calibration images as the representative dataset
(int8 kernels wherever TFLite has them, float inputs and outputs). The
input's batch dimension stays as exported (any, or fixed); the interpreter
is resized to each batch. TFLite has no bfloat16 kernels.
"""
import os
import warnings

from slim_resnet.inference import precision as precision_lib
from slim_resnet.inference import runtimes
import tensorflow as tf

_op = runtimes.op_name  # 'logits:0' -> 'logits'.

PRECISIONS = runtimes.PRECISIONS['tflite']
LOAD_PRECISIONS = ()
MODEL_FILE = 'model.tflite'


def write(frozen_graph, export_dir, input_name, outputs, precision,
          calibration=None, batch_size=None):
  """Writes export_dir/model.tflite; returns (model.tflite, the input name
  in it, {key: output name in it}: the op names). Arguments as
  onnx_runtime.write."""
  shape = [batch_size] + _placeholder_shape(frozen_graph, _op(input_name))[1:]
  converter = tf.compat.v1.lite.TFLiteConverter.from_frozen_graph(
      frozen_graph, [_op(input_name)], [_op(n) for n in outputs.values()],
      input_shapes={_op(input_name): shape})
  if precision == 'int8':
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: (
        [batch] for batch in runtimes.calibration_batches(calibration,
                                                          batch_size))
    converter.target_spec.supported_ops = [
        tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.lite.OpsSet.TFLITE_BUILTINS]
  data = converter.convert()
  with open(os.path.join(export_dir, MODEL_FILE), 'wb') as f:
    f.write(data)
  return MODEL_FILE, _op(input_name), {k: _op(n) for k, n in outputs.items()}


def _placeholder_shape(frozen_graph, name):
  """The shape of the placeholder `name` in a GraphDef file (-1: any)."""
  graph_def = tf.compat.v1.GraphDef()
  with open(frozen_graph, 'rb') as f:
    graph_def.ParseFromString(f.read())
  node = next(n for n in graph_def.node if n.name == name)
  return [d.size for d in node.attr['shape'].shape.dim]


class Model(runtimes.BatchedModel):
  """model.tflite in tf.lite.Interpreter (XNNPACK, one thread per core).

  Args:
    path: The .tflite file.
    input_name: Unused (one input).
    outputs: {output key: output name in the file}.
    precision: What the file holds ('float32' or 'int8').
    strict, batch_size: As the other runtimes (unused: the interpreter is
      resized to each batch; a fixed batch runs in chunks).
  """

  def __init__(self, path, input_name, outputs, precision='float32',
               strict=False, batch_size=None):
    del input_name, strict
    with warnings.catch_warnings():  # tf.lite.Interpreter's move notice.
      warnings.simplefilter('ignore')
      self._interpreter = tf.lite.Interpreter(
          model_path=path, num_threads=len(os.sched_getaffinity(0)))
    self._input = self._interpreter.get_input_details()[0]
    by_name = {d['name']: d['index']
               for d in self._interpreter.get_output_details()}
    self.outputs = list(outputs)
    self._indices = [by_name[outputs[k]] for k in self.outputs]
    self._batch_size = batch_size
    self._shape = None
    self.precision = precision_lib.Precision(precision, precision)

  def _run_fixed(self, images):
    if self._shape != images.shape:
      self._interpreter.resize_tensor_input(self._input['index'],
                                            list(images.shape), strict=True)
      self._interpreter.allocate_tensors()
      self._shape = images.shape
    self._interpreter.set_tensor(self._input['index'], images)
    self._interpreter.invoke()
    return {k: self._interpreter.get_tensor(i).copy()
            for k, i in zip(self.outputs, self._indices)}

  def close(self):
    self._interpreter = None
