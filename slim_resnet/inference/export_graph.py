"""The exported graph: an input placeholder, the net, named outputs.

    inputs, outputs = build_inference_graph(spec, 'image_bytes')
    # inputs: 'image_bytes:0', a string [batch] of encoded files, decoded
    #   (JPEG with the accurate DCT, as Pillow) and preprocessed in the graph;
    #   or 'images:0', float32 [batch, size, size, 3] already preprocessed.
    # outputs: {'logits', 'predictions', 'classes', end_points keys}
    with LoadedGraph(spec, 'images', end_points=[]) as loaded:
      values = loaded.run(batch)       # {output key: array}

fold_batch_norms=True builds the net without batch norm and loads each
conv's batch norm folded into its weights and a bias
(batch_norm_folding.restore_folded).
"""
import tf_slim as slim

from slim_resnet import errors
from slim_resnet import nets_factory
from slim_resnet.checkpoints import restorer
from slim_resnet.inference import batch_norm_folding
from slim_resnet.inference import inference_graph
import tensorflow as tf

INPUT_TYPES = ('images', 'image_bytes')


class ExportError(errors.UserError):
  """An export that cannot be made, or whose outputs do not match."""


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


class LoadedGraph(inference_graph.OwnsSession):
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
        batch_norm_folding.restore_folded(self.session, spec.checkpoint_path)
      else:
        restorer.restore(self.session, spec.checkpoint_path,
                         checkpoint_background=spec.checkpoint_background)

  def run(self, batch):
    return self.session.run(self.outputs, {self.inputs: batch})
