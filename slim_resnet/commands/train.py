"""slim-resnet train: fine-tune from a checkpoint on an image folder or TFRecords.

    slim-resnet train --dataset DATA --train-dir DIR [--checkpoint C]
        [--checkpoint-exclude-scopes S,...] [--trainable-scopes S,...]
        [--max-steps 1000] [--batch-size 32] [--optimizer momentum]
        [--learning-rate 0.01] [--learning-rate-schedule exponential]
        [--warmup-steps 0] [--label-smoothing 0] [--freeze-batch-norm]
        [--save-checkpoint-steps N | --save-checkpoint-secs 600] ...

research/slim's train_image_classifier.py flags, with dashes. DATA is a folder
DATA/<class_name>/<images> (split per class into train and validation with
--validation-fraction and --seed) or TFRecords from `slim-resnet data
convert`. C is a manifest name or checkpoint path (omit it and give --model to
train from scratch). Scopes are comma-separated. Running the same command
again resumes from DIR's latest checkpoint. DIR then works as --checkpoint for
`eval`, `export`, `classify` and `extract`. --num-clones N trains N towers;
--job-name ps|worker --task-index I --ps-hosts H,... --worker-hosts H,... (or
TF_CONFIG) runs the same command as one task of a cluster.

research/slim's flag names are accepted as they are (--dataset_dir,
--checkpoint_path, --max_number_of_steps, --model_name, --batch_size, ...),
so a train_image_classifier.py command line runs unchanged; see the README's
table. --dataset_name is accepted and unused (the classes come from DATA).
"""
import argparse
import dataclasses
import sys

from slim_resnet import errors
from slim_resnet import notices
from slim_resnet.inference.precision import PRECISIONS  # noqa: F401  (in _CHOICES)
from slim_resnet.commands import model_flags

HELP = 'fine-tune a ResNet from a checkpoint (research/slim train_image_classifier)'

# optimization.OPTIMIZERS and LEARNING_RATE_SCHEDULES (that module imports
# TensorFlow); tests check they are the same.
OPTIMIZERS = ('momentum', 'rmsprop', 'adam', 'sgd', 'adadelta', 'adagrad',
              'ftrl')
LEARNING_RATE_SCHEDULES = ('fixed', 'exponential', 'cosine', 'polynomial')

# Help for every TrainConfig field (defaults are added after, once).
_HELP = {
    'train_dir': 'checkpoints and summaries go here; an existing one resumes',
    'dataset': 'image folder DATA/<class>/<images> or TFRecords (folder or '
               'glob)',
    'checkpoint': 'manifest name or checkpoint path to fine-tune from '
                  '(default: none, train from scratch with --model)',
    'model': "model name (default: the checkpoint's)",
    'image_size': "input height and width (default: the checkpoint's)",
    'preprocessing': "vgg, inception or torchvision (default: the "
                     "checkpoint's)",
    'preprocessing_options': "keyword arguments of the preprocessing "
                             "(default: the checkpoint's)",
    'checkpoint_exclude_scopes': 'comma-separated scopes not restored, e.g. '
                                 'resnet_v1_50/logits',
    'trainable_scopes': 'comma-separated scopes to train (default: all)',
    'ignore_missing_vars': 'leave variables the checkpoint lacks initialized',
    'labels_offset': 'subtracted from every stored label',
    'split': 'train, validation or all',
    'validation_fraction': "image folders: the share of each class held out "
                           "for eval",
    'seed': 'split, shuffle and initialization seed',
    'batch_size': 'images per step',
    'max_steps': 'the last global step; a train_dir already there is left '
                 'as it is',
    'optimizer': ', '.join(OPTIMIZERS),
    'learning_rate': 'initial learning rate',
    'learning_rate_schedule': ', '.join(LEARNING_RATE_SCHEDULES),
    'learning_rate_decay_factor': 'exponential decay factor',
    'num_epochs_per_decay': 'epochs between exponential decays',
    'end_learning_rate': "polynomial decay's final rate",
    'warmup_steps': 'linear warm-up steps before the schedule',
    'momentum': 'momentum optimizer: momentum',
    'rmsprop_decay': 'rmsprop: decay',
    'rmsprop_momentum': 'rmsprop: momentum',
    'adam_beta1': 'adam: first-moment decay',
    'adam_beta2': 'adam: second-moment decay',
    'opt_epsilon': 'rmsprop, adam, adadelta: epsilon',
    'adadelta_rho': 'adadelta: decay',
    'adagrad_initial_accumulator_value': "adagrad: accumulators' start value",
    'ftrl_learning_rate_power': 'ftrl: learning rate power',
    'ftrl_initial_accumulator_value': "ftrl: accumulators' start value",
    'ftrl_l1': 'ftrl: L1 regularization strength',
    'ftrl_l2': 'ftrl: L2 regularization strength',
    'weight_decay': 'L2 weight decay of the model',
    'label_smoothing': 'of the one-hot labels',
    'moving_average_decay': 'keep ExponentialMovingAverage shadows of the '
                            'weights with this decay (default: none)',
    'batch_norm_decay': 'moving-average decay of batch norm',
    'freeze_batch_norm': 'batch norm in inference mode while training',
    'save_checkpoint_steps': 'save every N steps (default: every '
                             '--save-checkpoint-secs)',
    'save_checkpoint_secs': 'save every N seconds',
    'save_summaries_steps': 'TensorBoard summaries every N steps',
    'save_summaries_secs': 'TensorBoard summaries every N seconds instead '
                           '(default: by steps)',
    'num_readers': 'TFRecord files read in parallel',
    'num_preprocessing_threads': 'images decoded and preprocessed in '
                                 'parallel',
    'use_grayscale': 'make the images gray first (3 equal channels)',
    'replicas_to_aggregate': '--sync-replicas: gradients averaged per step '
                             '(default: one per worker)',
    'log_every_n_steps': 'a log line every N steps',
    'keep_checkpoint_max': 'checkpoints kept in train_dir',
    'device': "device of the network, e.g. /GPU:0 (default: TensorFlow's "
              "choice)",
    'num_clones': 'model replicas (towers) on this machine; each takes '
                  'batch-size / N images',
    'clone_on_cpu': 'put the clones on the CPU (else clone i on GPU i)',
    'job_name': 'ps or worker, in a cluster (default: one process, or '
                'TF_CONFIG)',
    'task_index': "this task's index in its job; worker 0 is the chief",
    'ps_hosts': 'comma-separated host:port of the ps tasks',
    'worker_hosts': 'comma-separated host:port of the workers',
    'sync_replicas': 'synchronous updates across workers '
                     '(SyncReplicasOptimizer)',
    'ps_idle_timeout': 'a ps task stops this many seconds after the first '
                       'worker is done',
    'step_timeout': 'in a cluster: a step waiting longer (seconds) stops '
                    'with an error',
    'precision': 'float32, bfloat16 (mixed precision: bf16 compute, float32 '
                 'variables, loss and checkpoints), float16 (GPU) or auto',
    'precision_strict': 'fail instead of falling back to float32 when the '
                        'precision is not supported here',
}
_NO_DEFAULT_TEXT = ('trainable_scopes',)
_REQUIRED = ('train_dir', 'dataset')

