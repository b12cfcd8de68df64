r"""Trains a tiny slim net the way research/slim's train_image_classifier.py
does: contrib imports at module top, tf.app.flags, a DatasetDataProvider
over TFRecords, slim.learning.train (a Supervisor) and np.int.

  slim-resnet run slim_style_train.py --train_dir=DIR --dataset_dir=DATA
"""
import numpy as np
import tensorflow.compat.v1 as tf
from tensorflow.contrib import quantize as contrib_quantize
from tensorflow.contrib import training as contrib_training

import slim_style_dataset

slim = tf.contrib.slim

tf.app.flags.DEFINE_string('train_dir', '/tmp/tfmodel/', 'Checkpoints here.')
tf.app.flags.DEFINE_string('dataset_dir', None, 'The TFRecords.')
tf.app.flags.DEFINE_integer('max_number_of_steps', 3, 'Steps.')
tf.app.flags.DEFINE_integer('batch_size', 4, 'Images per step.')
tf.app.flags.DEFINE_integer('quantize_delay', -1, 'research/slim\'s flag.')
FLAGS = tf.app.flags.FLAGS


def tiny_net(images, num_classes, hparams):
  with slim.arg_scope([slim.conv2d], normalizer_fn=slim.batch_norm,
                      normalizer_params={'is_training': True}):
    net = slim.conv2d(images, hparams.depth, [3, 3], stride=2, scope='conv1')
    net = tf.reduce_mean(net, [1, 2], name='pool')
    return slim.fully_connected(net, num_classes, activation_fn=None,
                                scope='logits')


def main(_):
  hparams = contrib_training.HParams(depth=8)
  hparams.set_hparam('depth', np.int(4.0) * 2)
  with tf.Graph().as_default():
    dataset = slim_style_dataset.get_split('train', FLAGS.dataset_dir)
    provider = slim.dataset_data_provider.DatasetDataProvider(
        dataset, num_readers=1, common_queue_capacity=16, common_queue_min=4)
    image, label = provider.get(['image', 'label'])
    image = tf.image.resize_images(tf.to_float(image), [16, 16]) / 255.0
    images, labels = tf.train.batch([image, label],
                                    batch_size=FLAGS.batch_size, capacity=8)
    logits = tiny_net(images, dataset.num_classes, hparams)
    slim.losses.softmax_cross_entropy(
        logits, slim.one_hot_encoding(labels, dataset.num_classes))
    if FLAGS.quantize_delay >= 0:
      contrib_quantize.create_training_graph(quant_delay=FLAGS.quantize_delay)
    optimizer = tf.train.GradientDescentOptimizer(0.1)
    train_op = slim.learning.create_train_op(slim.losses.get_total_loss(),
                                             optimizer)
    slim.learning.train(train_op, logdir=FLAGS.train_dir,
                        number_of_steps=FLAGS.max_number_of_steps,
                        save_summaries_secs=3600, save_interval_secs=3600,
                        log_every_n_steps=1)


if __name__ == '__main__':
  tf.app.run()
