"""slim-resnet extract: end_points features for a folder of images.

    slim-resnet extract --images DIR_OR_GLOB --end-points K1,K2 --out OUT
        [--checkpoint C] [--pool avg|max] [--resume] [--batch-size 32]
        [--shard-size 512] [--list-end-points] [--image-size N]
        [--preprocessing vgg|inception]

OUT ending in .npz gives one file (arrays named after the end_points with '/'
written as '__', plus 'paths'); any other OUT is a directory of shards with an
index.json. --resume continues an interrupted run into the same OUT; each
image is written once. Files that cannot be decoded are skipped and listed at
the end with the reason (exit code 1 if there were any).
"""
import sys

from slim_resnet import errors
from slim_resnet.commands import model_flags

HELP = 'end_points features for a folder of images, to .npz or shards'


def add_arguments(parser):
  parser.add_argument('--images', nargs='+',
                      help='image files, directories or glob patterns')
  parser.add_argument('--end-points', default=None,
                      help='comma-separated end_points keys (default: the '
                      'predictions, or the last block without logits)')
  parser.add_argument('--out', help='OUT.npz, or a directory of shards')
  parser.add_argument('--pool', choices=('avg', 'max'), default=None,
                      help='spatially pool feature maps to [n, channels]')
  parser.add_argument('--resume', action='store_true',
                      help='continue an interrupted run into the same OUT')
  parser.add_argument('--shard-size', type=model_flags.positive_int,
                      default=512,
                      help='images per shard file of a directory OUT '
                      '(default: %(default)s)')
  model_flags.add_model_arguments(parser, batch_size=32)
  model_flags.add_runtime_argument(parser)
  parser.add_argument('--list-end-points', action='store_true',
                      help='print the model\'s end_points and exit')
  parser.add_argument('--no-progress', dest='progress', action='store_false',
                      help='no progress bar')


def run(args):
  from slim_resnet.inference import extraction  # pylint: disable=g-import-not-at-top
  from slim_resnet.data import images as images_lib  # pylint: disable=g-import-not-at-top
  from slim_resnet.inference import classifier as inference  # pylint: disable=g-import-not-at-top
  end_points = args.end_points.split(',') if args.end_points else None
  from slim_resnet.inference import runtimes  # pylint: disable=g-import-not-at-top
  if args.list_end_points and runtimes.is_export(args.checkpoint):
    for key in runtimes.read_info(args.checkpoint)['outputs']:
      print(key)  # The outputs it was exported with.
    return 0
  if args.list_end_points:  # The model alone: no checkpoint downloaded.
    from slim_resnet.checkpoints import model_spec  # pylint: disable=g-import-not-at-top
    spec = model_spec.resolve_model(args.checkpoint, download=False,
                                    **model_flags.model_overrides(args))
    for key, shape in inference.model_end_points(spec).items():
      print('%-60s %s' % (key, shape))
    return 0
  with inference.FeatureExtractor(
      args.checkpoint, end_points=end_points, batch_size=args.batch_size,
      device=args.device, runtime=args.runtime,
      **model_flags.precision_options(args),
      **model_flags.model_overrides(args)) as extractor:
    if args.precision not in (None, 'float32'):  # Said when asked.
      print(extractor.precision.describe(), file=sys.stderr)
    if args.list_end_points:
      for key, tensor in extractor.end_points.items():
        print('%-60s %s' % (key, tensor.shape))
      return 0
    if not args.images or not args.out:
      raise errors.UsageError('--images and --out are required (or use '
                       '--list-end-points)')
    paths = images_lib.list_images(args.images)
    summary = extraction.extract_to_files(
        extractor, paths, args.out, end_points, pooling=args.pool,
        resume=args.resume, shard_size=args.shard_size,
        progress=args.progress)
  print('wrote %d images to %s' % (summary['done'], summary['out']))
  for path, reason in sorted(summary['failed'].items()):
    print('skipped %s: %s' % (path, reason), file=sys.stderr)
  return 1 if summary['failed'] else 0
