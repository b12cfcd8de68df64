"""slim-resnet data: sample images, and image folders to TFRecords.

    slim-resnet data sample OUT [--invert]
    slim-resnet data convert FOLDER OUT [--name images]
        [--validation-fraction 0.2] [--shards 2] [--labels-offset 0] [--seed 0]

`sample` writes the shipped checkpoint's 359 held-out digit images as
OUT/<class>/<n>.png (classes 0..9): a small image folder to try `train`,
`eval` and `export` on. `convert` turns FOLDER/<class_name>/<images> into
research/slim TFRecords OUT/<name>_{train,validation}_<i>-of-<n>.tfrecord
(keys image/encoded, image/format, image/class/label, image/height,
image/width) and OUT/labels.txt, split per class. Files that cannot be
decoded are skipped and listed.
"""
import sys

from slim_resnet.commands import model_flags

HELP = 'write the sample image folder; convert an image folder to TFRecords'


def add_arguments(parser):
  actions = parser.add_subparsers(dest='action', metavar='action')
  actions.required = True
  sample = actions.add_parser('sample', help='write the sample digits folder')
  sample.add_argument('out', help='folder to write OUT/<class>/<n>.png into')
  sample.add_argument('--invert', action='store_true',
                      help='write the digits as negatives (dark on white), '
                      'a look the shipped checkpoint has not seen')
  convert = actions.add_parser('convert',
                               help='image folder -> sharded TFRecords')
  convert.add_argument('folder', help='FOLDER/<class_name>/<images>')
  convert.add_argument('out', help='output directory')
  convert.add_argument('--name', default='images',
                       help='dataset name in the shard file names')
  convert.add_argument('--validation-fraction', type=model_flags.fraction,
                       default=0.2,
                       help='share of each class written to the validation '
                       'split (default: %(default)s)')
  convert.add_argument('--shards', type=model_flags.positive_int, default=2,
                       help='files per split (default: %(default)s)')
  convert.add_argument('--labels-offset', type=int, default=0,
                       help='added to every label (1 keeps 0 for background)')
  convert.add_argument('--seed', type=int, default=0,
                       help='seed of the split (default: %(default)s)')


def run(args):
  if args.action == 'sample':
    from slim_resnet.data import image_folder  # pylint: disable=g-import-not-at-top
    examples = image_folder.write_sample_folder(args.out, invert=args.invert)
    print('wrote %d images in %d classes to %s' % (
        len(examples.paths), len(examples.class_names), args.out))
    return 0
  from slim_resnet.data import tfrecords  # pylint: disable=g-import-not-at-top
  summary = tfrecords.convert_image_folder(
      args.folder, args.out, name=args.name,
      validation_fraction=args.validation_fraction, num_shards=args.shards,
      labels_offset=args.labels_offset, seed=args.seed)
  print('%d classes; train: %d images in %d files; validation: %d images in '
        '%d files; labels in %s/labels.txt' % (
            len(summary['class_names']), summary['counts']['train'],
            len(summary['train']), summary['counts']['validation'],
            len(summary['validation']), args.out))
  for path, reason in sorted(summary['skipped'].items()):
    print('skipped %s: %s' % (path, reason), file=sys.stderr)
  return 1 if summary['skipped'] else 0  # README: 1, done with skipped inputs
