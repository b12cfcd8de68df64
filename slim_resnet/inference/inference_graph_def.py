"""research/slim's export_inference_graph.py: the inference GraphDef, no weights.

    graph_def = inference_graph_def('resnet_v1_50', num_classes=1000)
    write_graph_def(graph_def, '/tmp/resnet_v1_50_inf_graph.pb')
    # then freeze it with a checkpoint, as research/slim's README does:
    #   python -m tensorflow.python.tools.freeze_graph \
    #     --input_graph=/tmp/resnet_v1_50_inf_graph.pb --input_binary=true \
    #     --input_checkpoint=resnet_v1_50.ckpt --output_graph=frozen.pb \
    #     --output_node_names=resnet_v1_50/predictions/Reshape_1

The graph is research/slim's (equal as a GraphDef proto): a float32 placeholder 'input'
[batch_size, image_size, image_size, channels] (batch_size None: any), the
network of nets_factory.get_network_fn(model, num_classes, is_training)
applied to it, and nothing else (no preprocessing; variables and their
initializers, no values). So its node names are research/slim's:
'<model>/predictions/Reshape_1' (softmax), '<model>/SpatialSqueeze'
(logits), '<model>/block4', ... For a directory with the weights frozen in,
preprocessing and a SavedModel, use export.export_model instead.
"""
import os

from google.protobuf import text_format
from slim_resnet import errors
from slim_resnet import files
from slim_resnet import nets_factory
import tensorflow as tf

# research/slim's datasets/*.py: name -> (_NUM_CLASSES, the shape of the
# int64 zeros its decoder's label default leaves in every graph that calls
# dataset_factory.get_dataset, or None where the default is -1).
# export_inference_graph.py gives the logits _NUM_CLASSES - --labels_offset.
SLIM_DATASETS = {
    'cifar10': (10, []),
    'flowers': (5, []),
    'imagenet': (1001, None),
    'mnist': (10, [1]),
    'visualwakewords': (2, None),
}
INPUT_NAME = 'input'


def slim_dataset_classes(dataset_name, labels_offset=0):
  """num_classes as research/slim's export computes it.

  Raises:
    errors.UsageError: for a dataset research/slim does not define.
  """
  if dataset_name not in SLIM_DATASETS:
    raise errors.UsageError(
        'research/slim has no dataset %r (it knows %s): pass --num-classes N '
        'or --checkpoint C to give the logits size' % (
            dataset_name, ', '.join(sorted(SLIM_DATASETS))))
  classes = SLIM_DATASETS[dataset_name][0]
  if labels_offset >= classes:
    raise errors.UsageError(
        '--labels_offset %d leaves no classes of research/slim\'s %s dataset '
        '(%d); expected 0 (or 1 to drop a background class)' % (
            labels_offset, dataset_name, classes))
  return classes - labels_offset


def inference_graph_def(model, num_classes, image_size=None, batch_size=None,
                        is_training=False, num_channels=3, model_options=None,
                        dataset_name='imagenet'):
  """The GraphDef research/slim's export_inference_graph.py writes.

  Args:
    model: A nets_factory name, e.g. 'resnet_v1_50'.
    num_classes: Logits size; 0 or None: no logits (the pooled features).
    image_size: Input height and width (default: the model's, 224).
    batch_size: A fixed batch dimension, or None for any.
    is_training: Build batch norm (and dropout) in training mode.
    num_channels: 3, or 1 (research/slim's --use_grayscale).
    model_options: Extra builder arguments, e.g. {'depth_multiplier': 0.5}.
    dataset_name: research/slim's --dataset_name; its decoder leaves a
      constant in research/slim's graph (SLIM_DATASETS), added here too.

  Returns:
    (graph_def, output_names): a tf.compat.v1.GraphDef and the names of its
    outputs, [predictions] with classes or [the pooled features] without.
  """
  network_fn = nets_factory.get_network_fn(
      model, num_classes=num_classes or None, is_training=is_training)
  size = image_size or network_fn.default_image_size
  with tf.Graph().as_default() as graph:
    # TF1's variables (VariableV2 + '<name>/read'), as research/slim's graph
    # has them on TensorFlow 1.15: TF's freeze_graph cannot freeze resource
    # variables without a saver. Per graph, not process-wide.
    tf.compat.v1.get_variable_scope().set_use_resource(False)
    # research/slim's dataset_factory.get_dataset leaves its label decoder's
    # default in the graph: with it the GraphDef equals its file's.
    zeros_shape = SLIM_DATASETS.get(dataset_name, (None, None))[1]
    if zeros_shape is not None:
      tf.zeros(zeros_shape, dtype=tf.int64)
    images = tf.compat.v1.placeholder(
        name=INPUT_NAME, dtype=tf.float32,
        shape=[batch_size, size, size, num_channels])
    net, end_points = network_fn(images, **(model_options or {}))
    output = end_points.get('predictions', net)
    return graph.as_graph_def(), [output.op.name]


def write_graph_def(graph_def, path, as_text=False):
  """Writes graph_def to path (binary, or text format as tf.io.write_graph
  writes it), by a temporary name renamed into place. A local folder is made
  if missing; a URL (gs://, ...) is written through tf.io.gfile, as
  research/slim's gfile.GFile would.

  Raises:
    errors.UsageError: path is a directory.
  """
  if tf.io.gfile.isdir(path):
    raise errors.UsageError('%s is a directory; --output_file names the '
                            'GraphDef file to write, e.g. %s' % (
                                path, os.path.join(path, 'inf_graph.pb')))
  data = (text_format.MessageToString(graph_def).encode('utf-8') if as_text
          else graph_def.SerializeToString())
  if '://' in path:
    tmp = path + '.tmp'
    with tf.io.gfile.GFile(tmp, 'wb') as f:
      f.write(data)
    tf.io.gfile.rename(tmp, path, overwrite=True)
    return
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  files.atomic_write(path, lambda f: f.write(data))
