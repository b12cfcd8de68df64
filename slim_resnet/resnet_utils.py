"""Building blocks shared by the v1 and v2 Residual Networks.

Residual networks (ResNets) were proposed in:
[1] Kaiming He, Xiangyu Zhang, Shaoqing Ren, Jian Sun
    Deep Residual Learning for Image Recognition. arXiv:1512.03385, 2015
More variants were introduced in:
[2] Kaiming He, Xiangyu Zhang, Shaoqing Ren, Jian Sun
    Identity Mappings in Deep Residual Networks. arXiv: 1603.05027, 2016

Follows the design of research/slim's nets/resnet_utils.py: a network is a
list of `Block`s, each a scope, a unit function and one kwargs dict per unit;
`stack_blocks_dense` turns them into layers and controls the output stride;
`resnet_arg_scope` is the only place that holds layer defaults.

As in research/slim, we subsample the output activations in the last residual
unit of each block, instead of subsampling the input activations in the first
unit of each block as [1] does. Both give the same numbers for bottleneck
units; ours is more memory efficient.
"""
import collections
import contextlib

from slim_resnet import compat
import tensorflow as tf
import tf_slim as slim


class Block(collections.namedtuple('Block', ['scope', 'unit_fn', 'args'])):
  """A named tuple describing a ResNet block.

  Its parts are:
    scope: The scope of the `Block`, e.g. 'block1'.
    unit_fn: The ResNet unit function which takes as input a `Tensor` and
      returns another `Tensor` with the output of the ResNet unit.
    args: A list of length equal to the number of units in the `Block`. The
      list contains one kwargs dict (e.g. depth, depth_bottleneck, stride) for
      each unit in the block, passed to unit_fn.
  """


def make_block(scope, unit_fn, unit_args, num_units, stride,
               stride_in_first_unit=False):
  """A `Block` of num_units identical units, the stride in the last one.

  Args:
    scope: The scope of the block, e.g. 'block1'.
    unit_fn: The unit function.
    unit_args: The kwargs of every unit but the stride.
    num_units: The number of units.
    stride: The stride of the last unit; the others have stride 1.
    stride_in_first_unit: Put the stride in the first unit instead
      (torchvision's and Keras ResNet50's placement).

  Returns:
    A `Block`.
  """
  strides = [1] * num_units
  strides[0 if stride_in_first_unit else -1] = stride
  return Block(scope, unit_fn, [dict(unit_args, stride=s) for s in strides])


def check_inputs(inputs):
  """Checks that `inputs` is an image batch the nets can take.

  Args:
    inputs: A `Tensor` of size [batch, height, width, channels]. Batch, height
      and width may be unknown; the rank and the channels must be known.

  Raises:
    ValueError: If the rank is not 4 or the number of channels is unknown.
    TypeError: If the images are not floating point (e.g. uint8 from a
      decoder).
  """
  dtype = getattr(inputs, 'dtype', None)
  if dtype is not None and not tf.as_dtype(dtype).is_floating:
    raise TypeError(
        'inputs must be float images (float32, preprocessed); got %s. Cast '
        'them first, e.g. tf.cast(images, tf.float32) before the '
        'preprocessing, or tf.image.convert_image_dtype(images, tf.float32) '
        'for values in [0, 1].' % tf.as_dtype(dtype).name)
  shape = tf.TensorShape(inputs.get_shape())
  if shape.rank != 4:
    raise ValueError(
        'inputs must be a 4-D tensor [batch, height, width, channels]; got '
        'shape %s (rank %s).' % (shape, shape.rank))
  if tf.compat.dimension_value(shape[3]) is None:
    raise ValueError(
        'inputs must have a known number of channels (last dimension); got '
        'shape %s. Give the placeholder a static channel count, e.g. '
        '[None, None, None, 3].' % shape)


def subsample(inputs, factor, scope=None):
  """Subsamples the input along the spatial dimensions.

  Args:
    inputs: A `Tensor` of size [batch, height_in, width_in, channels].
    factor: The subsampling factor.
    scope: Optional variable_scope.

  Returns:
    output: A `Tensor` of size [batch, height_out, width_out, channels] with the
      input, either intact (if factor == 1) or subsampled (if factor > 1).
  """
  if factor == 1:
    return inputs
  return slim.max_pool2d(inputs, [1, 1], stride=factor, scope=scope)


