"""Contains definitions for the original form of Residual Networks.

The 'v1' residual networks (ResNets) implemented in this module were proposed
by:
[1] Kaiming He, Xiangyu Zhang, Shaoqing Ren, Jian Sun
    Deep Residual Learning for Image Recognition. arXiv:1512.03385
Other variants were introduced in:
[2] Kaiming He, Xiangyu Zhang, Shaoqing Ren, Jian Sun
    Identity Mappings in Deep Residual Networks. arXiv: 1603.05027

The networks use the bottleneck unit of [1] (depths 50-200) or its basic unit
(depths 18, 34) with projection shortcuts only for increasing depths, and batch
normalization *after* every weight layer. Scopes, variable names and end_points
are those of research/slim's nets/resnet_v1.py, so its checkpoints restore.

Typical use:

   from slim_resnet import resnet_v1

ResNet-101 for image classification into 1000 classes:

   # inputs has shape [batch, 224, 224, 3]
   with slim.arg_scope(resnet_v1.resnet_arg_scope()):
      net, end_points = resnet_v1.resnet_v1_101(inputs, 1000, is_training=False)

ResNet-101 for semantic segmentation into 21 classes:

   # inputs has shape [batch, 513, 513, 3]
   with slim.arg_scope(resnet_v1.resnet_arg_scope()):
      net, end_points = resnet_v1.resnet_v1_101(inputs,
                                                21,
                                                is_training=False,
                                                global_pool=False,
                                                output_stride=16)
"""
from slim_resnet import configs
from slim_resnet import resnet_utils
import tensorflow as tf
import tf_slim as slim

resnet_arg_scope = resnet_utils.resnet_arg_scope


def _shortcut(inputs, depth, stride, use_bounded_activations):
  """Identity (subsampled) if the depth is unchanged, else a 1x1 projection."""
  depth_in = slim.utils.last_dimension(inputs.get_shape(), min_rank=4)
  if depth == depth_in:
    return resnet_utils.subsample(inputs, stride, 'shortcut')
  return slim.conv2d(
      inputs, depth, [1, 1], stride=stride,
      activation_fn=tf.nn.relu6 if use_bounded_activations else None,
      scope='shortcut')


def _merge(shortcut, residual, use_bounded_activations):
  """ReLU(shortcut + residual), or its bounded (relu6) form."""
  if use_bounded_activations:
    # Use clip_by_value to simulate bandpass activation.
    residual = tf.clip_by_value(residual, -6.0, 6.0)
    return tf.nn.relu6(shortcut + residual)
  return tf.nn.relu(shortcut + residual)


@slim.add_arg_scope
def bottleneck(inputs,
               depth,
               depth_bottleneck,
               stride,
               rate=1,
               outputs_collections=None,
               scope=None,
               use_bounded_activations=False):
  """Bottleneck residual unit variant with BN after convolutions.

  This is the original residual unit proposed in [1]. See Fig. 1(a) of [2] for
  its definition. When putting together two consecutive ResNet blocks that use
  this unit, one should use stride = 2 in the last unit of the first block.

  Args:
    inputs: A tensor of size [batch, height, width, channels].
    depth: The depth of the ResNet unit output.
    depth_bottleneck: The depth of the bottleneck layers.
    stride: The ResNet unit's stride. Determines the amount of downsampling of
      the units output compared to its input.
    rate: An integer, rate for atrous convolution.
    outputs_collections: Collection to add the ResNet unit output.
    scope: Optional variable_scope, 'bottleneck_v1' by default.
    use_bounded_activations: Whether or not to use bounded activations
      (relu6). Bounded activations better lend themselves to quantized
      inference.

  Returns:
    The ResNet unit's output, [batch, height / stride, width / stride, depth].
  """
  with tf.compat.v1.variable_scope(scope, 'bottleneck_v1', [inputs]) as sc:
    shortcut = _shortcut(inputs, depth, stride, use_bounded_activations)
    residual = slim.conv2d(inputs, depth_bottleneck, [1, 1], stride=1,
                           scope='conv1')
    residual = resnet_utils.conv2d_same(residual, depth_bottleneck, 3, stride,
                                        rate=rate, scope='conv2')
    residual = slim.conv2d(residual, depth, [1, 1], stride=1,
                           activation_fn=None, scope='conv3')
    output = _merge(shortcut, residual, use_bounded_activations)
    return slim.utils.collect_named_outputs(outputs_collections, sc.name,
                                            output)


