"""Contains definitions for the preactivation form of Residual Networks.

Residual networks (ResNets) were originally proposed in:
[1] Kaiming He, Xiangyu Zhang, Shaoqing Ren, Jian Sun
    Deep Residual Learning for Image Recognition. arXiv:1512.03385
The full preactivation 'v2' ResNet variant implemented in this module was
introduced by:
[2] Kaiming He, Xiangyu Zhang, Shaoqing Ren, Jian Sun
    Identity Mappings in Deep Residual Networks. arXiv: 1603.05027

The key difference of the full preactivation 'v2' variant compared to the
'v1' variant in [1] is the use of batch normalization before every weight
layer. Scopes, variable names and end_points are those of research/slim's
nets/resnet_v2.py, so its checkpoints restore.

Typical use:

   from slim_resnet import resnet_v2

ResNet-101 for image classification into 1001 classes (the official v2
checkpoints have a background class at index 0):

   # inputs has shape [batch, 299, 299, 3]
   with slim.arg_scope(resnet_v2.resnet_arg_scope()):
      net, end_points = resnet_v2.resnet_v2_101(inputs, 1001, is_training=False)

ResNet-101 for semantic segmentation into 21 classes:

   # inputs has shape [batch, 513, 513, 3]
   with slim.arg_scope(resnet_v2.resnet_arg_scope()):
      net, end_points = resnet_v2.resnet_v2_101(inputs,
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


def _shortcut(inputs, preact, depth, stride):
  """Identity (subsampled) if the depth is unchanged, else a 1x1 projection
  of the pre-activated inputs (no BN, no activation)."""
  depth_in = slim.utils.last_dimension(inputs.get_shape(), min_rank=4)
  if depth == depth_in:
    return resnet_utils.subsample(inputs, stride, 'shortcut')
  return slim.conv2d(preact, depth, [1, 1], stride=stride, normalizer_fn=None,
                     activation_fn=None, scope='shortcut')


@slim.add_arg_scope
def bottleneck(inputs, depth, depth_bottleneck, stride, rate=1,
               outputs_collections=None, scope=None):
  """Bottleneck residual unit variant with BN before convolutions.

  This is the full preactivation residual unit variant proposed in [2]. See
  Fig. 1(b) of [2] for its definition. When putting together two consecutive
  ResNet blocks that use this unit, one should use stride = 2 in the last unit
  of the first block.

  Args:
    inputs: A tensor of size [batch, height, width, channels].
    depth: The depth of the ResNet unit output.
    depth_bottleneck: The depth of the bottleneck layers.
    stride: The ResNet unit's stride. Determines the amount of downsampling of
      the units output compared to its input.
    rate: An integer, rate for atrous convolution.
    outputs_collections: Collection to add the ResNet unit output.
    scope: Optional variable_scope, 'bottleneck_v2' by default.

  Returns:
    The ResNet unit's output, [batch, height / stride, width / stride, depth].
  """
  with tf.compat.v1.variable_scope(scope, 'bottleneck_v2', [inputs]) as sc:
    preact = slim.batch_norm(inputs, activation_fn=tf.nn.relu, scope='preact')
    shortcut = _shortcut(inputs, preact, depth, stride)
    residual = slim.conv2d(preact, depth_bottleneck, [1, 1], stride=1,
                           scope='conv1')
    residual = resnet_utils.conv2d_same(residual, depth_bottleneck, 3, stride,
                                        rate=rate, scope='conv2')
    residual = slim.conv2d(residual, depth, [1, 1], stride=1,
                           normalizer_fn=None, activation_fn=None,
                           scope='conv3')
    output = shortcut + residual
    return slim.utils.collect_named_outputs(outputs_collections, sc.name,
                                            output)


@slim.add_arg_scope
def basic(inputs, depth, stride, rate=1, outputs_collections=None, scope=None):
  """Basic residual unit (two 3x3 convolutions) with BN before convolutions.

  Pre-activation (BN, ReLU: 'preact'), conv1 3x3 (BN, ReLU), conv2 3x3 (no BN,
  no activation, with biases), added to the shortcut. Scopes follow the
  bottleneck unit: '.../unit_1/basic_v2/conv1'.

  Note:
    The stride sits on conv2, the unit's last spatial convolution, as in the
    bottleneck unit; see resnet_v1.basic for why.

  Args:
    inputs: A tensor of size [batch, height, width, channels].
    depth: The depth of both convolutions and of the unit output.
    stride: The ResNet unit's stride.
    rate: An integer, rate for atrous convolution.
    outputs_collections: Collection to add the ResNet unit output.
    scope: Optional variable_scope, 'basic_v2' by default.

  Returns:
    The ResNet unit's output, [batch, height / stride, width / stride, depth].
  """
  with tf.compat.v1.variable_scope(scope, 'basic_v2', [inputs]) as sc:
    preact = slim.batch_norm(inputs, activation_fn=tf.nn.relu, scope='preact')
    shortcut = _shortcut(inputs, preact, depth, stride)
    residual = resnet_utils.conv2d_same(preact, depth, 3, 1, rate=rate,
                                        scope='conv1')
    with slim.arg_scope([slim.conv2d], normalizer_fn=None, activation_fn=None):
      residual = resnet_utils.conv2d_same(residual, depth, 3, stride,
                                          rate=rate, scope='conv2')
    output = shortcut + residual
    return slim.utils.collect_named_outputs(outputs_collections, sc.name,
                                            output)


def resnet_v2(inputs,
              blocks,
              num_classes=None,
              is_training=True,
              global_pool=True,
              output_stride=None,
              include_root_block=True,
              spatial_squeeze=True,
              reuse=None,
              scope=None,
              *,
              store_non_strided_activations=False,
              pool_padding='SAME'):
  """Generator for v2 (preactivation) ResNet models.

  The arguments, return values and errors are those of resnet_v1.resnet_v1().
  Differences in the graph: conv1 has biases and neither BN nor an activation
  (the first unit pre-activates its input), and a 'postnorm' BN + ReLU follows
  the last block, cf. the Appendix of [2]. With include_root_block=False,
  `inputs` should be the result of an activation-less convolution.

  Args:
    inputs: A tensor of size [batch, height_in, width_in, channels].
    blocks: A list of resnet_utils.Block, one per ResNet block.
    num_classes: Number of classes; 0 or None returns the features.
    is_training: Whether batch_norm layers are in training mode; None leaves it
      to an outer slim.arg_scope.
    global_pool: If True, average-pool the last block's output to 1x1.
    output_stride: None (nominal) or the requested input / output ratio.
    include_root_block: If True, include conv1 and pool1.
    spatial_squeeze: If True, logits have shape [B, C]; needs 1x1 logits.
    reuse: Whether the variables are reused; needs `scope`.
    scope: Optional variable_scope, 'resnet_v2' by default.
    store_non_strided_activations: Keyword only (research/slim's resnet_v2
      lacks it). If True, end_points hold each block's output before its
      last subsampling.
    pool_padding: Keyword only. 'SAME' (research/slim) or 'SYMMETRIC'
      (torchvision, Keras); see resnet_utils.root_max_pool.

  Returns:
    net: Logits, or the (pooled) features when num_classes is 0 or None.
    end_points: A dictionary from components of the network to the
      corresponding activation.

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
      reuse=reuse, scope=scope, default_scope='resnet_v2',
      pool_padding=pool_padding,
      preactivation=True)
