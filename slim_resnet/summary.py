"""A table of a network's end_points with shapes, parameters and FLOPs.

    rows, totals = summarize('resnet_v1_50', image_size=224)
    print(format_summary(rows, totals))

FLOPs are TensorFlow's registered per-op statistics (the numbers
tf.compat.v1.profiler reports): a multiply-add counts as 2 FLOPs; batch norm,
ReLU and pooling count little or nothing.
"""
import collections

from slim_resnet import errors
from slim_resnet import nets_factory
import tensorflow as tf
from tensorflow.python.framework import ops as tf_ops  # get_stats_for_node_def

Row = collections.namedtuple('Row', ['end_point', 'shape', 'params', 'flops'])
Totals = collections.namedtuple(
    'Totals', ['model', 'image_size', 'num_classes', 'params', 'flops'])


def _op_flops(graph, op):
  try:
    return tf_ops.get_stats_for_node_def(graph, op.node_def, 'flops').value or 0
  except ValueError:  # No statistics registered for this op type.
    return 0


def summarize(model, image_size=None, num_classes=1000, batch_size=1,
              **builder_kwargs):
  """Builds `model` in a new graph and describes each end_point.

  Args:
    model: A name from nets_factory.list_networks(), e.g. 'resnet_v1_50'.
    image_size: Input height and width; the model's default_image_size if None.
    num_classes: Logits size; 0 or None for the features only.
    batch_size: The batch dimension of the input (FLOPs scale with it).
    **builder_kwargs: Passed on to the builder (output_stride, global_pool,
      depth_multiplier, ...).

  Returns:
    rows: A list of Row(end_point, shape, params, flops), in end_points
      order. An end_point's params and flops are those of the variables and
      ops under its scope (a block counts all its units); global_pool,
      predictions and the like have none.
    totals: Totals(model, image_size, num_classes, params, flops) of the whole
      network (trainable parameters; FLOPs for the whole batch).

  Raises:
    nets_factory.UnknownNetworkError: For an unknown model name.
  """
  for name, value, low in (('num_classes', num_classes, 0),
                           ('image_size', image_size, 32),
                           ('batch_size', batch_size, 1)):
    if value is not None and value < low:
      raise errors.UsageError('%s (--%s) must be %d or more; got %r' % (
          name, name.replace('_', '-'), low, value))
  network_fn = nets_factory.get_network_fn(model, num_classes)
  image_size = image_size or network_fn.default_image_size
  graph = tf.Graph()
  with graph.as_default():
    images = tf.compat.v1.placeholder(
        tf.float32, [batch_size, image_size, image_size, 3], name='images')
    _, end_points = network_fn(images, **builder_kwargs)
    variables = tf.compat.v1.trainable_variables()
  op_flops = [(op.name, _op_flops(graph, op)) for op in graph.get_operations()]

  def under(scope, name):
    return name == scope or name.startswith(scope + '/')

  rows = []
  for key, tensor in end_points.items():
    scope = key if '/' in key else None
    params = sum(v.shape.num_elements() for v in variables
                 if scope and under(scope, v.op.name))
    flops = sum(f for name, f in op_flops if scope and under(scope, name))
    rows.append(Row(key, tuple(tensor.shape.as_list()), params, flops))
  totals = Totals(model, image_size, num_classes,
                  sum(v.shape.num_elements() for v in variables),
                  sum(f for _, f in op_flops))
  return rows, totals


def format_summary(rows, totals, units_only=False):
  """Formats the summary as a fixed-width text table.

  Args:
    rows, totals: As returned by summarize().
    units_only: If True, skip the convolutions inside units (keys with more
      path components than '<scope>/blockN/unit_M/<unit>').
  """
  lines = ['%s at %dx%d, %s classes' % (totals.model, totals.image_size,
                                        totals.image_size, totals.num_classes)]
  header = '%-56s %-22s %12s %10s' % ('end_point', 'shape', 'params', 'MFLOPs')
  lines += [header, '-' * len(header)]
  for row in rows:
    if units_only and row.end_point.count('/') > 3:
      continue
    lines.append('%-56s %-22s %12s %10s' % (
        row.end_point, 'x'.join(str(d) for d in row.shape),
        '{:,}'.format(row.params) if row.params else '',
        '%.1f' % (row.flops / 1e6) if row.flops else ''))
  lines.append('-' * len(header))
  lines.append('total: {:,} trainable parameters, {:.2f} GFLOPs'.format(
      totals.params, totals.flops / 1e9))
  return '\n'.join(lines)