@slim.add_arg_scope
def basic(inputs,
          depth,
          stride,
          rate=1,
          outputs_collections=None,
          scope=None,
          use_bounded_activations=False,
          stride_in_conv1=False):
  """Basic residual unit (two 3x3 convolutions) with BN after convolutions.

  The unit of ResNet-18 and ResNet-34 in [1]: conv1 3x3 (BN, ReLU), conv2 3x3
  (BN), added to the shortcut, ReLU. Scopes follow the bottleneck unit:
  '.../unit_1/basic_v1/conv1'.

  Note:
    The stride sits on conv2, the unit's last spatial convolution, as it does
    in the bottleneck unit; [1] and torchvision stride conv1 of the *first*
    unit of a stage. Parameter counts are the same. Placing it last keeps
    output_stride (atrous) outputs exactly equal to subsampled nominal ones,
    as for the bottleneck nets.

  Args:
    inputs: A tensor of size [batch, height, width, channels].
    depth: The depth of both convolutions and of the unit output.
    stride: The ResNet unit's stride.
    rate: An integer, rate for atrous convolution.
    outputs_collections: Collection to add the ResNet unit output.
    scope: Optional variable_scope, 'basic_v1' by default.
    use_bounded_activations: Whether or not to use bounded activations.
    stride_in_conv1: Stride conv1 instead of conv2 (torchvision's
      BasicBlock).

  Returns:
    The ResNet unit's output, [batch, height / stride, width / stride, depth].
  """
  with tf.compat.v1.variable_scope(scope, 'basic_v1', [inputs]) as sc:
    shortcut = _shortcut(inputs, depth, stride, use_bounded_activations)
    stride1, stride2 = (stride, 1) if stride_in_conv1 else (1, stride)
    residual = resnet_utils.conv2d_same(inputs, depth, 3, stride1, rate=rate,
                                        scope='conv1')
    with slim.arg_scope([slim.conv2d], activation_fn=None):
      residual = resnet_utils.conv2d_same(residual, depth, 3, stride2,
                                          rate=rate, scope='conv2')
    output = _merge(shortcut, residual, use_bounded_activations)
    return slim.utils.collect_named_outputs(outputs_collections, sc.name,
                                            output)


def resnet_v1(inputs,
              blocks,
              num_classes=None,
              is_training=True,
              global_pool=True,
              output_stride=None,
              include_root_block=True,
              spatial_squeeze=True,
              store_non_strided_activations=False,
              reuse=None,
              scope=None,
              *,
              pool_padding='SAME'):
  """Generator for v1 ResNet models.

  This function generates a family of ResNet v1 models. See the resnet_v1_*()
  methods for specific model instantiations, obtained by selecting different
  block instantiations that produce ResNets of various depths.

  Training for image classification on Imagenet is usually done with [224, 224]
  inputs, resulting in [7, 7] feature maps at the output of the last ResNet
  block for the ResNets defined in [1] that have nominal stride equal to 32.
  However, for dense prediction tasks we advise that one uses inputs with
  spatial dimensions that are multiples of 32 plus 1, e.g., [321, 321]. In
  this case the feature maps at the ResNet output will have spatial shape
  [(height - 1) / output_stride + 1, (width - 1) / output_stride + 1]
  and corners exactly aligned with the input image corners, which greatly
  facilitates alignment of the features to the image. Using as input [225, 225]
  images results in [8, 8] feature maps at the output of the last ResNet block.

  For dense prediction tasks, the ResNet needs to run in fully-convolutional
  (FCN) mode and global_pool needs to be set to False. The ResNets in [1, 2] all
  have nominal stride equal to 32 and a good choice in FCN mode is to use
  output_stride=16 in order to increase the density of the computed features at
  small computational and memory overhead, cf. http://arxiv.org/abs/1606.00915.

  Args:
    inputs: A tensor of size [batch, height_in, width_in, channels].
    blocks: A list of length equal to the number of ResNet blocks. Each element
      is a resnet_utils.Block object describing the units in the block.
    num_classes: Number of predicted classes for classification tasks.
      If 0 or None, we return the features before the logit layer.
    is_training: whether batch_norm layers are in training mode. If None, the
      caller sets slim.batch_norm's is_training in an outer slim.arg_scope.
    global_pool: If True, we perform global average pooling before computing the
      logits. Set to True for image classification, False for dense prediction.
    output_stride: If None, then the output will be computed at the nominal
      network stride. If output_stride is not None, it specifies the requested
      ratio of input to output spatial resolution.
    include_root_block: If True, include the initial convolution followed by
      max-pooling, if False excludes it.
    spatial_squeeze: if True, logits is of shape [B, C], if false logits is
      of shape [B, 1, 1, C], where B is batch_size and C is number of classes.
      Needs 1x1 logits: global_pool=True, or small inputs.
    store_non_strided_activations: If True, we compute non-strided (undecimated)
      activations at the last unit of each block and store them in the
      `outputs_collections` before subsampling them.
    reuse: whether or not the network and its variables should be reused. To be
      able to reuse 'scope' must be given.
    scope: Optional variable_scope, 'resnet_v1' by default.
    pool_padding: Keyword only. 'SAME' (research/slim) or 'SYMMETRIC'
      (torchvision, Keras); see resnet_utils.root_max_pool.

  Returns:
    net: A rank-4 tensor of size [batch, height_out, width_out, channels_out].
      If global_pool is False, then height_out and width_out are reduced by a
      factor of output_stride compared to the respective height_in and width_in,
      else both height_out and width_out equal one. If num_classes is 0 or None,
      then net is the output of the last ResNet block, potentially after global
      average pooling. If num_classes a non-zero integer, net contains the
      pre-softmax activations ([B, C] when spatially squeezed).
    end_points: A dictionary from components of the network to the corresponding
      activation: '<scope>/conv1', '<scope>/blockN/unit_M/bottleneck_v1',
      '<scope>/blockN', 'global_pool', '<scope>/logits',
      '<scope>/spatial_squeeze', 'predictions', and the inner convolutions.

  Raises:
    ValueError: If the inputs are not [batch, height, width, channels], the
      target output_stride is not valid, or spatial_squeeze is asked for
      logits that are not 1x1.
  """
  return resnet_utils.resnet(
      inputs, blocks, unit_fns=(bottleneck, basic), num_classes=num_classes,
      is_training=is_training, global_pool=global_pool,
      output_stride=output_stride, include_root_block=include_root_block,
      spatial_squeeze=spatial_squeeze,
      store_non_strided_activations=store_non_strided_activations,
      reuse=reuse, scope=scope, default_scope='resnet_v1',
      pool_padding=pool_padding,
      preactivation=False)
