"""Restore a checkpoint into a graph built in a session, with one call.

    init_fn = get_init_fn('resnet_v1_50.ckpt',
                          exclude_scopes=['resnet_v1_50/logits'])
    scaffold = tf.compat.v1.train.Scaffold(
        init_fn=lambda scaffold, sess: init_fn(sess))
    # or, with a plain Session:  restore(sess, 'resnet_v1_50.ckpt')

Model-aware, as research/slim's train_image_classifier `_get_init_fn` and
more: exclude / include scopes; extras such as global_step, mean_rgb and
optimizer slots in the checkpoint are ignored; a graph under an outer scope
(`tower_0/resnet_v1_50/...`) finds its variables without help, a renamed
model scope with `var_scope_map`; a background class is dropped or added
only where its meaning is known (the ImageNet 1001 <-> 1000 convention, or
the checkpoint's own metadata saying class 0 is background), and said;
moving-average shadows can replace the weights. Anything else that does not
fit raises one CheckpointMismatchError whose message says what and why,
before the session is touched.
"""
import os

import numpy as np

from slim_resnet import errors as user_errors
from slim_resnet import notices
from slim_resnet.checkpoints import errors
from slim_resnet.checkpoints import inspect_checkpoint
from slim_resnet.checkpoints import report as report_lib
import tensorflow as tf

LABELS_OFFSET_MODES = ('auto', 'drop_background', 'add_background', 'off')
# The bias given to an added background class: its probability is ~0.
BACKGROUND_BIAS = -1e4
MOVING_AVERAGE = '/ExponentialMovingAverage'
# The ImageNet convention: (checkpoint classes, graph classes) -> fix.
IMAGENET_BACKGROUND = {(1001, 1000): 'drop_background',
                       (1000, 1001): 'add_background'}


def read_background(checkpoint_path):
  """Whether the checkpoint's own metadata says its class 0 is background.

  Reads model_spec.json ('label_offset') or, failing that, the labels file
  beside the checkpoint (first label 'background').

  Returns:
    True or False when the metadata says; None when there is none.
  """
  from slim_resnet.checkpoints import model_spec  # pylint: disable=g-import-not-at-top
  fields = model_spec.read_model_spec(checkpoint_path)
  if 'label_offset' in fields:
    return bool(fields['label_offset'])
  labels = fields.get('labels_source')
  if labels and os.path.isfile(labels):
    with open(labels, encoding='utf-8') as f:
      return f.readline().strip() == 'background'
  return None


def in_scopes(name, scopes):
  """Whether `name` is one of `scopes` or under one (whole name parts)."""
  return any(name == s.rstrip('/') or name.startswith(s.rstrip('/') + '/')
             for s in scopes)


def _selected(names, exclude_scopes, include_scopes):
  """Whether a variable known by `names` (graph, checkpoint) is restored."""
  if any(in_scopes(n, exclude_scopes or []) for n in names):
    return False
  return not include_scopes or any(in_scopes(n, include_scopes)
                                   for n in names)


def _checkpoint_name(name, ckpt_shapes, var_scope_map):
  """The checkpoint name for a graph variable name."""
  for graph_prefix, ckpt_prefix in (var_scope_map or {}).items():
    # A scope prefix: 'net' maps net/... (and 'net/' the same), never
    # network/...
    scope = graph_prefix.rstrip('/')
    if name == scope or name.startswith(scope + '/'):
      return ckpt_prefix.rstrip('/') + name[len(scope):]
  if name in ckpt_shapes:
    return name
  # An outer scope the checkpoint does not have: tower_0/resnet_v1_50/...
  parts = name.split('/')
  for i in range(1, len(parts)):
    candidate = '/'.join(parts[i:])
    if candidate in ckpt_shapes:
      return candidate
  return name


def _logits_fix(ckpt_name, graph_shape, ckpt_shape, mode, background):
  """(fix, why) if this logits pair may get one, else (None, None).

  fix is 'drop_background' or 'add_background'. In 'auto' mode a class is
  dropped or added only by meaning: the checkpoint's metadata says class 0
  is background (`background` True), or, with no metadata (None), the
  ImageNet 1001 <-> 1000 convention. Other count differences are mismatches.
  """
  if mode == 'off' or '/logits/' not in ckpt_name:
    return None, None
  if tuple(graph_shape[:-1]) != tuple(ckpt_shape[:-1]):
    return None, None
  g, c = graph_shape[-1], ckpt_shape[-1]
  fix = {g + 1: 'drop_background', g - 1: 'add_background'}.get(c)
  if fix is None or mode not in ('auto', fix):
    return None, None
  if mode == fix:
    return fix, 'labels_offset_mode=%r' % mode
  if fix == 'drop_background' and background:
    return fix, "the checkpoint's metadata says its class 0 is background"
  if background is None and IMAGENET_BACKGROUND.get((c, g)) == fix:
    return fix, 'the ImageNet convention (class 0 of 1001 is background)'
  return None, None


