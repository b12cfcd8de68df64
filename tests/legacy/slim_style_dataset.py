"""A research/slim-style dataset module (as datasets/flowers.py): TFRecords of
image/encoded, image/format, image/class/label read by slim's decoders.

Imported by slim_style_train.py as a sibling module (`python SCRIPT.py` puts
the script's folder first on sys.path).
"""
import os

import tensorflow.compat.v1 as tf
import tf_slim as slim

NUM_CLASSES = 3
SPLITS_TO_SIZES = {'train': 12}


def get_split(split_name, dataset_dir, file_pattern='tiny_%s_*.tfrecord'):
  keys_to_features = {
      'image/encoded': tf.FixedLenFeature((), tf.string, default_value=''),
      'image/format': tf.FixedLenFeature((), tf.string, default_value='png'),
      'image/class/label': tf.FixedLenFeature(
          [], tf.int64, default_value=tf.zeros([], dtype=tf.int64)),
  }
  items_to_handlers = {
      'image': slim.tfexample_decoder.Image(channels=3),
      'label': slim.tfexample_decoder.Tensor('image/class/label'),
  }
  decoder = slim.tfexample_decoder.TFExampleDecoder(keys_to_features,
                                                    items_to_handlers)
  return slim.dataset.Dataset(
      data_sources=os.path.join(dataset_dir, file_pattern % split_name),
      reader=tf.TFRecordReader, decoder=decoder,
      num_samples=SPLITS_TO_SIZES[split_name],
      items_to_descriptions={'image': 'a colour image', 'label': '0..2'},
      num_classes=NUM_CLASSES)
