"""Trains the small checkpoint shipped in checkpoints/digits_resnet_v1_18/.

    python scripts/train_shipped_checkpoint.py [--steps 1500] [--out checkpoints]

A resnet_v1_18 at depth_multiplier 0.125 (base depths 8, 16, 32, 64; conv1
keeps 64 channels), 10 classes, trained on scikit-learn's digits (1,797 8x8
grayscale images, upsampled to 32x32) with the same vgg preprocessing the
manifest names for it. 80% of each class trains, the other 20% is held out:
the held-out images are shipped as heldout.npz (uint8 images, labels) and
their accuracy is written to model_spec.json (provenance) and the README. Ten held-out
images, one per class, are shipped as PNG samples for the quick start.

Deterministic for a given TensorFlow build (seeded), CPU, about a minute.
"""
import argparse
import os
import shutil
import sys
import tempfile

import numpy as np
from PIL import Image

import slim_resnet  # noqa: F401  (compat before tf_slim)
from slim_resnet.commands import quiet
quiet.set_log_levels()  # Before TensorFlow loads.
from slim_resnet import resnet_v1
from slim_resnet.checkpoints import convert
from slim_resnet.checkpoints import model_spec
from slim_resnet.preprocessing import preprocessing_factory
import tensorflow as tf
import tf_slim as slim

NAME = 'digits_resnet_v1_18'
IMAGE_SIZE = 32
DEPTH_MULTIPLIER = 0.125
PREPROCESSING = 'vgg'
PREPROCESSING_OPTIONS = {'resize_side_min': IMAGE_SIZE}


def load_digits_rgb():
  """scikit-learn's digits as uint8 images [n, 32, 32] and labels [n]."""
  from sklearn.datasets import load_digits  # pylint: disable=g-import-not-at-top
  digits = load_digits()
  small = np.clip(digits.images * 16.0, 0, 255).astype(np.uint8)
  images = np.stack([
      np.asarray(Image.fromarray(im).resize((IMAGE_SIZE, IMAGE_SIZE),
                                            Image.BILINEAR)) for im in small])
  return images, digits.target.astype(np.int64)


def split(labels, held_out_fraction=0.2, seed=0):
  """Per-class split: indices of training and held-out examples."""
  rng = np.random.RandomState(seed)
  train, held_out = [], []
  for c in np.unique(labels):
    idx = rng.permutation(np.flatnonzero(labels == c))
    n = int(round(len(idx) * held_out_fraction))
    held_out += list(idx[:n])
    train += list(idx[n:])
  return np.array(sorted(train)), np.array(sorted(held_out))


def build(images_uint8, is_training):
  """Preprocess a batch of grayscale uint8 images [n, 32, 32] and run the net."""
  preprocess = preprocessing_factory.get_preprocessing(PREPROCESSING)
  rgb = tf.tile(images_uint8[..., None], [1, 1, 1, 3])
  batch = tf.map_fn(
      lambda im: preprocess(im, IMAGE_SIZE, IMAGE_SIZE,
                            **PREPROCESSING_OPTIONS),
      rgb, fn_output_signature=tf.float32)
  batch.set_shape([None, IMAGE_SIZE, IMAGE_SIZE, 3])
  with slim.arg_scope(resnet_v1.resnet_arg_scope(weight_decay=1e-4)):
    logits, _ = resnet_v1.resnet_v1_18(
        batch, num_classes=10, is_training=is_training,
        depth_multiplier=DEPTH_MULTIPLIER, reuse=not is_training or None)
  return logits


def train(images, labels, train_idx, held_idx, steps, batch_size=64, seed=0):
  """Trains and returns (model variable values by name, held-out accuracy)."""
  tf.compat.v1.set_random_seed(seed)
  rng = np.random.RandomState(seed)
  x = tf.compat.v1.placeholder(tf.uint8, [None, IMAGE_SIZE, IMAGE_SIZE])
  y = tf.compat.v1.placeholder(tf.int64, [None])
  logits = build(x, is_training=True)
  eval_logits = build(x, is_training=False)
  loss = tf.compat.v1.losses.sparse_softmax_cross_entropy(y, logits)
  total_loss = tf.compat.v1.losses.get_total_loss()
  step = tf.compat.v1.train.get_or_create_global_step()
  learning_rate = tf.compat.v1.train.cosine_decay(0.1, step, steps)
  optimizer = tf.compat.v1.train.MomentumOptimizer(learning_rate, 0.9)
  with tf.control_dependencies(
      tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)):
    train_op = optimizer.minimize(total_loss, global_step=step)
  predictions = tf.argmax(eval_logits, 1)
  with tf.compat.v1.Session() as sess:
    sess.run(tf.compat.v1.global_variables_initializer())
    for i in range(steps):
      batch = rng.choice(train_idx, batch_size, replace=False)
      _, loss_value = sess.run([train_op, loss],
                               {x: images[batch], y: labels[batch]})
      if i % 100 == 0 or i == steps - 1:
        print('step %d loss %.4f' % (i, loss_value), flush=True)
    predicted = sess.run(predictions, {x: images[held_idx]})
    accuracy = float(np.mean(predicted == labels[held_idx]))
    values = sess.run({v.op.name: v for v in slim.get_model_variables()})
  return values, accuracy


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--steps', type=int, default=1500)
  parser.add_argument('--out', default=os.path.join(
      os.path.dirname(os.path.abspath(__file__)), '..', 'checkpoints'))
  args = parser.parse_args(argv)

  images, labels = load_digits_rgb()
  train_idx, held_idx = split(labels)
  with tf.Graph().as_default():
    values, accuracy = train(images, labels, train_idx, held_idx, args.steps)
  print('held-out accuracy %.4f on %d images' % (accuracy, len(held_idx)))

  final = os.path.join(args.out, NAME)
  work = tempfile.mkdtemp(prefix=NAME + '.', dir=args.out)
  # The model variables only (no optimizer slots), as a V2 checkpoint.
  convert.write_checkpoint(values, os.path.join(work, 'model.ckpt'))
  np.savez_compressed(os.path.join(work, 'heldout.npz'),
                      images=images[held_idx], labels=labels[held_idx])
  os.makedirs(os.path.join(work, 'samples'))
  for c in range(10):
    i = held_idx[labels[held_idx] == c][0]
    Image.fromarray(images[i]).save(
        os.path.join(work, 'samples', 'digit_%d.png' % c))
  # The one self-description file (and labels.txt), as every checkpoint has.
  spec = model_spec.ModelSpec(
      checkpoint_path=None, model='resnet_v1_18', num_classes=10,
      image_size=IMAGE_SIZE, preprocessing=PREPROCESSING,
      preprocessing_options=PREPROCESSING_OPTIONS,
      model_options={'depth_multiplier': DEPTH_MULTIPLIER})
  model_spec.write_model_spec(
      spec, work, class_names=[str(c) for c in range(10)], provenance={
          'name': NAME,
          'dataset': 'scikit-learn digits (8x8 upsampled to 32x32), 80/20 '
                     'split per class, seed 0',
          'train_images': int(len(train_idx)),
          'heldout_images': int(len(held_idx)),
          'heldout_accuracy': round(accuracy, 4), 'steps': args.steps,
          'tensorflow': tf.__version__,
      })
  # Replace the old checkpoint folder only once the new one is complete.
  old = final + '.old'
  if os.path.exists(final):
    os.rename(final, old)
  os.rename(work, final)
  shutil.rmtree(old, ignore_errors=True)
  print('wrote', final)
  return 0


if __name__ == '__main__':
  with quiet.filtered_stderr():  # TensorFlow's start-up lines (cli's filter).
    sys.exit(main())
