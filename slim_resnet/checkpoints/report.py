"""A report of how a graph's variables and a checkpoint's differ, with hints.

Instead of TensorFlow's "Key ... not found in checkpoint", one
CheckpointMismatchError lists what is missing, what is unexpected, what has
another shape, and names the likely fix.
"""
import dataclasses
from typing import List, Tuple

from slim_resnet.checkpoints import errors
from slim_resnet.checkpoints import inspect_checkpoint

MAX_LISTED = 10


@dataclasses.dataclass
class MismatchReport(object):
  """Differences between graph variables and checkpoint variables.

  Attributes:
    missing: Graph names (mapped to checkpoint names) the checkpoint lacks.
    unexpected: Checkpoint model variables no graph variable asked for.
    shape_mismatches: (name, graph shape, checkpoint shape).
    architecture: Set when both sides are whole, known ResNets of different
      depths (e.g. a resnet_v1_50 graph and a resnet_v1_101 checkpoint,
      whose names would otherwise all be found).
    hints: Likely causes and fixes, most specific first.
  """
  missing: List[str] = dataclasses.field(default_factory=list)
  unexpected: List[str] = dataclasses.field(default_factory=list)
  shape_mismatches: List[Tuple[str, tuple, tuple]] = dataclasses.field(
      default_factory=list)
  architecture: str = ''
  hints: List[str] = dataclasses.field(default_factory=list)

  @property
  def ok(self):
    return not (self.missing or self.shape_mismatches or self.architecture)


def _listing(title, items):
  if not items:
    return []
  lines = ['%s (%d):' % (title, len(items))]
  lines += ['  ' + str(i) for i in items[:MAX_LISTED]]
  if len(items) > MAX_LISTED:
    lines.append('  ... %d more' % (len(items) - MAX_LISTED))
  return lines


def format_report(report, checkpoint_path=''):
  """The report as the text of one error message."""
  lines = ['the graph does not match the checkpoint %s' % checkpoint_path]
  if report.architecture:
    lines.append(report.architecture)
  lines += _listing('missing from the checkpoint', report.missing)
  lines += _listing('shape mismatches (name, graph, checkpoint)',
                    ['%s: %s vs %s' % (n, list(g), list(c))
                     for n, g, c in report.shape_mismatches])
  lines += _listing('in the checkpoint but not in the graph',
                    report.unexpected)
  if report.hints:
    lines.append('likely fix:')
    lines += ['  - ' + h for h in report.hints]
  return '\n'.join(lines)


def _as_variables(shapes):
  return {n: (tuple(s), 'float32') for n, s in shapes.items()}


def _strip(name):
  """The name without any leading scopes up to the model scope."""
  return name.split('/', 1)[1] if '/' in name else name


