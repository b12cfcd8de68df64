"""slim-resnet extract: end_points features for a folder of images.

    slim-resnet extract --images DIR_OR_GLOB --end-points K1,K2 --out OUT
        [--checkpoint C] [--pool avg|max] [--resume] [--batch-size 32]
        [--shard-size 512] [--list-end-points] [--image-size N]
        [--preprocessing vgg|inception]

OUT ending in .npz gives one file (arrays named after the end_points with '/'
written as '__', plus 'paths'); any other OUT is a directory of shards with an
index.json. --resume continues an interrupted run into the same OUT; each
image is written once. Files that cannot be decoded are skipped and listed at
the end with the reason (exit code 1 if there were any). C may also be an
export directory (`export --format ...`), run on its runtime (--runtime).

    slim-resnet extract --beam --images DIR_GLOB_OR_TFRECORDS --out OUT
        [--output-format npz|tfrecord] [--num-shards N] [extract's flags]
        [Beam pipeline options, e.g. --runner=DataflowRunner --project=P]

--beam runs it as an Apache Beam pipeline (inference.beam_extraction; the
beam extra): OUT is a directory of shards and index.json, as above, keyed
by path or '<record file>:<index>' (TFRecords, labels carried along).
"""
import os
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
  parser.add_argument('--beam', action='store_true',
                      help='run as an Apache Beam pipeline (the beam extra); '
                      "arguments extract does not know are Beam's pipeline "
                      'options, e.g. --runner=DataflowRunner (default: the '
                      'DirectRunner); --images may also be TFRecords')
  parser.add_argument('--output-format', choices=('npz', 'tfrecord'),
                      default='npz',
                      help='--beam: shards of .npz (as extract writes) or '
                      '.tfrecord of tf.train.Example (default: %(default)s)')
  parser.add_argument('--num-shards', type=model_flags.positive_int,
                      default=None,
                      help='--beam: output shards (default: images / '
                      '--shard-size, or one per TFRecord file)')


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
  if args.beam:
    return _run_beam(args, end_points)
  if args.output_format != 'npz' or args.num_shards:
    raise errors.UsageError('--output-format and --num-shards are for '
                            '--beam; extract alone writes .npz shards of '
                            '--shard-size images')
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


def _run_beam(args, end_points):
  """extract --beam (inference.beam_extraction)."""
  if not args.images or not args.out:
    raise errors.UsageError('--images and --out are required')
  if args.device:
    raise errors.UsageError('--device: the Beam workers place the model '
                            'themselves; drop it')
  from slim_resnet.inference import beam_extraction  # pylint: disable=g-import-not-at-top
  if not getattr(args, 'verbose', False):  # Beam's and its workers' notes.
    import logging  # pylint: disable=g-import-not-at-top
    import threading  # pylint: disable=g-import-not-at-top
    logging.getLogger('apache_beam').setLevel(logging.CRITICAL)
    # BatchElements' curve fit warns in the workers (numpy RankWarning).
    os.environ.setdefault('PYTHONWARNINGS', 'ignore')
    # A worker that dies takes Beam's gRPC threads with it, each printing a
    # traceback; the pipeline's own error says it in one line.
    default_hook = threading.excepthook
    threading.excepthook = lambda hook_args: None if (
        _from_beam_or_grpc(hook_args.exc_traceback)) else default_hook(
            hook_args)
  summary = beam_extraction.run_extraction(
      args.checkpoint, args.images, args.out, end_points, pooling=args.pool,
      resume=args.resume, batch_size=args.batch_size,
      num_shards=args.num_shards, output_format=args.output_format,
      pipeline_args=getattr(args, 'pipeline_args', []),
      shard_size=args.shard_size, runtime=args.runtime,
      **model_flags.precision_options(args),
      **model_flags.model_overrides(args))
  print('wrote %d inputs to %s (%d shards)' % (
      summary['done'], summary['out'], len(summary['shards'])))
  for key, reason in sorted(summary['failed'].items()):
    print('skipped %s: %s' % (key, reason), file=sys.stderr)
  return 1 if summary['failed'] else 0


def _from_beam_or_grpc(traceback):
  """Whether a traceback runs through apache_beam's or grpc's code."""
  while traceback is not None:
    name = traceback.tb_frame.f_code.co_filename
    if '/apache_beam/' in name or '/grpc/' in name:
      return True
    traceback = traceback.tb_next
  return False