resnet_v2.default_image_size = configs.DEFAULT_IMAGE_SIZE


def resnet_v2_block(scope, base_depth, num_units, stride, *,
                    stride_in_first_unit=False):
  """Helper function for creating a resnet_v2 bottleneck block.

  Args:
    scope: The scope of the block.
    base_depth: The depth of the bottleneck layer for each unit.
    num_units: The number of units in the block.
    stride: The stride of the block, implemented as a stride in the last unit.
      All other units have stride=1.
    stride_in_first_unit: Keyword only. Put the stride in the first unit instead.

  Returns:
    A resnet_v2 bottleneck block; each unit outputs base_depth * 4 channels.
  """
  return resnet_utils.make_block(
      scope, bottleneck, {'depth': base_depth * 4,
                          'depth_bottleneck': base_depth}, num_units, stride,
      stride_in_first_unit)


def resnet_v2_basic_block(scope, base_depth, num_units, stride, *,
                          stride_in_first_unit=False):
  """Helper function for creating a resnet_v2 basic-unit block (ResNet-18/34).

  Args:
    scope: The scope of the block.
    base_depth: The depth of both convolutions of each unit and of its output.
    num_units: The number of units in the block.
    stride: The stride of the block, implemented as a stride in the last unit.
    stride_in_first_unit: Keyword only. Put the stride in the first unit instead.

  Returns:
    A resnet_v2 basic block.
  """
  return resnet_utils.make_block(scope, basic, {'depth': base_depth},
                                 num_units, stride, stride_in_first_unit)


BLOCK_FNS = {'bottleneck': resnet_v2_block, 'basic': resnet_v2_basic_block}

resnet_v2_18 = configs.make_builder('resnet_v2', 18, resnet_v2, BLOCK_FNS)
resnet_v2_34 = configs.make_builder('resnet_v2', 34, resnet_v2, BLOCK_FNS)
resnet_v2_50 = configs.make_builder('resnet_v2', 50, resnet_v2, BLOCK_FNS)
resnet_v2_101 = configs.make_builder('resnet_v2', 101, resnet_v2, BLOCK_FNS)
resnet_v2_152 = configs.make_builder('resnet_v2', 152, resnet_v2, BLOCK_FNS)
resnet_v2_200 = configs.make_builder('resnet_v2', 200, resnet_v2, BLOCK_FNS)