def compute_hints(graph, ckpt, ckpt_shapes, report, checkpoint_background=None):
  """Likely causes of `report`, as sentences naming the fix.

  Args:
    graph, ckpt: inspect_checkpoint descriptions of both sides.
    ckpt_shapes: Dict name -> shape of the checkpoint.
    report: The MismatchReport so far.
    checkpoint_background: What the checkpoint's metadata says of its
      class 0 (True: background, False: a real class, None: nothing).
  """
  hints = []
  if graph.version and ckpt.version and graph.version != ckpt.version:
    hints.append(
        'the checkpoint is a resnet_%s (%s_%s units) and the graph a resnet_%s:'
        ' build resnet_%s.%s' % (ckpt.version, ckpt.unit, ckpt.version,
                                 graph.version, ckpt.version,
                                 ckpt.model or 'resnet_%s_*' % ckpt.version))
  elif graph.model and ckpt.model and graph.model != ckpt.model:
    hints.append('the checkpoint holds %s (units per block %s) and the graph '
                 '%s (%s): build %s' % (ckpt.model, ckpt.num_units,
                                        graph.model, graph.num_units,
                                        ckpt.model))
  elif (graph.depth_multiplier and ckpt.depth_multiplier and
        graph.depth_multiplier != ckpt.depth_multiplier):
    hints.append('the checkpoint was built with depth_multiplier=%g, the graph '
                 'with %g' % (ckpt.depth_multiplier, graph.depth_multiplier))
  for name, graph_shape, ckpt_shape in report.shape_mismatches:
    g, c = graph_shape[-1], ckpt_shape[-1]
    if '/logits/' not in name or g == c:
      continue
    head = name.rsplit('/', 1)[0]
    hint = ('the checkpoint has %d classes and the graph %d: to fine-tune a '
            'new head, exclude_scopes=["%s"] (--checkpoint-exclude-scopes %s);'
            ' to use its head, build with num_classes=%d' % (c, g, head, head,
                                                             c))
    if abs(g - c) == 1:
      fix = 'drop_background' if c == g + 1 else 'add_background'
      known = {True: "its metadata says class 0 is background",
               False: "its metadata says class 0 is a real class, so it is "
                      "not dropped or added by itself",
               None: "no metadata says class 0 is background, and only the "
                     "ImageNet 1001 <-> 1000 convention is applied by "
                     "itself"}[checkpoint_background]
      hint += ('; if one side\'s class 0 is a background class, restore with '
               'labels_offset_mode="%s" (%s)' % (fix, known))
    hints.append(hint)
    break
  missing_biases = [n for n in report.missing if n.endswith('/biases')]
  if missing_biases and any(
      n.rsplit('/', 1)[0] + '/BatchNorm/moving_mean' in ckpt_shapes
      for n in missing_biases):
    hints.append('the graph has conv biases where the checkpoint has batch '
                 'norm: build the net under slim.arg_scope(resnet_vX.'
                 'resnet_arg_scope())')
  hints += _prefix_hints(report)
  return hints


def _prefix_hints(report):
  """A var_scope_map when missing and unexpected names differ by a prefix."""
  if not report.missing or not report.unexpected:
    return []
  unexpected = set(report.unexpected)
  pairs = {}
  for name in report.missing:
    for other in unexpected:
      if _strip(name) == _strip(other):
        pairs[name.split('/', 1)[0] + '/'] = other.split('/', 1)[0] + '/'
        break
  if not pairs:
    return []
  return ['the names differ in their first scope: restore with '
          'var_scope_map=%r (graph prefix -> checkpoint prefix)' % pairs]


def compare(graph_shapes, ckpt_shapes, ignore=(), checkpoint_background=None):
  """Compares {name: shape} of the graph (in checkpoint names) and checkpoint.

  Args:
    graph_shapes: Dict checkpoint-side name -> shape, of the variables to
      restore (after any scope mapping).
    ckpt_shapes: Dict name -> shape of the checkpoint's variables.
    ignore: Graph-side names whose problems are tolerated (handled by the
      caller, e.g. 1001 -> 1000 logits).
    checkpoint_background: As compute_hints.

  Returns:
    A MismatchReport with hints.
  """
  report = MismatchReport()
  for name, shape in graph_shapes.items():
    if name in ignore:
      continue
    if name not in ckpt_shapes:
      report.missing.append(name)
    elif tuple(ckpt_shapes[name]) != tuple(shape):
      report.shape_mismatches.append((name, tuple(shape),
                                      tuple(ckpt_shapes[name])))
  report.unexpected = sorted(
      n for n in ckpt_shapes if n not in graph_shapes and
      not inspect_checkpoint.is_extra(n))
  graph = inspect_checkpoint.describe_checkpoint('graph',
                                                 _as_variables(graph_shapes))
  ckpt = inspect_checkpoint.describe_checkpoint('checkpoint',
                                                _as_variables(ckpt_shapes))
  if graph.model and ckpt.model and graph.model != ckpt.model:
    report.architecture = 'the checkpoint holds %s, the graph is %s' % (
        ckpt.model, graph.model)
  report.hints = compute_hints(graph, ckpt, ckpt_shapes, report,
                               checkpoint_background)
  return report


def raise_if_mismatch(report, checkpoint_path):
  """Raises CheckpointMismatchError carrying `report` unless it is ok."""
  if not report.ok:
    raise errors.CheckpointMismatchError(
        format_report(report, checkpoint_path), report)
