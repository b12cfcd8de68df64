"""What a checkpoint holds, and which of our models it fits.

    info = describe_checkpoint('resnet_v1_50.ckpt')
    info.model, info.num_classes, info.extras   # 'resnet_v1_50', 1000, [...]

Reads V1 single-file checkpoints (the 2016/2017 archives) and V2 ones.
"""
import collections
import dataclasses
import re
from typing import Optional

from slim_resnet import configs
from slim_resnet.checkpoints import errors

# Suffixes of variables that optimizers and moving averages add.
SLOT_SUFFIXES = ('/Momentum', '/RMSProp', '/RMSProp_1', '/Adam', '/Adam_1',
                 '/ExponentialMovingAverage', '/Adagrad', '/Ftrl', '/Ftrl_1')
KNOWN_EXTRAS = ('global_step', 'mean_rgb')

_UNIT = re.compile(r'^(?P<scope>.*)/block(?P<block>\d+)/unit_(?P<unit>\d+)/'
                   r'(?P<kind>bottleneck|basic)_(?P<version>v[12])/')


def read_checkpoint(path):
  """Ordered dict variable name -> (shape tuple, dtype name), sorted by name.

  Raises:
    CheckpointError: If TensorFlow cannot read `path` as a checkpoint.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  try:
    reader = tf.compat.v1.train.NewCheckpointReader(str(path))
  except (tf.errors.OpError, ValueError) as e:
    raise errors.CheckpointError(
        'cannot read %s as a checkpoint (V1 file or V2 prefix): %s' % (
            path, str(e).splitlines()[0])) from None
  shapes = reader.get_variable_to_shape_map()
  dtypes = reader.get_variable_to_dtype_map()
  return collections.OrderedDict(
      (name, (tuple(shapes[name]), dtypes[name].name))
      for name in sorted(shapes))


def data_error(path, error):
  """A CheckpointError for TF's error reading the tensor data of `path`."""
  return errors.CheckpointError(
      'cannot read the tensor data of %s: %s (its .data file is missing, '
      'truncated or corrupt: fetch or copy the checkpoint again)' % (
          path, str(error).strip().splitlines()[0]))


