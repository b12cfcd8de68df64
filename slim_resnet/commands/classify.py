"""slim-resnet classify: top-k labels for image files.

    slim-resnet classify IMAGES... [--checkpoint C] [--top-k 5] [--batch-size 16]
        [--image-size N] [--preprocessing vgg|inception]

IMAGES are files, directories or glob patterns. C is a manifest name (see
`slim-resnet ckpt list`), a checkpoint path, or nothing for the small
checkpoint shipped with the package. Prints one table row per image and
prediction: file, rank, label, probability. Files that cannot be decoded are
listed at the end with the reason (exit code 1 if there were any).
"""
import os
import sys

from slim_resnet.commands import model_flags

HELP = 'top-k labels for image files'


def add_arguments(parser):
  parser.add_argument('images', nargs='+',
                      help='image files, directories or glob patterns')
  parser.add_argument('--top-k', type=model_flags.positive_int, default=5,
                      help='labels printed per image (default: %(default)s)')
  model_flags.add_model_arguments(parser, batch_size=16)
  model_flags.add_runtime_argument(parser)


def run(args):
  from slim_resnet.data import images as images_lib  # pylint: disable=g-import-not-at-top
  from slim_resnet.inference import classifier as inference  # pylint: disable=g-import-not-at-top
  paths = images_lib.list_images(args.images)
  failures, rows = [], []
  with inference.Classifier(args.checkpoint, batch_size=args.batch_size,
                            device=args.device, runtime=args.runtime,
                            **model_flags.precision_options(args),
                            **model_flags.model_overrides(args)) as classifier:
    if args.precision not in (None, 'float32'):  # Said when asked.
      print(classifier.precision.describe(), file=sys.stderr)
    for path, top, error in classifier.classify_files(paths, args.top_k):
      if error:
        failures.append((path, error))
        continue
      rows += [(os.path.relpath(path), rank, label, probability)
               for rank, (label, probability) in enumerate(top, 1)]
  width = max([len(r[0]) for r in rows] + [4])
  print('%-*s %4s  %-30s %s' % (width, 'file', 'rank', 'label', 'probability'))
  for row in sorted(rows):
    print('%-*s %4d  %-30s %.4f' % ((width,) + row))
  for path, reason in failures:
    print('skipped %s: %s' % (path, reason), file=sys.stderr)
  return 1 if failures else 0
