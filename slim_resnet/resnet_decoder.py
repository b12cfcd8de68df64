"""A transpose-ResNet decoder: the encoder's blocks mirrored, upsampling by 2
with conv2d_transpose wherever the encoder downsampled.

Typical use (an autoencoder; decoder(encoder(x)) has x's size, odd or even):

   with slim.arg_scope(resnet_decoder.decoder_arg_scope()):
     net, end_points = resnet_v1.resnet_v1_18(images, None, global_pool=False)
     output, decoder_points = resnet_decoder.resnet_decoder_18(
         net, end_points, output_size=tf.shape(images)[1:3],
         output_channels=3, skip_connections=True)   # U-Net style

Decoder block i mirrors encoder block 5 - i: block1 keeps block4's stride-32
resolution, block2..block4 upsample by 2 in their *first* unit (the encoder
strides the last one) and end with the depth the mirrored encoder block took
in; then 'unpool' (3x3 transposed conv, stride 2, back to conv1's size) and
'conv1' (7x7 transposed conv, stride 2, output_channels, no batch norm or
activation) mirror the root. A stride-2 transposed conv doubles the size;
each block's output is then cropped to the size of the matching encoder
end_point, and the result to output_size, so odd sizes come back exactly.
With skip_connections, the encoder's block3, block2, block1 and conv1
outputs are concatenated (U-Net) to the decoder's input of the same size.

The decoder assumes the encoder ran at its nominal stride (output_stride
None). Units follow resnet_v1 (batch norm after each convolution); the
table of architectures (configs.ARCHITECTURES) gives the units per block.
end_points: '<scope>/blockN', '<scope>/blockN/unit_M/<unit>', '<scope>/unpool',
'<scope>/conv1' and 'output'.
"""
import collections

import tf_slim as slim

from slim_resnet import compat
from slim_resnet import configs
from slim_resnet import resnet_utils
import tensorflow as tf

# Encoder end_points (under its scope) whose sizes the decoder outputs take,
# in decoder order: block1..block4, unpool.
_TARGETS = ('block3', 'block2', 'block1', None, 'conv1')
# Encoder end_points concatenated before decoder block2..block4 and conv1.
_SKIPS = {'block2': 'block3', 'block3': 'block2', 'block4': 'block1',
          'conv1': 'conv1'}


def decoder_arg_scope(**kwargs):
  """resnet_arg_scope(**kwargs), with slim.conv2d_transpose given the same
  defaults as slim.conv2d (initializer, regularizer, batch norm, ReLU)."""
  scope = resnet_utils.resnet_arg_scope(**kwargs)
  conv_defaults = scope[slim.arg_scope_func_key(slim.conv2d)]
  with slim.arg_scope(scope):
    with slim.arg_scope([slim.conv2d_transpose], **conv_defaults) as sc:
      return sc


def crop_to(net, size):
  """net [batch, h, w, c] cropped to its top-left size (h', w') <= (h, w)."""
  if size is None:
    return net
  return net[:, :size[0], :size[1], :]


def _shortcut(inputs, depth, stride):
  depth_in = slim.utils.last_dimension(inputs.get_shape(), min_rank=4)
  if depth == depth_in and stride == 1:
    return inputs
  # A kernel as large as the stride covers every output pixel once.
  return slim.conv2d_transpose(inputs, depth, [stride, stride], stride=stride,
                               activation_fn=None, scope='shortcut')


@slim.add_arg_scope
def decoder_basic(inputs, depth, stride, output_size=None,
                  outputs_collections=None, scope=None):
  """Transposed basic unit: two 3x3 transposed convs, the first upsampling.

  Args:
    inputs: [batch, height, width, channels].
    depth: Output channels.
    stride: Upsampling factor (1 or 2).
    output_size: (height, width) to crop the output to, or None.
    outputs_collections: Collection for the output.
    scope: Optional variable_scope, 'decoder_basic' by default.

  Returns:
    [batch, height * stride (cropped), width * stride (cropped), depth].
  """
  with tf.compat.v1.variable_scope(scope, 'decoder_basic', [inputs]) as sc:
    shortcut = _shortcut(inputs, depth, stride)
    residual = slim.conv2d_transpose(inputs, depth, [3, 3], stride=stride,
                                     scope='conv1')
    residual = slim.conv2d_transpose(residual, depth, [3, 3], stride=1,
                                     activation_fn=None, scope='conv2')
    output = crop_to(tf.nn.relu(shortcut + residual), output_size)
    return slim.utils.collect_named_outputs(outputs_collections, sc.name,
                                            output)


