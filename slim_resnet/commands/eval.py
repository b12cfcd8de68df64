"""slim-resnet eval: top-1, top-5 and per-class accuracy of a checkpoint.

    slim-resnet eval --checkpoint C --dataset DATA [--split validation]
        [--batch-size 32] [--output results.json]
        [--watch [--timeout 600] [--max-step N]]

C is a training directory (its latest checkpoint), a checkpoint path or a
manifest name. DATA is an image folder (split per class as `train` split it:
same --validation-fraction and --seed) or TFRecords. --watch evaluates each
new checkpoint of the training directory C while training runs, writing
TensorBoard summaries to C/eval, until --timeout seconds pass with no new
checkpoint or one reaches --max-step. --output writes the results as JSON
(one object; a list with --watch).
"""
import json
import math

from slim_resnet import precision

HELP = 'top-1 / top-5 / per-class accuracy of a checkpoint on a dataset'


def add_arguments(parser):
  parser.add_argument('--checkpoint', required=True,
                      help='training directory, checkpoint path or manifest name')
  parser.add_argument('--dataset', required=True,
                      help='image folder DATA/<class>/<images> or TFRecords')
  parser.add_argument('--split', default='validation',
                      help='validation, train or all (default: %(default)s)')
  parser.add_argument('--batch-size', type=int, default=32)
  parser.add_argument('--validation-fraction', type=float, default=0.2)
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument('--labels-offset', type=int, default=0)
  parser.add_argument('--moving-averages', action='store_true',
                      help='evaluate the ExponentialMovingAverage shadows')
  parser.add_argument('--output', default=None, help='write JSON results')
  parser.add_argument('--watch', action='store_true',
                      help='evaluate each new checkpoint of a training dir')
  parser.add_argument('--timeout', type=float, default=None,
                      help='--watch: stop after this many seconds without a '
                      'new checkpoint')
  parser.add_argument('--max-step', type=int, default=None,
                      help='--watch: stop after a checkpoint at this step')
  parser.add_argument('--device', default=None)
  precision.add_arguments(parser)
  parser.add_argument('--no-progress', dest='progress', action='store_false')


def format_result(result):
  """A printable table of an EvalResult."""
  lines = ['checkpoint %s (step %s): %d images' % (
      result.checkpoint_path, result.global_step, result.num_examples),
           '  precision %s' % result.precision,
           '  top-1     %.4f' % result.top1,
           '  top-%d     %.4f' % (result.top_k, result.top5),
           '  loss      %.4f' % result.loss,
           '  per class:']
  width = max(len(c) for c in result.per_class)
  for name, accuracy in result.per_class.items():
    lines.append('    %-*s %s  (%d images)' % (
        width, name, 'n/a   ' if math.isnan(accuracy) else '%.4f' % accuracy,
        result.class_counts[name]))
  return '\n'.join(lines)


def _write(path, value):
  from slim_resnet import files  # pylint: disable=g-import-not-at-top
  files.atomic_write_text(path, json.dumps(value, indent=2))


def run(args):
  from slim_resnet import evaluation  # pylint: disable=g-import-not-at-top
  options = dict(split=args.split, batch_size=args.batch_size,
                 validation_fraction=args.validation_fraction, seed=args.seed,
                 labels_offset=args.labels_offset,
                 restore_moving_averages=args.moving_averages,
                 device=args.device, precision=args.precision,
                 precision_strict=args.precision_strict)
  if not args.watch:
    result = evaluation.evaluate(args.checkpoint, args.dataset,
                                 progress=args.progress, **options)
    print(format_result(result))
    if args.output:
      _write(args.output, result.as_dict())
    return 0
  results = []
  for result in evaluation.watch(args.checkpoint, args.dataset,
                                 timeout=args.timeout, max_step=args.max_step,
                                 **options):
    print(format_result(result), flush=True)
    results.append(result.as_dict())
    if args.output:
      _write(args.output, results)
  if not results:
    print('no checkpoint appeared in %s' % args.checkpoint)
    return 1
  return 0