# research/slim's train_image_classifier.py names that differ from the field
# names (every field is also accepted with underscores, e.g. --batch_size).
SLIM_NAMES = {
    'dataset': '--dataset_dir',
    'checkpoint': '--checkpoint_path',
    'max_steps': '--max_number_of_steps',
    'model': '--model_name',
    'split': '--dataset_split_name',
    'image_size': '--train_image_size',
    'preprocessing': '--preprocessing_name',
    'learning_rate_schedule': '--learning_rate_decay_type',
    'save_checkpoint_secs': '--save_interval_secs',
    'task_index': '--task',
}
# Values that must be >= 1 (or >= 0), checked before TensorFlow loads.
_POSITIVE = ('batch_size', 'max_steps', 'num_clones', 'save_checkpoint_steps',
             'save_checkpoint_secs', 'save_summaries_steps',
             'save_summaries_secs', 'log_every_n_steps', 'keep_checkpoint_max',
             'num_readers', 'num_preprocessing_threads', 'image_size',
             'replicas_to_aggregate')
_NON_NEGATIVE = ('warmup_steps', 'task_index', 'labels_offset')
_POSITIVE_FLOAT = ('learning_rate', 'step_timeout', 'ps_idle_timeout')
_CHOICES = {'optimizer': 'OPTIMIZERS',
            'learning_rate_schedule': 'LEARNING_RATE_SCHEDULES',
            'precision': 'PRECISIONS'}


def _scopes(value):
  return [s.strip() for s in value.split(',') if s.strip()]


def _json(value):
  """A JSON object (keyword arguments), checked by argparse."""
  import json  # pylint: disable=g-import-not-at-top
  try:
    parsed = json.loads(value)
  except ValueError:
    parsed = None
  if not isinstance(parsed, dict):
    raise argparse.ArgumentTypeError('expected a JSON object such as '
                                     '{"resize_side_min": 32}, got %r' % value)
  return parsed


def _argument_type(field):
  """The argparse type of a TrainConfig field, from its default and hint."""
  if field.name in _POSITIVE:
    return model_flags.positive_int
  if field.name in _NON_NEGATIVE:
    return model_flags.non_negative_int
  if field.name in _POSITIVE_FLOAT:
    return model_flags.positive_float
  if field.name == 'validation_fraction':
    return model_flags.fraction
  if field.name == 'dataset':
    return model_flags.existing_dataset
  if field.name == 'model':
    return model_flags.model_name
  hint = str(field.type)
  if 'Sequence' in hint:
    return _scopes
  if 'dict' in hint:
    return _json
  for name, kind in (('int', int), ('float', float), ('str', str)):
    if name in hint:
      return kind
  return type(field.default)


def _default_text(field):
  if field.name in _REQUIRED or field.name in _NO_DEFAULT_TEXT:
    return ''
  if field.default is None:
    return ''
  if field.default == ():
    return ' (default: none)'
  return ' (default: %(default)s)'


