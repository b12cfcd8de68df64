"""research/slim's TFRecord examples (datasets/dataset_utils.image_to_tfexample),
written with tf.train.Example alone, for the tests that read them."""
import tensorflow as tf


def slim_example(encoded, label, image_format=b'png'):
  """A serialized tf.train.Example with research/slim's three keys."""
  feature = {
      'image/encoded': tf.train.Feature(bytes_list=tf.train.BytesList(
          value=[encoded])),
      'image/format': tf.train.Feature(bytes_list=tf.train.BytesList(
          value=[image_format])),
      'image/class/label': tf.train.Feature(int64_list=tf.train.Int64List(
          value=[label])),
  }
  return tf.train.Example(features=tf.train.Features(
      feature=feature)).SerializeToString()