def conv2d_same(inputs, num_outputs, kernel_size, stride, rate=1, scope=None):
  """Strided 2-D convolution with 'SAME' padding.

  When stride > 1, we pad explicitly with zeros and convolve with 'VALID'
  padding, so that

     net = conv2d_same(inputs, num_outputs, 3, stride=stride)

  equals

     net = slim.conv2d(inputs, num_outputs, 3, stride=1, padding='SAME')
     net = subsample(net, factor=stride)

  whereas `slim.conv2d(inputs, num_outputs, 3, stride=stride, padding='SAME')`
  differs when the input's height or width is even (TensorFlow then pads more
  at the end than at the beginning). The equality is what makes dense
  (atrous) outputs line up with nominal ones; tests/test_resnet_utils.py
  (test_conv2d_same_even) proves it.

  Args:
    inputs: A 4-D tensor of size [batch, height_in, width_in, channels].
    num_outputs: An integer, the number of output filters.
    kernel_size: An int with the kernel_size of the filters.
    stride: An integer, the output stride.
    rate: An integer, rate for atrous convolution.
    scope: Scope.

  Returns:
    output: A 4-D tensor of size [batch, height_out, width_out, channels] with
      the convolution output.
  """
  if stride == 1:
    return slim.conv2d(inputs, num_outputs, kernel_size, stride=1, rate=rate,
                       padding='SAME', scope=scope)
  kernel_size_effective = kernel_size + (kernel_size - 1) * (rate - 1)
  pad_total = kernel_size_effective - 1
  pad_beg = pad_total // 2
  pad_end = pad_total - pad_beg
  inputs = tf.pad(
      tensor=inputs,
      paddings=[[0, 0], [pad_beg, pad_end], [pad_beg, pad_end], [0, 0]])
  return slim.conv2d(inputs, num_outputs, kernel_size, stride=stride,
                     rate=rate, padding='VALID', scope=scope)


def _reachable_output_strides(blocks, root_stride):
  """The output strides a stack of blocks can produce, for error messages."""
  strides = [root_stride]
  for block in blocks:
    for unit in block.args:
      if unit.get('stride', 1) != 1:
        strides.append(strides[-1] * unit['stride'])
  return strides


@slim.add_arg_scope
def stack_blocks_dense(net, blocks, output_stride=None,
                       store_non_strided_activations=False,
                       outputs_collections=None):
  """Stacks ResNet `Blocks` and controls output feature density.

  Creates scopes 'block_name/unit_1', 'block_name/unit_2', ... and lets the
  caller choose the output_stride, the ratio of input to output spatial
  resolution. Where a unit would take the activations past the requested
  output_stride, it runs with stride 1 and atrous convolution instead.

  Args:
    net: A `Tensor` of size [batch, height, width, channels].
    blocks: A list of length equal to the number of ResNet `Blocks`. Each
      element is a ResNet `Block` object describing the units in the `Block`.
    output_stride: If `None`, the output is computed at the nominal network
      stride. Otherwise, the requested ratio of input to output spatial
      resolution, which must equal the product of unit strides from the start
      up to some level of the ResNet. For example, if the ResNet employs units
      with strides 1, 2, 1, 3, 4, 1, then valid values for the output_stride
      are 1, 2, 6, 24 or None (which is equivalent to output_stride=24).
    store_non_strided_activations: If True, compute non-strided (undecimated)
      activations at the last unit of each block and store them in the
      `outputs_collections` before subsampling them. This gives access to
      higher resolution intermediate activations, at 4x the computation and
      memory cost at the last unit of each block.
    outputs_collections: Collection to add the ResNet block outputs.

  Returns:
    net: Output tensor with stride equal to the specified output_stride.

  Raises:
    ValueError: If the target output_stride is not valid.
  """
  # The effective stride of the activations so far, and the atrous rate of
  # the units once output_stride is reached.
  current_stride = 1
  rate = 1

  def unreachable():
    return ValueError(
        'The target output_stride cannot be reached: these blocks reach '
        'strides %s after the root block, and %s was asked for (relative to '
        'the blocks\' input).' % (
            _reachable_output_strides(blocks, 1), output_stride))

  for block in blocks:
    with tf.compat.v1.variable_scope(block.scope, 'block', [net]) as sc:
      block_stride = 1
      for i, unit in enumerate(block.args):
        if store_non_strided_activations and i == len(block.args) - 1:
          # Move stride from the block's last unit to the end of the block.
          block_stride = unit.get('stride', 1)
          unit = dict(unit, stride=1)

        with tf.compat.v1.variable_scope('unit_%d' % (i + 1), values=[net]):
          if output_stride is not None and current_stride == output_stride:
            net = block.unit_fn(net, rate=rate, **dict(unit, stride=1))
            rate *= unit.get('stride', 1)
          else:
            net = block.unit_fn(net, rate=1, **unit)
            current_stride *= unit.get('stride', 1)
            if output_stride is not None and current_stride > output_stride:
              raise unreachable()

      # Collect activations at the block's end before subsampling them.
      net = slim.utils.collect_named_outputs(outputs_collections, sc.name, net)

      if output_stride is not None and current_stride == output_stride:
        rate *= block_stride
      else:
        net = subsample(net, block_stride)
        current_stride *= block_stride
        if output_stride is not None and current_stride > output_stride:
          raise unreachable()

  if output_stride is not None and current_stride != output_stride:
    raise unreachable()
  return net