def add_arguments(parser):
  from slim_resnet.train import config as train_config  # pylint: disable=g-import-not-at-top
  for field in dataclasses.fields(train_config.TrainConfig):
    names = ['--' + field.name.replace('_', '-')]
    if '_' in field.name:
      names.append('--' + field.name)
    if field.name in SLIM_NAMES:
      names.append(SLIM_NAMES[field.name])
    help_text = _HELP.get(field.name, '')
    if field.name == 'progress':
      parser.add_argument('--no-progress', dest='progress',
                          action='store_false', help='no progress bar')
    elif field.name == 'preprocessing_options':
      # KEY=VALUE, repeatable, as every other command takes it; the JSON
      # form this command had is kept as a warned alias.
      parser.add_argument(
          '--preprocessing-option', dest='preprocessing_option',
          action='append', type=model_flags.key_value, default=[],
          metavar='KEY=VALUE', help='a keyword of the preprocessing function, '
          'e.g. resize_side_min=32; repeatable (default: the checkpoint\'s)')
      parser.add_argument('--preprocessing-options', '--preprocessing_options',
                          dest='preprocessing_options_json', type=_json,
                          default=None, help=argparse.SUPPRESS)
    elif field.type in (bool, 'bool'):
      model_flags.add_bool(parser, *names, dest=field.name, help=help_text)
    else:
      parser.add_argument(
          *names, dest=field.name, type=_argument_type(field),
          required=field.name in _REQUIRED,
          choices=globals()[_CHOICES[field.name]] if field.name in _CHOICES
          else None,
          default=None if field.name in _REQUIRED else field.default,
          help=help_text + _default_text(field))
  # train_image_classifier.py's flags that have no meaning here: accepted
  # with their defaults only (see the README's table).
  parser.add_argument('--dataset_name', help=argparse.SUPPRESS)
  parser.add_argument('--master', default='', help=argparse.SUPPRESS)
  parser.add_argument('--worker_replicas', type=int, default=None,
                      help=argparse.SUPPRESS)
  parser.add_argument('--num_ps_tasks', type=int, default=None,
                      help=argparse.SUPPRESS)
  parser.add_argument('--quantize_delay', type=int, default=-1,
                      help=argparse.SUPPRESS)


def check_unused_slim_flags(args):
  """research/slim flags accepted but only with a value that means nothing
  here; anything else is an error naming what to use."""
  if args.master:
    raise errors.UsageError('--master=%s: give the cluster as --job-name, '
                     '--task-index, --ps-hosts and --worker-hosts (or '
                     'TF_CONFIG)' % args.master)
  if args.quantize_delay is not None and args.quantize_delay >= 0:
    raise errors.UsageError('--quantize_delay: quantization-aware training is not '
                     'supported (tf.contrib.quantize is gone)')
  for flag, value, hosts in (
      ('--worker_replicas', args.worker_replicas, args.worker_hosts),
      ('--num_ps_tasks', args.num_ps_tasks, args.ps_hosts)):
    if value is not None and value != len(hosts) and not (
        flag == '--worker_replicas' and value == 1 and not hosts):
      raise errors.UsageError('%s=%d but %d hosts given: list them with '
                       '--worker-hosts / --ps-hosts (or TF_CONFIG)' % (
                           flag, value, len(hosts)))


def _preprocessing_options(args):
  """--preprocessing-option KEY=VALUE ..., and the old JSON form (warned)."""
  options = {}
  if getattr(args, 'preprocessing_options_json', None) is not None:
    notices.say('--preprocessing-options JSON is deprecated; use '
                '--preprocessing-option KEY=VALUE (repeatable), as the other '
                'commands do')
    options.update(args.preprocessing_options_json)
  options.update(dict(getattr(args, 'preprocessing_option', None) or []))
  return options or None


def config_from_args(args):
  from slim_resnet.train import config as train_config  # pylint: disable=g-import-not-at-top
  values = {}
  for field in dataclasses.fields(train_config.TrainConfig):
    if field.name == 'preprocessing_options':
      options = _preprocessing_options(args)
      values[field.name] = field.default if options is None else options
    else:
      values[field.name] = getattr(args, field.name)
  return train_config.TrainConfig(**values)


def run(args):
  check_unused_slim_flags(args)
  from slim_resnet.train import loop  # pylint: disable=g-import-not-at-top
  result = loop.train(config_from_args(args))
  if result.role == 'ps':
    print('ps task %d done' % args.task_index)
    return 0
  if not result.trained:
    print('nothing to do: %s is already at step %d (--max-steps %d); raise '
          '--max-steps to train further' % (
              result.checkpoint_path, result.global_step, args.max_steps))
    return 0
  print('%s at step %d (%s step %d), loss %.4f, %.1f images/s; checkpoint %s'
        % ('resumed and trained' if result.resumed else 'trained',
           result.global_step, 'from' if result.resumed else 'started at',
           result.start_step, result.loss, result.images_per_second,
           result.checkpoint_path))
  for path, reason in sorted(result.skipped.items()):
    print('skipped %s: %s' % (path, reason), file=sys.stderr)
  return 1 if result.skipped else 0  # README: 1, done with skipped inputs
