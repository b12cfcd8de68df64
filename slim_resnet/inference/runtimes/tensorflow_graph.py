"""The TensorFlow runtime: a frozen GraphDef or a SavedModel in a Session.

    model = Model('exported/frozen_graph.pb', 'images:0',
                  {'logits': 'logits:0'}, 'bfloat16')
    model.run(images)                     # {'logits': [n, classes]}

The frozen graph runs in inference_graph.InferenceSession (weights placed as
frozen_weights says, grappler's bf16 rewrite for 'bfloat16'); the SavedModel
in a Session with precision.session_config. Either reads the images as they
come (float32 [n, size, size, 3], or encoded files for 'image_bytes').
"""
import os

import numpy as np

from slim_resnet.inference import inference_graph
from slim_resnet.inference import precision as precision_lib
from slim_resnet.inference import runtimes
import tensorflow as tf

_op = runtimes.op_name  # 'logits:0' -> 'logits'.

# Precisions chosen when the graph is loaded (grappler's rewrite).
LOAD_PRECISIONS = ('float32', 'bfloat16', 'float16', 'auto')


class Model(inference_graph.OwnsSession):
  """A TensorFlow export (see the module docstring).

  Args:
    path: frozen_graph.pb, or the saved_model directory.
    input_name: The input tensor, e.g. 'images:0'.
    outputs: {output key: tensor name}.
    precision: One of LOAD_PRECISIONS (precision.resolve); strict: raise
      instead of falling back to float32.
    batch_size: The export's fixed batch dimension (any number of images
      then runs in padded chunks of it), or None.
  """

  def __init__(self, path, input_name, outputs, precision='float32',
               strict=False, batch_size=None):
    self._batch_size = batch_size
    self.outputs = list(outputs)
    self.precision = precision_lib.as_precision(precision, strict,
                                                cast_once=True)
    if not os.path.isdir(path):
      self._run = inference_graph.InferenceSession.from_file(
          path, _op(input_name), [_op(outputs[k]) for k in self.outputs],
          precision=self.precision)
      self.session = self._run.session
      return
    self.graph = tf.Graph()
    with self.graph.as_default():
      self.session = tf.compat.v1.Session(
          graph=self.graph, config=precision_lib.session_config(
              self.precision))
      tf.compat.v1.saved_model.loader.load(
          self.session, [tf.compat.v1.saved_model.tag_constants.SERVING], path)
    tensors = [self.graph.get_tensor_by_name(outputs[k]) for k in self.outputs]
    images = self.graph.get_tensor_by_name(input_name)
    self._run = lambda batch: self.session.run(tensors, {images: batch})

  def _run_fixed(self, images):
    return dict(zip(self.outputs, self._run(images)))

  def run(self, images):
    """Images as the input takes them (float32 preprocessed, or encoded
    files for 'image_bytes') -> {output key: array}."""
    if self._batch_size:
      return runtimes.run_in_batches(self._run_fixed, np.asarray(images),
                                     self._batch_size)
    return self._run_fixed(images)
