"""The transpose-ResNet decoder: decoder(encoder(x)) has x's size for odd and
even sizes, skip connections, end_points, and it learns (loss goes down)."""
import numpy as np
import pytest
import tensorflow as tf
import tf_slim as slim

from slim_resnet import resnet_decoder
from slim_resnet import resnet_v1
from slim_resnet import resnet_v2

ENCODERS = {18: resnet_v1.resnet_v1_18, 34: resnet_v2.resnet_v2_34,
            50: resnet_v1.resnet_v1_50}


def autoencoder(images, depth, skip_connections=False, is_training=True):
  with slim.arg_scope(resnet_decoder.decoder_arg_scope()):
    net, end_points = ENCODERS[depth](images, None, is_training=is_training,
                                      global_pool=False, depth_multiplier=0.25)
    return resnet_decoder.decoders_map[depth](
        net, end_points, output_size=tf.shape(images)[1:3],
        output_channels=3, skip_connections=skip_connections,
        is_training=is_training, depth_multiplier=0.25)


@pytest.mark.parametrize('depth,skips', [(18, False), (34, True), (50, True)])
def test_output_has_the_input_size(depth, skips):
  sizes = [(64, 64), (61, 45), (33, 70)]
  with tf.Graph().as_default():
    images = tf.compat.v1.placeholder(tf.float32, [2, None, None, 3])
    output, end_points = autoencoder(images, depth, skips, is_training=False)
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      for height, width in sizes:
        value = sess.run(output, {images: np.zeros([2, height, width, 3])})
        assert value.shape == (2, height, width, 3), (depth, height, width)
  scope = 'resnet_decoder_%d' % depth
  for key in ('block1', 'block2', 'block3', 'block4', 'unpool', 'conv1'):
    assert '%s/%s' % (scope, key) in end_points
  assert end_points['output'] is output


def test_block_sizes_mirror_the_encoder():
  with tf.Graph().as_default():
    images = tf.compat.v1.placeholder(tf.float32, [1, 61, 45, 3])
    with slim.arg_scope(resnet_decoder.decoder_arg_scope()):
      net, encoder = resnet_v1.resnet_v1_18(images, None, global_pool=False,
                                            depth_multiplier=0.25)
      _, decoder = resnet_decoder.resnet_decoder_18(
          net, encoder, output_size=[61, 45], depth_multiplier=0.25)
    shape = lambda t: t.get_shape().as_list()[1:]
    assert shape(decoder['resnet_decoder_18/block1']) == shape(
        encoder['resnet_v1_18/block3'])
    assert shape(decoder['resnet_decoder_18/block2']) == shape(
        encoder['resnet_v1_18/block2'])
    assert shape(decoder['resnet_decoder_18/block3']) == shape(
        encoder['resnet_v1_18/block1'])
    assert shape(decoder['resnet_decoder_18/block4'])[:2] == [16, 12]
    assert shape(decoder['resnet_decoder_18/unpool'])[:2] == shape(
        encoder['resnet_v1_18/conv1'])[:2]
    # Upsampling convs are transposed convolutions.
    names = [v.op.name for v in tf.compat.v1.global_variables()]
    assert 'resnet_decoder_18/block2/unit_1/decoder_basic/conv1/weights' in \
        names
    ops = tf.compat.v1.get_default_graph().get_operations()
    assert any(op.type == 'Conv2DBackpropInput' and
               op.name.startswith('resnet_decoder_18/block2/unit_1')
               for op in ops)


def test_skip_connections_need_end_points():
  with tf.Graph().as_default():
    with pytest.raises(ValueError, match='skip_connections needs'):
      resnet_decoder.resnet_decoder_18(tf.zeros([1, 2, 2, 64]),
                                       skip_connections=True)


def test_autoencoder_learns():
  rng = np.random.RandomState(0)
  batch = rng.uniform(0, 1, [4, 33, 33, 3]).astype(np.float32)
  with tf.Graph().as_default():
    tf.compat.v1.set_random_seed(0)
    images = tf.constant(batch)
    output, _ = autoencoder(images, 18, skip_connections=True)
    loss = tf.reduce_mean(tf.square(output - images))
    update_ops = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)
    with tf.control_dependencies(update_ops):
      train = tf.compat.v1.train.AdamOptimizer(1e-3).minimize(loss)
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      losses = [sess.run([train, loss])[1] for _ in range(30)]
  assert losses[-1] < 0.5 * losses[0], losses


def test_autoencoder_example_script(capsys):
  """scripts/train_autoencoder.py (README) runs and the error goes down."""
  import os  # pylint: disable=g-import-not-at-top
  import runpy  # pylint: disable=g-import-not-at-top
  script = runpy.run_path(os.path.join(os.path.dirname(__file__), '..',
                                       'scripts', 'train_autoencoder.py'))
  assert script['main'](['--steps', '20', '--log-every', '10']) == 0
  lines = [l for l in capsys.readouterr().out.splitlines()
           if 'held-out reconstruction error' in l]
  errors = [float(l.split()[-1]) for l in lines]
  assert len(errors) == 3 and errors[-1] < errors[0]