@slim.add_arg_scope
def decoder_bottleneck(inputs, depth, depth_bottleneck, stride,
                       output_size=None, outputs_collections=None, scope=None):
  """Transposed bottleneck unit: 1x1 conv, 3x3 transposed conv (upsampling),
  1x1 conv; arguments as decoder_basic, plus depth_bottleneck."""
  with tf.compat.v1.variable_scope(scope, 'decoder_bottleneck',
                                   [inputs]) as sc:
    shortcut = _shortcut(inputs, depth, stride)
    residual = slim.conv2d(inputs, depth_bottleneck, [1, 1], scope='conv1')
    residual = slim.conv2d_transpose(residual, depth_bottleneck, [3, 3],
                                     stride=stride, scope='conv2')
    residual = slim.conv2d(residual, depth, [1, 1], activation_fn=None,
                           scope='conv3')
    output = crop_to(tf.nn.relu(shortcut + residual), output_size)
    return slim.utils.collect_named_outputs(outputs_collections, sc.name,
                                            output)


def make_decoder_blocks(architecture, min_base_depth=8, depth_multiplier=1):
  """The four decoder `Block`s mirroring an encoder architecture.

  Block i mirrors encoder block 5 - i: its units, that block's base depth
  for bottlenecks, the upsampling of that block's stride in the first unit,
  and as output depth the depth the encoder block took in.
  """
  bases = [max(int(b * depth_multiplier), min_base_depth)
           for b in configs.BASE_DEPTHS]
  expansion = 4 if architecture.unit == 'bottleneck' else 1
  # Depth each encoder block takes in: 64 (pool1), then the previous output.
  depths_in = [64] + [b * expansion for b in bases[:-1]]
  blocks = []
  for i, encoder in enumerate(reversed(range(4))):
    args = {'depth': depths_in[encoder]}
    unit_fn = decoder_basic
    if architecture.unit == 'bottleneck':
      args['depth_bottleneck'] = bases[encoder]
      unit_fn = decoder_bottleneck
    strides = [configs.BLOCK_STRIDES[encoder]] + [1] * (
        architecture.num_units[encoder] - 1)
    blocks.append(resnet_utils.Block(
        'block%d' % (i + 1), unit_fn, [dict(args, stride=s) for s in strides]))
  return blocks


def _encoder_scope(encoder_end_points):
  for key in encoder_end_points:
    if key.endswith('/block4'):
      return key[:-len('/block4')]
  raise ValueError('encoder_end_points has no <scope>/block4; pass the '
                   'end_points of a resnet_v1/resnet_v2 encoder')


def _size(tensor):
  shape = tensor.get_shape().as_list()[1:3]
  if None in shape:
    dynamic = tf.shape(tensor)
    return [dynamic[1] if shape[0] is None else shape[0],
            dynamic[2] if shape[1] is None else shape[1]]
  return shape