def verify_checkpoint_data(path):
  """Reads every tensor of a checkpoint; TF checks each one's CRC on read.

  Returns:
    (number of tensors, number of bytes) read.

  Raises:
    CheckpointError: If the index cannot be read, or any tensor's data is
      missing, truncated or corrupt; the message names the first.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  variables = read_checkpoint(path)
  reader = tf.compat.v1.train.NewCheckpointReader(str(path))
  size = 0
  for name in variables:
    try:
      size += reader.get_tensor(name).nbytes
    except (tf.errors.OpError, ValueError, IndexError) as e:
      # TF raises IndexError('Read less bytes than requested') when the
      # data file is shorter than the index says.
      raise data_error(path, '%s: %s' % (name, e)) from None
  return len(variables), size


def is_extra(name):
  """True for variables that are not model weights (steps, slots, ...)."""
  return (name.endswith(SLOT_SUFFIXES) or
          name.rsplit('/', 1)[-1] in KNOWN_EXTRAS)


@dataclasses.dataclass
class CheckpointDescription(object):
  """What describe_checkpoint found.

  Attributes:
    path: The checkpoint.
    variables: Ordered dict name -> (shape, dtype) of everything in it.
    model: The nets_factory name it fits (e.g. 'resnet_v2_50'), or None.
    scope: The variable scope of the model in the checkpoint.
    version: 'v1' or 'v2'; unit: 'bottleneck' or 'basic'; depth: e.g. 50.
    num_units: Units per block found.
    num_classes: Logits size, or None without logits.
    depth_multiplier: Relative width of the blocks (1 = the standard one).
    model_variables: Names of the model's variables.
    extras: Names of everything else (global_step, mean_rgb, slots...).
    parameters: Number of values in the model variables.
    reason: Why model is None, if it is.
  """
  path: str
  variables: dict
  model: Optional[str] = None
  scope: Optional[str] = None
  version: Optional[str] = None
  unit: Optional[str] = None
  depth: Optional[int] = None
  num_units: tuple = ()
  num_classes: Optional[int] = None
  depth_multiplier: Optional[float] = None
  model_variables: list = dataclasses.field(default_factory=list)
  extras: list = dataclasses.field(default_factory=list)
  parameters: int = 0
  reason: str = ''


def _count(shape):
  n = 1
  for d in shape:
    n *= d
  return n


def infer_depth_multiplier(base_depths, min_base_depth=8):
  """The depth_multiplier that gives every block its base depth.

  Block b's base depth is max(int(BASE_DEPTHS[b] * depth_multiplier),
  min_base_depth) (configs.make_blocks): each block bounds the multiplier to
  an interval, and every value in all four intervals builds the same
  network. Of those, the interval's lower bound where it is a short decimal
  (0.0625, 0.125, 1), else the shortest decimal inside it (0.3 for depths
  19, 38, 76, 153).

  Args:
    base_depths: The output channels of each block's first conv1 (the base
      depth), block1..block4.
    min_base_depth: research/slim's lower bound of a block's base depth.

  Returns:
    (depth_multiplier, '') or (None, why no single multiplier fits).
  """
  low, high = 0.0, float('inf')
  for base, depth in zip(configs.BASE_DEPTHS, base_depths):
    if depth < min_base_depth:
      low, high = 1.0, 0.0
    elif depth == min_base_depth:
      high = min(high, (depth + 1.0) / base)  # Anything up to the floor.
    else:
      low, high = max(low, depth / float(base)), min(high, (depth + 1.0) / base)
  if low >= high:
    return None, (
        'its blocks have base depths %s, which no single depth_multiplier '
        'gives (each block\'s is max(int(%s * depth_multiplier), %d)): it '
        'was built another way; describe it in a model_spec.json beside it '
        '("model_options", as train writes one)' % (
            list(base_depths), '/'.join(map(str, configs.BASE_DEPTHS)),
            min_base_depth))
  if low > 0 and round(low, 4) == low:
    return low, ''
  for places in range(1, 10):
    value = round((low + high) / 2, places)
    for candidate in (value, round(low, places), round(high, places)):
      if low <= candidate < high and candidate > 0:
        return candidate, ''
  return low, ''


def describe_checkpoint(path, variables=None):
  """Describes a checkpoint: its model, classes, extras and size.

  Args:
    path: A checkpoint path (see fetch.fetch_checkpoint).
    variables: Optionally, the read_checkpoint() result, to skip reading.

  Returns:
    A CheckpointDescription (model None, with a reason, when no ResNet of
    configs.ARCHITECTURES is recognized).
  """
  variables = variables if variables is not None else read_checkpoint(path)
  info = CheckpointDescription(path=str(path), variables=variables)
  info.extras = [n for n in variables if is_extra(n)]
  info.model_variables = [n for n in variables if not is_extra(n)]
  info.parameters = sum(_count(variables[n][0]) for n in info.model_variables)

  units = collections.defaultdict(set)
  kinds = set()
  for name in info.model_variables:
    match = _UNIT.match(name)
    if match:
      units[(match['scope'], int(match['block']))].add(int(match['unit']))
      kinds.add((match['scope'], match['kind'], match['version']))
  scopes = {k[0] for k in kinds}
  if len(scopes) != 1 or len({k[1:] for k in kinds}) != 1:
    info.reason = ('no ResNet unit variables (.../blockN/unit_M/'
                   'bottleneck_vX/...) found' if not kinds else
                   'several models or unit kinds: %s' % sorted(kinds))
    return info
  (info.scope, info.unit, info.version), = kinds
  info.num_units = tuple(len(units[(info.scope, b)])
                         for b in range(1, 1 + max(b for _, b in units)))
  logits = variables.get(info.scope + '/logits/biases')
  info.num_classes = logits[0][0] if logits else None
  base_depths = []
  for block in range(1, len(configs.BASE_DEPTHS) + 1):
    conv1 = variables.get(info.scope + '/block%d/unit_1/%s_%s/conv1/weights' % (
        block, info.unit, info.version))
    base_depths.append(conv1[0][3] if conv1 else None)
  if None not in base_depths:
    info.depth_multiplier, reason = infer_depth_multiplier(base_depths)
    if reason:
      info.reason = reason
      return info
  for architecture in configs.ARCHITECTURES.values():
    if (architecture.unit, architecture.num_units) == (info.unit,
                                                       info.num_units):
      info.depth = architecture.depth
      info.model = 'resnet_%s_%d' % (info.version, architecture.depth)
      break
  else:
    info.reason = ('%s units %s match no depth of configs.ARCHITECTURES' %
                   (info.unit, info.num_units))
  return info


def format_description(info, max_variables=None):
  """A text report: the model it fits, then the variables and extras."""
  lines = ['checkpoint: %s' % info.path]
  if info.model:
    lines.append('model: %s (scope %s, %s units %s), num_classes: %s, '
                 'depth_multiplier: %s' % (
                     info.model, info.scope, info.unit, info.num_units,
                     info.num_classes, info.depth_multiplier))
  else:
    lines.append('model: not recognized (%s)' % info.reason)
  lines.append('%d model variables, {:,} parameters; %d extras'.format(
      info.parameters) % (len(info.model_variables), len(info.extras)))
  names = list(info.variables)
  shown = names if max_variables is None else names[:max_variables]
  for name in shown:
    shape, dtype = info.variables[name]
    lines.append('  %-72s %-20s %s%s' % (name, list(shape), dtype,
                                         '  (extra)' if is_extra(name) else ''))
  if len(shown) < len(names):
    lines.append('  ... %d more' % (len(names) - len(shown)))
  return '\n'.join(lines)
