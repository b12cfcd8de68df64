"""slim-resnet summary: end_points, shapes, parameters and FLOPs of a model.

    slim-resnet summary resnet_v1_50 [--image-size 224] [--num-classes 1000]
        [--output-stride 16 --no-global-pool] [--all]
"""
from slim_resnet.commands import model_flags

HELP = 'table of end_points with shapes, parameters and FLOPs'


def add_arguments(parser):
  parser.add_argument('model', help='e.g. resnet_v1_50 (see: slim-resnet '
                      'summary --list)', nargs='?',
                      type=model_flags.model_name)
  parser.add_argument('--list', action='store_true',
                      help='list the model names and exit')
  parser.add_argument('--image-size', type=model_flags.positive_int,
                      default=None,
                      help='input height and width (default: the model\'s)')
  parser.add_argument('--num-classes', type=model_flags.positive_int,
                      default=1000,
                      help='classes of the logits (default: %(default)s)')
  parser.add_argument('--output-stride', type=model_flags.positive_int,
                      default=None,
                      help='atrous convolution: input / output resolution, '
                      'e.g. 8 or 16 (default: none, 32)')
  parser.add_argument('--no-global-pool', dest='global_pool',
                      action='store_false',
                      help='keep the spatial feature map (no global pool)')
  parser.add_argument('--depth-multiplier', type=model_flags.positive_float,
                      default=1.0,
                      help='channels multiplier (default: %(default)s)')
  parser.add_argument('--all', action='store_true',
                      help='also list the convolutions inside each unit')


def run(args):
  from slim_resnet import nets_factory  # pylint: disable=g-import-not-at-top
  from slim_resnet import summary  # pylint: disable=g-import-not-at-top
  if args.list or not args.model:
    print('\n'.join(nets_factory.list_networks()))
    return 0
  rows, totals = summary.summarize(
      args.model, image_size=args.image_size, num_classes=args.num_classes,
      output_stride=args.output_stride, global_pool=args.global_pool,
      spatial_squeeze=args.global_pool,
      depth_multiplier=args.depth_multiplier)
  print(summary.format_summary(rows, totals, units_only=not args.all))
  return 0
