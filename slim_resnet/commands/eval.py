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

eval_image_classifier.py's flags are accepted as they are (--checkpoint_path,
--dataset_dir, --dataset_split_name, --eval_dir, --max_num_batches,
--eval_image_size, --preprocessing_name, --model_name, ...); --dataset_name
is accepted and unused. See the README's table.
"""
import argparse
import json
import math

from slim_resnet import errors
from slim_resnet.commands import model_flags

HELP = 'top-1 / top-5 / per-class accuracy of a checkpoint on a dataset'


def add_arguments(parser):
  positive = model_flags.positive_int
  model_flags.add_model_arguments(parser, batch_size=32, slim_names=True,
                                  checkpoint_required=True)
  model_flags.add_runtime_argument(parser)
  parser.add_argument('--dataset', '--dataset_dir', dest='dataset',
                      required=True, type=model_flags.existing_dataset,
                      help='image folder DATA/<class>/<images> or TFRecords')
  parser.add_argument('--split', '--dataset_split_name', dest='split',
                      default='validation',
                      help='validation, train or all (default: %(default)s)')
  parser.add_argument('--validation-fraction', type=model_flags.fraction,
                      default=0.2,
                      help='image folders: the share of each class held out, '
                      'as train split it (default: %(default)s)')
  parser.add_argument('--seed', type=int, default=0,
                      help='image folders: the split seed, as train used '
                      '(default: %(default)s)')
  parser.add_argument('--labels-offset', '--labels_offset', dest='labels_offset',
                      type=model_flags.non_negative_int, default=0,
                      help='subtracted from every stored label (default: '
                      '%(default)s)')
  parser.add_argument('--moving-averages', action='store_true',
                      help='evaluate the ExponentialMovingAverage shadows')
  parser.add_argument('--moving_average_decay', type=float, default=None,
                      help='research/slim: any value evaluates the moving '
                      'averages (as --moving-averages)')
  parser.add_argument('--max-num-batches', '--max_num_batches',
                      dest='max_num_batches', type=positive, default=None,
                      help='evaluate only the first N batches (default: all)')
  parser.add_argument('--eval-dir', '--eval_dir', dest='eval_dir',
                      default=None,
                      help='write TensorBoard summaries (eval/top1, top5, '
                      'loss) here (default: none; with --watch C/eval)')
  parser.add_argument('--num-preprocessing-threads',
                      '--num_preprocessing_threads',
                      dest='num_preprocessing_threads', type=positive,
                      default=None,
                      help='images decoded and preprocessed in parallel '
                      "(default: tf.data's AUTOTUNE)")
  model_flags.add_bool(parser, '--use-grayscale', '--use_grayscale',
                       dest='use_grayscale',
                       help='make the images gray first (3 equal channels)')
  parser.add_argument('--output', default=None,
                      help='write the results as JSON to this file')
  parser.add_argument('--watch', action='store_true',
                      help='evaluate each new checkpoint of a training dir')
  parser.add_argument('--timeout', type=model_flags.positive_float,
                      default=None,
                      help='--watch: stop after this many seconds without a '
                      'new checkpoint (default: wait forever)')
  parser.add_argument('--max-step', type=positive, default=None,
                      help='--watch: stop after a checkpoint at this step')
  parser.add_argument('--no-progress', dest='progress', action='store_false',
                      help='no progress bar')
  # eval_image_classifier.py's flags that have no meaning here (accepted).
  parser.add_argument('--dataset_name', help=argparse.SUPPRESS)
  parser.add_argument('--master', default='', help=argparse.SUPPRESS)
  model_flags.add_bool(parser, '--quantize', help=argparse.SUPPRESS)


def format_result(result):
  """A printable table of an EvalResult."""
  lines = ['checkpoint %s%s: %d images' % (
      result.checkpoint_path, '' if result.global_step is None else
      ' (step %s)' % result.global_step, result.num_examples),
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
  if args.master or args.quantize:
    raise errors.UsageError('--master and --quantize are not supported: eval '
                            'runs in this process; for an int8 model, '
                            'evaluate an export: export --format ... '
                            '--precision int8, then eval --checkpoint DIR')
  from slim_resnet.train import evaluation  # pylint: disable=g-import-not-at-top
  options = dict(split=args.split, batch_size=args.batch_size,
                 validation_fraction=args.validation_fraction, seed=args.seed,
                 labels_offset=args.labels_offset,
                 restore_moving_averages=(args.moving_averages or
                                          args.moving_average_decay is not None),
                 device=args.device, max_num_batches=args.max_num_batches,
                 use_grayscale=args.use_grayscale,
                 num_preprocessing_threads=args.num_preprocessing_threads,
                 **model_flags.precision_options(args),
                 **model_flags.model_overrides(args))
  if args.runtime:
    options['runtime'] = args.runtime
  if not args.watch:
    result = evaluation.evaluate(args.checkpoint, args.dataset,
                                 progress=args.progress, **options)
    print(format_result(result))
    if args.eval_dir:
      evaluation.write_summaries(result, args.eval_dir)
    if args.output:
      _write(args.output, result.as_dict())
    return 0
  from slim_resnet.inference import runtimes  # pylint: disable=g-import-not-at-top
  if runtimes.is_export(args.checkpoint) or args.runtime:
    raise errors.UsageError('--watch follows the checkpoints of a training '
                            'directory; an export directory is evaluated '
                            'once: drop --watch')
  results = []
  for result in evaluation.watch(args.checkpoint, args.dataset,
                                 timeout=args.timeout, max_step=args.max_step,
                                 eval_dir=args.eval_dir, **options):
    print(format_result(result), flush=True)
    results.append(result.as_dict())
    if args.output:
      _write(args.output, results)
  if not results:
    print('no checkpoint appeared in %s' % args.checkpoint)
    return 1
  return 0