def resnet_arg_scope(
    weight_decay=0.0001,
    batch_norm_decay=0.997,
    batch_norm_epsilon=1e-5,
    batch_norm_scale=True,
    activation_fn=tf.nn.relu,
    use_batch_norm=True,
    batch_norm_updates_collections=tf.compat.v1.GraphKeys.UPDATE_OPS):
  """Defines the default ResNet arg scope: the only home of layer defaults.

  The batch-normalization defaults suit the reference ResNet models released
  at https://github.com/KaimingHe/deep-residual-networks and the official slim
  checkpoints. When training from scratch, they might need to be tuned.

  Args:
    weight_decay: The weight decay to use for regularizing the model.
    batch_norm_decay: The moving average decay when estimating layer
      activation statistics in batch normalization.
    batch_norm_epsilon: Small constant to prevent division by zero when
      normalizing activations by their variance in batch normalization.
    batch_norm_scale: If True, uses an explicit `gamma` multiplier to scale the
      activations in the batch normalization layer.
    activation_fn: The activation function which is used in ResNet.
    use_batch_norm: Whether or not to use batch normalization.
    batch_norm_updates_collections: Collection for the update ops for
      batch norm.

  Returns:
    An `arg_scope` to use for the resnet models.
  """
  batch_norm_params = {
      'decay': batch_norm_decay,
      'epsilon': batch_norm_epsilon,
      'scale': batch_norm_scale,
      'updates_collections': batch_norm_updates_collections,
      'fused': None,  # Use fused batch norm if possible.
  }

  with slim.arg_scope(
      [slim.conv2d],
      weights_regularizer=slim.l2_regularizer(weight_decay),
      weights_initializer=slim.variance_scaling_initializer(),
      activation_fn=activation_fn,
      normalizer_fn=slim.batch_norm if use_batch_norm else None,
      normalizer_params=batch_norm_params):
    with slim.arg_scope([slim.batch_norm], **batch_norm_params):
      # padding='SAME' for pool1 makes feature alignment easier for dense
      # prediction tasks (as fb.resnet.torch); the code accompanying [1] uses
      # 'VALID': set slim.arg_scope([slim.max_pool2d], padding='VALID').
      with slim.arg_scope([slim.max_pool2d], padding='SAME') as arg_sc:
        return arg_sc


def batch_norm_mode(is_training):
  """An arg_scope setting slim.batch_norm's `is_training`, or none if None.

  With is_training=None the caller sets slim.batch_norm's is_training in an
  outer slim.arg_scope (research/slim's NoOpScope behaviour).
  """
  if is_training is None:
    return contextlib.nullcontext()
  return slim.arg_scope([slim.batch_norm], is_training=is_training)


def root_block_output_stride(output_stride):
  """The output_stride left for the blocks after the root block (stride 4).

  Raises:
    ValueError: If output_stride is not a multiple of 4.
  """
  if output_stride is None:
    return None
  if output_stride % 4 != 0:
    raise ValueError(
        'The output_stride needs to be a multiple of 4 (the root block '
        'conv1 + pool1 has stride 4); got output_stride=%s.' % output_stride)
  return output_stride // 4


def classification_head(net, end_points, num_classes, global_pool,
                        spatial_squeeze, scope_name):
  """Global pooling, logits, squeeze and softmax, recorded in `end_points`.

  Args:
    net: A `Tensor` [batch, height, width, channels], the last block's output.
    end_points: The dict of end_points collected so far; updated in place with
      'global_pool', '<scope>/logits', '<scope>/spatial_squeeze' and
      'predictions' as they are built.
    num_classes: Number of classes; 0 or None returns the features.
    global_pool: If True, average over height and width (keeping the dims).
    spatial_squeeze: If True, logits [B, 1, 1, C] are squeezed to [B, C].
    scope_name: The network's variable scope name, e.g. 'resnet_v1_50'.

  Returns:
    net: logits [batch, num_classes] (or [batch, h, w, num_classes] without
      squeeze), or the (pooled) features when num_classes is falsy.
    end_points: The same dict.

  Raises:
    ValueError: If spatial_squeeze is asked for logits that are known not to
      be 1x1.
  """
  if global_pool:
    net = tf.reduce_mean(input_tensor=net, axis=[1, 2], name='pool5',
                         keepdims=True)
    end_points['global_pool'] = net
  if num_classes:
    net = slim.conv2d(net, num_classes, [1, 1], activation_fn=None,
                      normalizer_fn=None, scope='logits')
    end_points[scope_name + '/logits'] = net
    if spatial_squeeze:
      height, width = net.get_shape().as_list()[1:3]
      if (height not in (1, None)) or (width not in (1, None)):
        raise ValueError(
            'spatial_squeeze=True needs 1x1 logits, but they are %sx%s '
            '(global_pool=%s). Use global_pool=True or spatial_squeeze=False.'
            % (height, width, global_pool))
      net = tf.squeeze(net, [1, 2], name='SpatialSqueeze')
      end_points[scope_name + '/spatial_squeeze'] = net
    end_points['predictions'] = slim.softmax(net, scope='predictions')
  return net, end_points


