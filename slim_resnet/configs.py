"""The one table of ResNet architectures, and the builder it generates.

Every public `resnet_v1_<depth>` / `resnet_v2_<depth>` is made by
`make_builder` from `ARCHITECTURES`; nothing else says how many units a block
has. Depths 50-200 are research/slim's bottleneck nets; 18 and 34 are the
basic-block nets of [1] built in the same style.

[1] Kaiming He, Xiangyu Zhang, Shaoqing Ren, Jian Sun
    Deep Residual Learning for Image Recognition. arXiv:1512.03385
"""
import collections
import difflib

# Output channels of each block's bottleneck (or basic) layers before the
# depth multiplier, and the stride of each block's last unit.
BASE_DEPTHS = (64, 128, 256, 512)
BLOCK_STRIDES = (2, 2, 2, 1)
DEFAULT_IMAGE_SIZE = 224


class Architecture(
    collections.namedtuple('Architecture', ['depth', 'unit', 'num_units'])):
  """One row of the table.

  Its parts are:
    depth: The nominal depth (number of weight layers), e.g. 50.
    unit: 'bottleneck' (1x1, 3x3, 1x1; output 4x the base depth) or 'basic'
      (two 3x3; output the base depth).
    num_units: Units in block1..block4.
  """


ARCHITECTURES = collections.OrderedDict(
    (a.depth, a) for a in [
        Architecture(18, 'basic', (2, 2, 2, 2)),
        Architecture(34, 'basic', (3, 4, 6, 3)),
        Architecture(50, 'bottleneck', (3, 4, 6, 3)),
        Architecture(101, 'bottleneck', (3, 4, 23, 3)),
        Architecture(152, 'bottleneck', (3, 8, 36, 3)),
        Architecture(200, 'bottleneck', (3, 24, 36, 3)),
    ])
DEPTHS = tuple(ARCHITECTURES)
VERSIONS = ('v1', 'v2')
# Every model name (nets_factory builds one network each): resnet_v1_18 ...
MODEL_NAMES = tuple('resnet_%s_%d' % (version, depth) for version in VERSIONS
                    for depth in DEPTHS)


def close_model_names(name):
  """Up to three names of MODEL_NAMES closest to `name`, closest first."""
  return difflib.get_close_matches(str(name), MODEL_NAMES, n=3)


def make_blocks(architecture, block_fns, min_base_depth=8, depth_multiplier=1,
                stride_in_first_unit=False):
  """The list of `Block`s of one architecture.

  Args:
    architecture: An `Architecture` from ARCHITECTURES.
    block_fns: Dict unit kind -> fn(scope, base_depth, num_units, stride)
      returning a resnet_utils.Block, e.g. resnet_v1.BLOCK_FNS.
    min_base_depth: Lower bound of every block's base depth.
    depth_multiplier: Multiplies every block's base depth.
    stride_in_first_unit: Stride the first unit of blocks 2-4 (torchvision)
      instead of the last unit of blocks 1-3 (research/slim).

  Returns:
    A list of four `Block`s named 'block1'..'block4'.
  """
  block_fn = block_fns[architecture.unit]
  # A stride moved to the first unit moves to the next block: torchvision's
  # layer1 has none and layer2..4 stride their first unit, where research/slim
  # strides the last unit of blocks 1..3.
  strides = (1,) + BLOCK_STRIDES[:-1] if stride_in_first_unit else BLOCK_STRIDES
  return [
      block_fn('block%d' % (i + 1),
               base_depth=max(int(base * depth_multiplier), min_base_depth),
               num_units=num_units, stride=stride,
               stride_in_first_unit=stride_in_first_unit)
      for i, (base, num_units, stride) in enumerate(
          zip(BASE_DEPTHS, architecture.num_units, strides))
  ]


# research/slim's positional parameters of each public builder, in its own
# (drifted) orders: its v1_152/_200 put store_non_strided_activations before
# spatial_squeeze, and its v2 builders have neither that, min_base_depth nor
# depth_multiplier. 18 and 34 (not in research/slim) take the v1_50 order.
# Every other parameter of ours is keyword-only, after these.
_V1_ORDER = ('inputs', 'num_classes', 'is_training', 'global_pool',
             'output_stride', 'spatial_squeeze',
             'store_non_strided_activations', 'min_base_depth',
             'depth_multiplier', 'reuse', 'scope')
_V1_DEEP_ORDER = ('inputs', 'num_classes', 'is_training', 'global_pool',
                  'output_stride', 'store_non_strided_activations',
                  'spatial_squeeze', 'min_base_depth', 'depth_multiplier',
                  'reuse', 'scope')
_V2_ORDER = ('inputs', 'num_classes', 'is_training', 'global_pool',
             'output_stride', 'spatial_squeeze', 'reuse', 'scope')
