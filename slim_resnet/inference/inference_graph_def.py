"""research/slim's export_inference_graph.py: the inference GraphDef, no weights.

    graph_def = inference_graph_def('resnet_v1_50', num_classes=1000)
    write_graph_def(graph_def, '/tmp/resnet_v1_50_inf_graph.pb')
    # then freeze it with a checkpoint, as research/slim's README does:
    #   python -m tensorflow.python.tools.freeze_graph \
    #     --input_graph=/tmp/resnet_v1_50_inf_graph.pb --input_binary=true \
    #     --input_checkpoint=resnet_v1_50.ckpt --output_graph=frozen.pb \
    #     --output_node_names=resnet_v1_50/predictions/Reshape_1

The graph is research/slim's, node for node: a float32 placeholder 'input'
[batch_size, image_size, image_size, channels] (batch_size None: any), the
network of nets_factory.get_network_fn(model, num_classes, is_training)
applied to it, and nothing else (no preprocessing; variables and their
initializers, no values). So its node names are research/slim's:
'<model>/predictions/Reshape_1' (softmax), '<model>/SpatialSqueeze'
(logits), '<model>/block4', ... For a directory with the weights frozen in,
preprocessing and a SavedModel, use export.export_model instead.
"""
import contextlib
import os

from slim_resnet import errors
from slim_resnet import files
from slim_resnet import nets_factory
import tensorflow as tf
from tensorflow.python.ops import resource_variables_toggle  # pylint: disable=g-direct-tensorflow-import

# research/slim's datasets/*.py _NUM_CLASSES: what export_inference_graph.py
# gives the logits for --dataset_name (minus --labels_offset).
SLIM_DATASET_CLASSES = {
    'cifar10': 10,
    'flowers': 5,
    'imagenet': 1001,
    'mnist': 10,
    'visualwakewords': 2,
}
INPUT_NAME = 'input'


def slim_dataset_classes(dataset_name, labels_offset=0):
  """num_classes as research/slim's export computes it.

  Raises:
    errors.UsageError: for a dataset research/slim does not define.
  """
  if dataset_name not in SLIM_DATASET_CLASSES:
    raise errors.UsageError(
        'research/slim has no dataset %r (it knows %s): pass --num-classes N '
        'or --checkpoint C to give the logits size' % (
            dataset_name, ', '.join(sorted(SLIM_DATASET_CLASSES))))
  return SLIM_DATASET_CLASSES[dataset_name] - labels_offset


def inference_graph_def(model, num_classes, image_size=None, batch_size=None,
                        is_training=False, num_channels=3, model_options=None):
  """The GraphDef research/slim's export_inference_graph.py writes.

  Args:
    model: A nets_factory name, e.g. 'resnet_v1_50'.
    num_classes: Logits size; 0 or None: no logits (the pooled features).
    image_size: Input height and width (default: the model's, 224).
    batch_size: A fixed batch dimension, or None for any.
    is_training: Build batch norm (and dropout) in training mode.
    num_channels: 3, or 1 (research/slim's --use_grayscale).
    model_options: Extra builder arguments, e.g. {'depth_multiplier': 0.5}.

  Returns:
    (graph_def, output_names): a tf.compat.v1.GraphDef and the names of its
    outputs, [predictions] with classes or [the pooled features] without.
  """
  network_fn = nets_factory.get_network_fn(
      model, num_classes=num_classes or None, is_training=is_training)
  size = image_size or network_fn.default_image_size
  with _reference_variables(), tf.Graph().as_default() as graph:
    # research/slim's dataset_factory.get_dataset leaves this constant in the
    # graph (the label's default value of its TFExample decoder); with it the
    # file is byte for byte the one export_inference_graph.py writes.
    tf.zeros([], dtype=tf.int64)
    images = tf.compat.v1.placeholder(
        name=INPUT_NAME, dtype=tf.float32,
        shape=[batch_size, size, size, num_channels])
    net, end_points = network_fn(images, **(model_options or {}))
    output = end_points.get('predictions', net)
    return graph.as_graph_def(), [output.op.name]


@contextlib.contextmanager
def _reference_variables():
  """TF1's variables (VariableV2 + '<name>/read'), as research/slim's graph
  has them on TensorFlow 1.15 (and under slim_resnet.compat.legacy): the same
  nodes for freeze_graph and the tools after it. Process-wide while it lasts.
  """
  enabled = resource_variables_toggle.resource_variables_enabled()
  resource_variables_toggle.disable_resource_variables()
  try:
    yield
  finally:
    if enabled:
      resource_variables_toggle.enable_resource_variables()


def write_graph_def(graph_def, path, as_text=False):
  """Writes graph_def to path (binary, or text format as tf.io.write_graph
  writes it; its folder is made if missing), by a temporary name renamed
  into place."""
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  if as_text:
    files.atomic_write_text(path, str(graph_def))
  else:
    files.atomic_write(path, lambda f: f.write(graph_def.SerializeToString()))