POOL_PADDINGS = ('SAME', 'SYMMETRIC')


def root_max_pool(net, padding='SAME'):
  """pool1: 3x3 max pool, stride 2.

  Args:
    net: [batch, height, width, channels].
    padding: 'SAME' (research/slim's) or 'SYMMETRIC': one row and column of
      zeros on every side, then a VALID pool. The two differ in which pixels
      each window covers (SAME on an even size pads only after). SYMMETRIC is
      torchvision's (it pads -inf, the same after a ReLU) and Keras
      ResNet/ResNetV2's (ZeroPadding2D(1) then MaxPooling2D).

  Raises:
    ValueError: For another padding.
  """
  if padding == 'SAME':
    return slim.max_pool2d(net, [3, 3], stride=2, scope='pool1')
  if padding != 'SYMMETRIC':
    raise ValueError('pool_padding must be one of %s; got %r' % (
        POOL_PADDINGS, padding))
  net = tf.pad(net, [[0, 0], [1, 1], [1, 1], [0, 0]])
  return slim.max_pool2d(net, [3, 3], stride=2, padding='VALID',
                         scope='pool1')


def resnet(inputs, blocks, unit_fns, num_classes=None, is_training=True,
           global_pool=True, output_stride=None, include_root_block=True,
           spatial_squeeze=True, store_non_strided_activations=False,
           reuse=None, scope=None, default_scope='resnet', preactivation=False,
           pool_padding='SAME'):
  """Generator shared by resnet_v1() and resnet_v2(); see their docstrings.

  Args:
    inputs, blocks, num_classes, is_training, global_pool, output_stride,
      include_root_block, spatial_squeeze, store_non_strided_activations,
      reuse, scope: as in resnet_v1.resnet_v1().
    unit_fns: The unit functions of this family (decorated with
      slim.add_arg_scope); their outputs are collected as end_points.
    default_scope: The variable scope used when `scope` is None.
    preactivation: False for v1 (BN + ReLU after conv1). True for v2: conv1
      has no BN or activation (its bias is kept) and a final 'postnorm'
      BN + ReLU follows the last block, cf. the Appendix of [2].
    pool_padding: 'SAME' (research/slim: pool1 pads 0 before and 1 after on
      even sizes) or 'SYMMETRIC' (pads 1 zero on each side, then VALID, as
      torchvision and Keras do; see root_max_pool).

  Returns:
    net, end_points: as in resnet_v1.resnet_v1().

  Raises:
    ValueError: For inputs that are not [batch, height, width, channels], an
      output_stride that cannot be reached, or spatial_squeeze on logits that
      are not 1x1.
  """
  check_inputs(inputs)
  with compat.graph_mode_equality(), tf.compat.v1.variable_scope(
      scope, default_scope, [inputs], reuse=reuse) as sc:
    end_points_collection = sc.original_name_scope + '_end_points'
    with slim.arg_scope([slim.conv2d, stack_blocks_dense] + list(unit_fns),
                        outputs_collections=end_points_collection):
      with batch_norm_mode(is_training):
        net = inputs
        if include_root_block:
          output_stride = root_block_output_stride(output_stride)
          root_conv = (slim.arg_scope([slim.conv2d], activation_fn=None,
                                      normalizer_fn=None)
                       if preactivation else contextlib.nullcontext())
          with root_conv:
            net = conv2d_same(net, 64, 7, stride=2, scope='conv1')
          net = root_max_pool(net, pool_padding)
        net = stack_blocks_dense(net, blocks, output_stride,
                                 store_non_strided_activations)
        if preactivation:
          net = slim.batch_norm(net, activation_fn=tf.nn.relu,
                                scope='postnorm')
        end_points = slim.utils.convert_collection_to_dict(
            end_points_collection)
        return classification_head(net, end_points, num_classes, global_pool,
                                   spatial_squeeze, sc.name)
