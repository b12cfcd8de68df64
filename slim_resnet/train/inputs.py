"""The training input pipeline: the checkpoint's preprocessing in training
mode (random crop and flip), research/slim's --use_grayscale, and the
batches of one worker.

    iterator = input_batches(config, spec, source, deploy)
    images, labels = iterator.get_next()   # [batch, size, size, 3], [batch]
"""
from slim_resnet.preprocessing import preprocessing_factory
import tensorflow as tf


def grayscale(preprocess_fn):
  """preprocess_fn on the image made gray (3 equal channels, so a 3-channel
  checkpoint still fits): research/slim's --use_grayscale."""
  def fn(image):
    return preprocess_fn(
        tf.image.grayscale_to_rgb(tf.image.rgb_to_grayscale(image)))
  return fn


def training_preprocessing(spec, use_grayscale=False):
  """preprocess_fn(image) of the training graph (random crop and flip)."""
  options = spec.preprocessing_options
  if (preprocessing_factory.preprocessing_name(spec.preprocessing) == 'vgg' and
      'resize_side_min' in options and 'resize_side_max' not in options):
    fn = spec.preprocessing_fn(
        is_training=True, resize_side_max=options['resize_side_min'])
  else:
    fn = spec.preprocessing_fn(is_training=True)
  return grayscale(fn) if use_grayscale else fn


def input_batches(config, spec, source, deploy):
  """The iterator of training batches, on this worker's CPU."""
  with tf.compat.v1.device(deploy.inputs_device()):
    dataset = source.batches(
        training_preprocessing(spec, config.use_grayscale), config.batch_size,
        is_training=True, seed=config.seed + deploy.replica_id,
        num_readers=config.num_readers,
        num_threads=config.num_preprocessing_threads)
    return tf.compat.v1.data.make_initializable_iterator(dataset)