resnet_v1.default_image_size = configs.DEFAULT_IMAGE_SIZE


def resnet_v1_block(scope, base_depth, num_units, stride, *,
                    stride_in_first_unit=False):
  """Helper function for creating a resnet_v1 bottleneck block.

  Args:
    scope: The scope of the block.
    base_depth: The depth of the bottleneck layer for each unit.
    num_units: The number of units in the block.
    stride: The stride of the block, implemented as a stride in the last unit.
      All other units have stride=1.
    stride_in_first_unit: Keyword only. Put the stride in the first unit instead.

  Returns:
    A resnet_v1 bottleneck block; each unit outputs base_depth * 4 channels.
  """
  return resnet_utils.make_block(
      scope, bottleneck, {'depth': base_depth * 4,
                          'depth_bottleneck': base_depth}, num_units, stride,
      stride_in_first_unit)


def resnet_v1_basic_block(scope, base_depth, num_units, stride, *,
                          stride_in_first_unit=False):
  """Helper function for creating a resnet_v1 basic-unit block (ResNet-18/34).

  Args:
    scope: The scope of the block.
    base_depth: The depth of both convolutions of each unit and of its output.
    num_units: The number of units in the block.
    stride: The stride of the block, implemented as a stride in the last unit.
    stride_in_first_unit: Keyword only. Put the stride in the first unit instead (and on
      its conv1: torchvision's BasicBlock).

  Returns:
    A resnet_v1 basic block.
  """
  unit_args = {'depth': base_depth}
  if stride_in_first_unit:
    unit_args['stride_in_conv1'] = True
  return resnet_utils.make_block(scope, basic, unit_args, num_units, stride,
                                 stride_in_first_unit)


BLOCK_FNS = {'bottleneck': resnet_v1_block, 'basic': resnet_v1_basic_block}

resnet_v1_18 = configs.make_builder('resnet_v1', 18, resnet_v1, BLOCK_FNS)
resnet_v1_34 = configs.make_builder('resnet_v1', 34, resnet_v1, BLOCK_FNS)
resnet_v1_50 = configs.make_builder('resnet_v1', 50, resnet_v1, BLOCK_FNS)
resnet_v1_101 = configs.make_builder('resnet_v1', 101, resnet_v1, BLOCK_FNS)
resnet_v1_152 = configs.make_builder('resnet_v1', 152, resnet_v1, BLOCK_FNS)
resnet_v1_200 = configs.make_builder('resnet_v1', 200, resnet_v1, BLOCK_FNS)