POSITIONAL_PARAMETERS = {
    ('resnet_v1', 18): _V1_ORDER, ('resnet_v1', 34): _V1_ORDER,
    ('resnet_v1', 50): _V1_ORDER, ('resnet_v1', 101): _V1_ORDER,
    ('resnet_v1', 152): _V1_DEEP_ORDER, ('resnet_v1', 200): _V1_DEEP_ORDER,
}
POSITIONAL_PARAMETERS.update({('resnet_v2', d): _V2_ORDER for d in DEPTHS})
# Every builder parameter and its default ('scope' defaults to the name).
BUILDER_DEFAULTS = collections.OrderedDict([
    ('num_classes', None), ('is_training', True), ('global_pool', True),
    ('output_stride', None), ('spatial_squeeze', True),
    ('store_non_strided_activations', False), ('min_base_depth', 8),
    ('depth_multiplier', 1), ('reuse', None), ('scope', None),
    ('stride_in_first_unit', False), ('pool_padding', 'SAME')])


def builder_signature(version, depth):
  """The inspect.Signature of the public `<version>_<depth>` builder."""
  import inspect  # pylint: disable=g-import-not-at-top
  name = '%s_%d' % (version, depth)
  positional = POSITIONAL_PARAMETERS[(version, depth)]

  def default(p):
    return name if p == 'scope' else BUILDER_DEFAULTS[p]
  params = [inspect.Parameter('inputs', inspect.Parameter.POSITIONAL_OR_KEYWORD)]
  params += [inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                               default=default(p)) for p in positional[1:]]
  params += [inspect.Parameter(p, inspect.Parameter.KEYWORD_ONLY,
                               default=default(p))
             for p in BUILDER_DEFAULTS if p not in positional]
  return inspect.Signature(params)


_BUILDER_DOC = """ResNet-{depth} {version} ({unit} units {num_units}).

  {signature}

  See {version}() for the description of the other arguments and of the
  return values. The positional parameters are research/slim's, in its
  order for this builder; the ones after `*` are keyword-only.

  Args:
    inputs: A tensor of size [batch, height_in, width_in, channels].
    num_classes: Number of classes (1000, or 1001 for the official v2
      checkpoints); 0 or None returns the features before the logits.
    is_training: Whether batch_norm layers are in training mode; None leaves
      it to an outer slim.arg_scope.
    global_pool: If True, average-pool the last block's output to 1x1.
    output_stride: None (nominal stride 32) or 8, 16, 32: atrous convolution
      keeps the features at that stride.
    spatial_squeeze: If True, logits have shape [batch, num_classes].
    store_non_strided_activations: If True, end_points hold each block's
      output before its last subsampling.
    min_base_depth: Lower bound of each block's base depth.
    depth_multiplier: Multiplies each block's base depth ({base_depths}).
    reuse: Whether the variables are reused; needs `scope`.
    scope: The variable scope, '{name}' by default (the checkpoints' names).
    stride_in_first_unit: Stride the first unit of each block (and, in basic
      units, its conv1) instead of the last: torchvision's placement, for
      converted PyTorch weights (checkpoints.convert_torch).
    pool_padding: 'SAME' (research/slim) or 'SYMMETRIC' (torchvision, Keras);
      see resnet_utils.root_max_pool.

  Returns:
    net: Logits [batch, num_classes] (see {version}()).
    end_points: Dict end_point name -> tensor.
"""


def make_builder(version, depth, net_fn, block_fns):
  """Makes the public `<version>_<depth>` builder from the tables.

  Args:
    version: 'resnet_v1' or 'resnet_v2'.
    depth: A key of ARCHITECTURES.
    net_fn: The generic network fn, e.g. resnet_v1.resnet_v1.
    block_fns: Dict unit kind -> block fn, e.g. resnet_v1.BLOCK_FNS.

  Returns:
    fn(inputs, <research/slim's parameters for this builder>, *, <ours>)
    -> (net, end_points), with attributes default_image_size and
    architecture; its __signature__ is builder_signature(version, depth).
  """
  architecture = ARCHITECTURES[depth]
  name = '%s_%d' % (version, depth)
  signature = builder_signature(version, depth)

  def builder(*args, **kwargs):
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    a = bound.arguments
    blocks = make_blocks(architecture, block_fns, a['min_base_depth'],
                         a['depth_multiplier'], a['stride_in_first_unit'])
    return net_fn(a['inputs'], blocks, a['num_classes'], a['is_training'],
                  a['global_pool'], a['output_stride'],
                  include_root_block=True,
                  spatial_squeeze=a['spatial_squeeze'],
                  store_non_strided_activations=a[
                      'store_non_strided_activations'],
                  reuse=a['reuse'], scope=a['scope'],
                  pool_padding=a['pool_padding'])

  builder.__name__ = builder.__qualname__ = name
  builder.__module__ = net_fn.__module__
  builder.__signature__ = signature
  builder.__doc__ = _BUILDER_DOC.format(
      depth=depth, version=version, unit=architecture.unit,
      num_units=architecture.num_units, base_depths=BASE_DEPTHS, name=name,
      signature='%s%s' % (name, signature))
  builder.default_image_size = net_fn.default_image_size
  builder.architecture = architecture
  return builder
