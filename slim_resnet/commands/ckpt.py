"""slim-resnet ckpt: the official checkpoints, and what a checkpoint holds.

    slim-resnet ckpt list                      # the manifest, and what is cached
    slim-resnet ckpt fetch NAME_OR_URL         # download, verify, extract
    slim-resnet ckpt inspect PATH [--all]      # variables, model, num_classes
                                               # (reads every tensor)
    slim-resnet ckpt check NAME_OR_PATH [--model M] [--num-classes N]
        [--depth-multiplier D] [--exclude-scopes S1,S2]
        [--labels-offset-mode auto]

`check` builds the model's graph (by default the checkpoint's own model,
classes and builder options, from the manifest, model_spec.json or its
variables), plans the restore with the library's rules, reads every tensor,
and reports every difference with the likely fix (exit code 1 when it would
not restore; 2 when its data cannot be read).
"""
import os
import sys

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
  check = sub.add_parser(
      'check', help='would it restore into this model? (reads every tensor)')
  check.add_argument('checkpoint', help='manifest name or checkpoint path')
  check.add_argument('--model', default=None, type=model_flags.model_name,
                     help="model to restore into (default: the checkpoint's, "
                     'from the manifest, model_spec.json or its variables)')
  check.add_argument('--num-classes', type=model_flags.non_negative_int,
                     default=None,
                     help="logits of the model, 0 for none (default: the "
                     "checkpoint's)")
  check.add_argument('--depth-multiplier', type=model_flags.positive_float,
                     default=None,
                     help="builder depth_multiplier (default: the "
                     "checkpoint's, e.g. the manifest's 0.125 for "
                     'digits_resnet_v1_18)')
  check.add_argument('--exclude-scopes', default='',
                     help='comma-separated scopes not to restore, e.g. '
                     'resnet_v1_50/logits')
  check.add_argument('--labels-offset-mode', default='auto',
                     choices=('auto', 'drop_background', 'add_background',
                              'off'),
                     help='background class handling (default: auto, the '
                     'ImageNet 1001 <-> 1000 convention or the checkpoint\'s '
                     'metadata)')


def _list():
  from slim_resnet.checkpoints import archive  # pylint: disable=g-import-not-at-top
  from slim_resnet.checkpoints import fetch  # pylint: disable=g-import-not-at-top
  from slim_resnet.checkpoints import manifest  # pylint: disable=g-import-not-at-top
  print('%-22s %-14s %7s %5s %-10s %11s  %s' % (
      'name', 'model', 'classes', 'size', 'preprocess', 'top1/top5', 'where'))
  for spec in manifest.list_specs():
    if spec.path:
      where = 'shipped'
    else:
      cached = os.path.exists(archive.archive_path(spec.url, fetch.cache_dir()))
      where = 'cached' if cached else spec.url
    accuracy = ('%.1f/%.1f' % (spec.top1, spec.top5) if spec.top1 else '-')
    print('%-22s %-14s %7d %5d %-10s %11s  %s' % (
        spec.name, spec.model, spec.num_classes, spec.image_size,
        spec.preprocessing, accuracy, where))
  return 0


def _check(args):
  from slim_resnet.checkpoints import errors  # pylint: disable=g-import-not-at-top
  from slim_resnet.checkpoints import model_spec  # pylint: disable=g-import-not-at-top
  from slim_resnet.checkpoints import restore_check  # pylint: disable=g-import-not-at-top
  overrides = {}
  if args.model:
    overrides['model'] = args.model
  if args.num_classes is not None:
    overrides['num_classes'] = args.num_classes
  spec = model_spec.resolve_model(args.checkpoint, **overrides)
  options = dict(spec.model_options)
  if args.depth_multiplier is not None:
    options['depth_multiplier'] = args.depth_multiplier
  try:
    check = restore_check.check_restore(
        spec.checkpoint_path, spec.model, spec.num_classes, options,
        exclude_scopes=[s for s in args.exclude_scopes.split(',') if s],
        labels_offset_mode=args.labels_offset_mode,
        checkpoint_background=spec.checkpoint_background)
  except errors.CheckpointMismatchError as e:
    print(e)  # The report, on stdout; the verdict as every error's, below.
    print('slim-resnet ckpt check: error: %s does not restore into %s '
          '(num_classes=%s): the report is above' % (
              spec.checkpoint_path, spec.model, spec.num_classes),
          file=sys.stderr)
    return 2
  print('ok: %s restores into %s (num_classes=%s%s): %d variables, all %d '
        'tensors read (%.1f MB)%s' % (
            check.checkpoint_path, check.model, check.num_classes,
            ''.join(', %s=%s' % kv for kv in sorted(options.items())),
            len(check.restored), check.tensors, check.bytes / 1e6,
            ''.join(', %s %s' % (f, n) for n, _, f in check.fixes)))
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
    path = fetch.fetch_checkpoint(args.checkpoint)
    info = inspect_checkpoint.describe_checkpoint(path)
    # Read every tensor first: never describe data that cannot be read.
    tensors, size = inspect_checkpoint.verify_checkpoint_data(path)
    print(inspect_checkpoint.format_description(
        info, None if args.all else 40))
    print('data: all %d tensors read, %.1f MB, checksums ok' % (tensors,
                                                              size / 1e6))
    return 0
  return _check(args)