def _fixed_value(value, fix):
  if fix == 'drop_background':
    return value[..., 1:]
  pad = np.zeros(value.shape[:-1] + (1,), value.dtype)
  if value.ndim == 1:  # biases
    pad += BACKGROUND_BIAS
  return np.concatenate([pad, value], axis=-1)


def get_init_fn(checkpoint_path, var_list=None, exclude_scopes=None,
                include_scopes=None, ignore_missing_vars=False,
                var_scope_map=None, labels_offset_mode='auto',
                restore_moving_averages=False, *, checkpoint_background=None,
                ignore_missing_averages=False):
  """Plans the restore now (in the default graph); returns init_fn(sess).

  Args:
    checkpoint_path: A checkpoint prefix (fetch.fetch_checkpoint resolves
      names, URLs, directories and archives).
    var_list: Variables to restore; the model variables of the default graph
      (slim's MODEL_VARIABLES) by default.
    exclude_scopes: Scopes not to restore, e.g. ['resnet_v1_50/logits']
      (research/slim's --checkpoint_exclude_scopes). A scope matches whole
      name components, of the graph name or of the checkpoint name the
      variable maps to (so 'resnet_v1_50/logits' also excludes
      'tower_0/resnet_v1_50/logits/...' and a var_scope_map-renamed head).
    include_scopes: If given, restore only variables under these scopes
      (matched as exclude_scopes).
    ignore_missing_vars: Skip graph variables the checkpoint lacks instead of
      failing.
    var_scope_map: Dict graph prefix -> checkpoint prefix, e.g.
      {'my_net/': 'resnet_v1_50/'}.
    labels_offset_mode: 'auto' (default): a 1001-class checkpoint into a
      1000-class graph loses its class 0 (background), a 1000-class one into
      1001 classes gets a background class (zero weights, bias
      BACKGROUND_BIAS) -- the ImageNet convention -- and a checkpoint whose
      metadata says class 0 is background loses it for a graph with one
      class fewer; each fix is said on stderr. Any other class-count
      difference (10 into 9 or 11; 1001 into 1000 when the metadata says
      class 0 is a real class) raises. 'drop_background' / 'add_background'
      force that fix for any counts differing by one; 'off' never fixes.
    restore_moving_averages: Restore '<name>/ExponentialMovingAverage' into
      each variable where the checkpoint has it.
    checkpoint_background: Keyword only. Whether class 0 of the checkpoint
      is background, when the caller knows (a manifest entry's
      label_offset); None reads the checkpoint's own metadata
      (read_background()).
    ignore_missing_averages: Keyword only. With restore_moving_averages,
      restore the raw weights of trainable variables that have no shadow
      instead of failing.

  Returns:
    init_fn(sess, path=None) that restores the variables from
    checkpoint_path, or from `path`: another checkpoint with the same
    variables (e.g. a later one of the same training run), without
    planning again or adding ops.

  Raises:
    CheckpointError: If the checkpoint cannot be read (init_fn raises it
      too, for tensor data that is missing, truncated or corrupt).
    CheckpointMismatchError: If variables are missing or have other shapes
      (and no option above covers it); the message lists them with hints.
    UsageError: For an unknown labels_offset_mode (a ValueError).
  """
  if labels_offset_mode not in LABELS_OFFSET_MODES:
    raise user_errors.UsageError('labels_offset_mode must be one of %s; got %r' % (
        LABELS_OFFSET_MODES, labels_offset_mode))
  ckpt_vars = inspect_checkpoint.read_checkpoint(checkpoint_path)
  if checkpoint_background is None:
    checkpoint_background = read_background(checkpoint_path)
  ckpt_shapes = {n: s for n, (s, _) in ckpt_vars.items()}
  if var_list is None:
    var_list = tf.compat.v1.get_collection(
        tf.compat.v1.GraphKeys.MODEL_VARIABLES)
  to_restore, fixes, graph_shapes, reasons = {}, [], {}, {}
  trainable = set(tf.compat.v1.trainable_variables())
  no_average = []
  for var in var_list:
    name = _checkpoint_name(var.op.name, ckpt_shapes, var_scope_map)
    if not _selected((var.op.name, name), exclude_scopes, include_scopes):
      continue
    shape = tuple(var.shape.as_list())
    source = name
    if restore_moving_averages and name + MOVING_AVERAGE in ckpt_shapes:
      source = name + MOVING_AVERAGE
    elif restore_moving_averages and (var in trainable or not trainable):
      no_average.append(name)
    graph_shapes[source] = shape
    if source not in ckpt_shapes:
      continue
    if tuple(ckpt_shapes[source]) == shape:
      to_restore[source] = var
      continue
    fix, why = _logits_fix(name, shape, ckpt_shapes[source],
                           labels_offset_mode, checkpoint_background)
    if fix:
      fixes.append((var, source, fix))
      reasons[fix] = (why, ckpt_shapes[source][-1], shape[-1])

  if no_average and not ignore_missing_averages:
    raise errors.CheckpointMismatchError(
        'restore_moving_averages: %d of the trainable variables restored '
        'have no %s shadow in %s (e.g. %s); it was saved without moving '
        'averages (train --moving-average-decay keeps them). Evaluate the raw '
        'weights (drop --moving-averages), or pass '
        'ignore_missing_averages=True to use them where no shadow exists' % (
            len(no_average), MOVING_AVERAGE.lstrip('/'), checkpoint_path,
            ', '.join(no_average[:3])))
  fixed_names = {source for _, source, _ in fixes}
  if ignore_missing_vars:
    for name in [n for n in graph_shapes if n not in ckpt_shapes]:
      tf.compat.v1.logging.warning('not in the checkpoint, left as is: %s',
                                   name)
      del graph_shapes[name]
  report = report_lib.compare(graph_shapes, ckpt_shapes, ignore=fixed_names,
                              checkpoint_background=checkpoint_background)
  report_lib.raise_if_mismatch(report, checkpoint_path)
  _raise_if_other_dtypes(to_restore, ckpt_vars, checkpoint_path)
  for fix, (why, c, g) in reasons.items():
    notices.say('%s: restoring %d classes into %d by %s class 0 (%s)' % (
        checkpoint_path, c, g, 'dropping its' if fix == 'drop_background'
        else 'adding a background', why))

  saver = (tf.compat.v1.train.Saver(var_list=to_restore, reshape=False,
                                    sharded=False, allow_empty=True)
           if to_restore else None)
  placeholders, assigns = [], []
  for var, _, _ in fixes:
    placeholder = tf.compat.v1.placeholder(var.dtype.base_dtype, var.shape)
    placeholders.append(placeholder)
    assigns.append(var.assign(placeholder))

  def init_fn(sess, path=None):
    path = path or checkpoint_path
    with sess.graph.as_default():  # Saver.restore needs graph mode.
      try:
        if saver is not None:
          saver.restore(sess, path)
        if fixes:
          reader = tf.compat.v1.train.NewCheckpointReader(path)
          feed = {p: _fixed_value(reader.get_tensor(source), fix)
                  for p, (_, source, fix) in zip(placeholders, fixes)}
          sess.run(assigns, feed)
      except (tf.errors.DataLossError, tf.errors.OutOfRangeError,
              tf.errors.NotFoundError) as e:
        raise inspect_checkpoint.data_error(path, e) from None
      except tf.errors.InvalidArgumentError as e:  # A file changed since.
        raise errors.CheckpointError('cannot restore %s: %s' % (
            path, str(e).strip().splitlines()[0])) from None

  init_fn.restored = sorted(to_restore) + sorted(fixed_names)
  init_fn.fixes = [(v.op.name, s, f) for v, s, f in fixes]
  return init_fn


def _raise_if_other_dtypes(to_restore, ckpt_vars, checkpoint_path):
  """CheckpointError when the checkpoint stores a variable to restore in
  another dtype than the graph's (Saver.restore would fail in the session)."""
  other = [(name, ckpt_vars[name][1], var.dtype.base_dtype.name)
           for name, var in sorted(to_restore.items())
           if ckpt_vars[name][1] != var.dtype.base_dtype.name]
  if other:
    name, stored, wanted = other[0]
    raise errors.CheckpointError(
        '%s stores %d of the variables to restore as another dtype than the '
        "graph's (e.g. %s: %s, the graph %s); convert the checkpoint to %s "
        '(variables and checkpoints here are float32; --precision sets the '
        'compute precision)' % (checkpoint_path, len(other), name, stored,
                                wanted, wanted))


def restore(sess, checkpoint_path, **kwargs):
  """Restores into sess's graph now; see get_init_fn for the arguments.

  Returns:
    The checkpoint names restored.
  """
  with sess.graph.as_default():
    init_fn = get_init_fn(checkpoint_path, **kwargs)
    init_fn(sess)
  return init_fn.restored


