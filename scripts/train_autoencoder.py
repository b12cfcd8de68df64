"""Trains a small ResNet autoencoder (resnet_v1_18 encoder + resnet_decoder_18)
on the sample digits and prints the reconstruction error going down.

    python scripts/train_autoencoder.py [--steps 200] [--skip-connections]

The sample images are the shipped checkpoint's 359 held-out digits (32x32,
as RGB in 0..1): 300 train, 59 measure. Encoder and decoder at
depth_multiplier 0.25, Adam, mean squared error; batch norm with decay 0.9 so
its moving averages follow a short run. Prints the held-out error before
training and every --log-every steps (inference mode); exits 1 if it did not
go down. About a minute on 2 CPU cores for 200 steps.
"""
import argparse
import sys

import numpy as np

import slim_resnet  # noqa: F401  (compat before tf_slim)
from slim_resnet.commands import quiet
quiet.set_log_levels()  # Before TensorFlow loads.
from slim_resnet import resnet_decoder
from slim_resnet import resnet_v1
from slim_resnet.data import image_folder
import tensorflow as tf
import tf_slim as slim


def sample_images():
  """The held-out digits as float RGB images [359, 32, 32, 3] in 0..1."""
  images = image_folder.load_sample_digits()[0].astype(np.float32) / 255.0
  return np.repeat(images[..., None], 3, axis=3)


def autoencoder(images, is_training, skip_connections):
  """Reconstruction of images [batch, h, w, 3] (same size)."""
  with slim.arg_scope(resnet_decoder.decoder_arg_scope(
      weight_decay=1e-5, batch_norm_decay=0.9)):
    net, end_points = resnet_v1.resnet_v1_18(
        images, None, is_training=is_training, global_pool=False,
        depth_multiplier=0.25, reuse=tf.compat.v1.AUTO_REUSE)
    output, _ = resnet_decoder.resnet_decoder_18(
        net, end_points, output_size=tf.shape(images)[1:3],
        skip_connections=skip_connections, is_training=is_training,
        depth_multiplier=0.25, reuse=tf.compat.v1.AUTO_REUSE)
  return output


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--steps', type=int, default=200)
  parser.add_argument('--batch-size', type=int, default=16)
  parser.add_argument('--learning-rate', type=float, default=2e-3)
  parser.add_argument('--log-every', type=int, default=50)
  parser.add_argument('--skip-connections', action='store_true')
  args = parser.parse_args(argv)

  data = sample_images()
  train, heldout = data[:300], data[300:]
  rng = np.random.RandomState(0)
  with tf.Graph().as_default():
    tf.compat.v1.set_random_seed(0)
    images = tf.compat.v1.placeholder(tf.float32, [None, 32, 32, 3])
    output = autoencoder(images, True, args.skip_connections)
    loss = tf.reduce_mean(tf.square(output - images))
    error = tf.reduce_mean(tf.square(
        autoencoder(images, False, args.skip_connections) - images))
    with tf.control_dependencies(tf.compat.v1.get_collection(
        tf.compat.v1.GraphKeys.UPDATE_OPS)):
      train_op = tf.compat.v1.train.AdamOptimizer(
          args.learning_rate).minimize(loss + tf.compat.v1.losses
                                       .get_regularization_loss())
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      first = sess.run(error, {images: heldout})
      print('step 0 held-out reconstruction error %.5f' % first, flush=True)
      for step in range(1, args.steps + 1):
        batch = train[rng.choice(len(train), args.batch_size, replace=False)]
        sess.run(train_op, {images: batch})
        if step % args.log_every == 0 or step == args.steps:
          last = sess.run(error, {images: heldout})
          print('step %d held-out reconstruction error %.5f' % (step, last),
                flush=True)
  baseline = float(np.mean(np.square(train.mean(axis=0) - heldout)))
  print('reconstruction error %.5f -> %.5f (%.0f%% lower; the mean training '
        'image as every reconstruction: %.5f)' % (
            first, last, 100 * (1 - last / first), baseline))
  return 0 if last < first else 1


if __name__ == '__main__':
  with quiet.filtered_stderr():  # TensorFlow's start-up lines (cli's filter).
    sys.exit(main())
