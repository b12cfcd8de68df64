"""slim-resnet ckpt: the official checkpoints, and what a checkpoint holds.

    slim-resnet ckpt list                      # the manifest, and what is cached
    slim-resnet ckpt fetch NAME_OR_URL         # download, verify, extract
    slim-resnet ckpt inspect PATH [--all]      # variables, model, num_classes
    slim-resnet ckpt check PATH --model M --num-classes N
        [--exclude-scopes S1,S2] [--labels-offset-mode auto]

`check` builds the model's graph and reports every difference from the
checkpoint with the likely fix (exit code 1 when it would not restore).
"""
import os

from slim_resnet.commands import model_flags

HELP = 'list, fetch, inspect and check checkpoints'


def add_arguments(parser):
  sub = parser.add_subparsers(dest='action', metavar='action')
  sub.required = True
  sub.add_parser('list', help='the manifest, and what is cached')
  fetch = sub.add_parser('fetch', help='download, verify and extract')
  fetch.add_argument('checkpoint', help='manifest name, URL or path')
  inspect = sub.add_parser('inspect', help='variables, model, num_classes')
  inspect.add_argument('checkpoint',
                       help='manifest name, URL, checkpoint path or directory')
  inspect.add_argument('--all', action='store_true',
                       help='list every variable (default: the first 40)')
  check = sub.add_parser('check', help='would it restore into this model?')
  check.add_argument('checkpoint',
                     help='manifest name, URL, checkpoint path or directory')
  check.add_argument('--model', required=True,
                     help='the model to restore into, e.g. resnet_v1_50')
  check.add_argument('--num-classes', type=model_flags.positive_int,
                     default=None,
                     help='classes of its logits (default: no logits layer)')
  check.add_argument('--depth-multiplier', type=model_flags.positive_float,
                     default=1.0,
                     help='channels multiplier of the model (default: '
                     '%(default)s)')
  check.add_argument('--exclude-scopes', default='',
                     help='comma-separated scopes not restored, e.g. '
                     'resnet_v1_50/logits')
  check.add_argument('--labels-offset-mode', default='auto',
                     help='a 1001-class checkpoint into 1000 classes (or '
                     'back): auto, or as the restorer names them (default: '
                     '%(default)s)')


def _list():
  from slim_resnet.checkpoints import fetch  # pylint: disable=g-import-not-at-top
  from slim_resnet.checkpoints import manifest  # pylint: disable=g-import-not-at-top
  print('%-22s %-14s %7s %5s %-10s %11s  %s' % (
      'name', 'model', 'classes', 'size', 'preprocess', 'top1/top5', 'where'))
  for spec in manifest.list_specs():
    if spec.path:
      where = 'shipped'
    else:
      archive = os.path.join(fetch.cache_dir(), 'downloads', spec.archive_name)
      where = 'cached' if os.path.exists(archive) else spec.url
    accuracy = ('%.1f/%.1f' % (spec.top1, spec.top5) if spec.top1 else '-')
    print('%-22s %-14s %7d %5d %-10s %11s  %s' % (
        spec.name, spec.model, spec.num_classes, spec.image_size,
        spec.preprocessing, accuracy, where))
  return 0


def _check(args):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from slim_resnet import nets_factory  # pylint: disable=g-import-not-at-top
  from slim_resnet.checkpoints import errors  # pylint: disable=g-import-not-at-top
  from slim_resnet.checkpoints import fetch  # pylint: disable=g-import-not-at-top
  from slim_resnet.checkpoints import restorer  # pylint: disable=g-import-not-at-top
  path = fetch.fetch_checkpoint(args.checkpoint)
  network_fn = nets_factory.get_network_fn(args.model, args.num_classes)
  with tf.Graph().as_default():
    images = tf.compat.v1.placeholder(tf.float32, [1, 64, 64, 3])
    network_fn(images, depth_multiplier=args.depth_multiplier,
               spatial_squeeze=False)
    try:
      init_fn = restorer.get_init_fn(
          path, exclude_scopes=[s for s in args.exclude_scopes.split(',') if s],
          labels_offset_mode=args.labels_offset_mode)
    except errors.CheckpointMismatchError as e:
      print(e)
      return 1
  print('ok: %s restores into %s (num_classes=%s): %d variables%s' % (
      path, args.model, args.num_classes, len(init_fn.restored),
      ''.join(', %s %s' % (f, n) for n, _, f in init_fn.fixes)))
  return 0


def run(args):
  from slim_resnet.checkpoints import fetch  # pylint: disable=g-import-not-at-top
  from slim_resnet.checkpoints import inspect_checkpoint  # pylint: disable=g-import-not-at-top
  if args.action == 'list':
    return _list()
  if args.action == 'fetch':
    print(fetch.fetch_checkpoint(args.checkpoint))
    return 0
  if args.action == 'inspect':
    info = inspect_checkpoint.describe_checkpoint(
        fetch.fetch_checkpoint(args.checkpoint))
    print(inspect_checkpoint.format_description(
        info, None if args.all else 40))
    return 0
  return _check(args)