def resnet_decoder(inputs, blocks, encoder_end_points=None, output_size=None,
                   output_channels=3, skip_connections=False, is_training=True,
                   reuse=None, scope=None):
  """Generic transpose-ResNet decoder; see the module docstring.

  Args:
    inputs: The encoder's last block output [batch, h, w, channels] (stride
      32 of the image).
    blocks: Decoder `Block`s, e.g. make_decoder_blocks(...).
    encoder_end_points: The encoder's end_points: their sizes crop each
      block's output (odd input sizes), and skip_connections uses them. None:
      no cropping (sizes double).
    output_size: (height, width) of the output (e.g. tf.shape(images)[1:3]),
      or None.
    output_channels: Channels of the output (3 for images).
    skip_connections: Concatenate encoder features (U-Net).
    is_training: Batch norm mode; None leaves it to an outer arg_scope.
    reuse: Reuse the variables (needs scope).
    scope: Variable scope, 'resnet_decoder' by default.

  Returns:
    net: [batch, height, width, output_channels], no activation.
    end_points: Dict name -> tensor.

  Raises:
    ValueError: If skip_connections or cropping needs encoder end_points
      that are missing.
  """
  targets = [None] * 5
  skips = {}
  if encoder_end_points is not None:
    encoder = _encoder_scope(encoder_end_points)
    targets = [_size(encoder_end_points['%s/%s' % (encoder, t)]) if t else
               None for t in _TARGETS]
    conv1 = targets[4]
    # pool1 (3x3, stride 2, SAME or symmetric) halves conv1's size, rounding up.
    targets[3] = [(conv1[0] + 1) // 2, (conv1[1] + 1) // 2]
    if skip_connections:
      skips = {k: encoder_end_points['%s/%s' % (encoder, v)]
               for k, v in _SKIPS.items()}
  elif skip_connections:
    raise ValueError('skip_connections needs encoder_end_points')
  with compat.graph_mode_equality(), tf.compat.v1.variable_scope(
      scope, 'resnet_decoder', [inputs], reuse=reuse) as sc:
    collection = sc.original_name_scope + '_end_points'
    with slim.arg_scope([slim.conv2d, slim.conv2d_transpose, decoder_basic,
                         decoder_bottleneck],
                        outputs_collections=collection), \
        resnet_utils.batch_norm_mode(is_training):
      net = inputs
      for block, target in zip(blocks, targets):
        net = _concat_skip(net, skips.get(block.scope))
        with tf.compat.v1.variable_scope(block.scope, 'block', [net]) as bsc:
          for i, unit in enumerate(block.args):
            with tf.compat.v1.variable_scope('unit_%d' % (i + 1),
                                             values=[net]):
              net = block.unit_fn(net, output_size=target if i == 0 else None,
                                  **unit)
          net = slim.utils.collect_named_outputs(collection, bsc.name, net)
      net = slim.conv2d_transpose(net, 64, [3, 3], stride=2, scope='unpool')
      # The cropped outputs replace the transposed convs' own end_points.
      net = slim.utils.collect_named_outputs(
          collection, sc.name + '/unpool', crop_to(net, targets[4]))
      net = _concat_skip(net, skips.get('conv1'))
      net = slim.conv2d_transpose(net, output_channels, [7, 7], stride=2,
                                  activation_fn=None, normalizer_fn=None,
                                  scope='conv1')
      net = slim.utils.collect_named_outputs(
          collection, sc.name + '/conv1', crop_to(net, output_size))
      end_points = slim.utils.convert_collection_to_dict(collection)
      end_points['output'] = net
      return net, end_points


def _concat_skip(net, skip):
  if skip is None:
    return net
  return tf.concat([crop_to(net, _size(skip)), skip], axis=3)


def make_decoder_builder(depth):
  """The public resnet_decoder_<depth> builder, from the table."""
  architecture = configs.ARCHITECTURES[depth]
  name = 'resnet_decoder_%d' % depth

  def builder(inputs, encoder_end_points=None, output_size=None,
              output_channels=3, skip_connections=False, is_training=True,
              min_base_depth=8, depth_multiplier=1, reuse=None, scope=name):
    blocks = make_decoder_blocks(architecture, min_base_depth,
                                 depth_multiplier)
    return resnet_decoder(inputs, blocks, encoder_end_points, output_size,
                          output_channels, skip_connections, is_training,
                          reuse, scope)
  builder.__name__ = builder.__qualname__ = name
  builder.__doc__ = ('Decoder mirroring ResNet-%d (%s units %s); arguments '
                     'as resnet_decoder(), with min_base_depth and '
                     'depth_multiplier as the encoder builders (use the '
                     "encoder's)." % (depth, architecture.unit,
                                      architecture.num_units))
  builder.architecture = architecture
  return builder


DECODER_DEPTHS = (18, 34, 50)
decoders_map = collections.OrderedDict(
    (d, make_decoder_builder(d)) for d in DECODER_DEPTHS)
resnet_decoder_18 = decoders_map[18]
resnet_decoder_34 = decoders_map[34]
resnet_decoder_50 = decoders_map[50]
