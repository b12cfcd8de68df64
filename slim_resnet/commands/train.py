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
TF_CONFIG) runs the same command as one task of a cluster. Every option:
--help.
"""
import dataclasses

HELP = 'fine-tune a ResNet from a checkpoint (research/slim train_image_classifier)'

# Help for the TrainConfig fields; the rest are named as in research/slim.
_HELP = {
    'train_dir': 'checkpoints and summaries go here; an existing one resumes',
    'dataset': 'image folder DATA/<class>/<images> or TFRecords (folder or glob)',
    'checkpoint': 'manifest name or checkpoint path to fine-tune from',
    'model': 'model name (default: the checkpoint\'s)',
    'checkpoint_exclude_scopes': 'comma-separated scopes not restored, e.g. '
                                 'resnet_v1_50/logits',
    'trainable_scopes': 'comma-separated scopes to train (default: all)',
    'freeze_batch_norm': 'batch norm in inference mode while training',
    'learning_rate_schedule': 'fixed, exponential, cosine or polynomial',
    'optimizer': 'momentum, rmsprop, adam or sgd',
    'save_checkpoint_steps': 'save every N steps (else every '
                             '--save-checkpoint-secs)',
    'split': 'train, validation or all',
    'preprocessing_options': 'JSON keyword arguments of the preprocessing',
    'num_clones': 'model replicas (towers) on this machine; each takes '
                  'batch-size / N images',
    'clone_on_cpu': 'put the clones on the CPU (else clone i on GPU i)',
    'job_name': 'ps or worker, in a cluster (or set TF_CONFIG)',
    'task_index': 'this task\'s index in its job; worker 0 is the chief',
    'ps_hosts': 'comma-separated host:port of the ps tasks',
    'worker_hosts': 'comma-separated host:port of the workers',
    'sync_replicas': 'synchronous updates across workers '
                     '(SyncReplicasOptimizer)',
    'ps_idle_timeout': 'a ps task stops this many seconds after the first '
                       'worker is done',
    'step_timeout': 'in a cluster: a step waiting longer stops with an error',
    'precision': 'float32, bfloat16 (mixed precision: bf16 compute, float32 '
                 'variables, loss and checkpoints), float16 (GPU) or auto',
    'precision_strict': 'fail instead of falling back to float32 when the '
                        'precision is not supported here',
}
_REQUIRED = ('train_dir', 'dataset')


def _scopes(value):
  return [s.strip() for s in value.split(',') if s.strip()]


def _json(value):
  import json  # pylint: disable=g-import-not-at-top
  return json.loads(value)


def _argument_type(field):
  """The argparse type of a TrainConfig field, from its default and hint."""
  hint = str(field.type)
  if 'Sequence' in hint:
    return _scopes
  if 'dict' in hint:
    return _json
  for name, kind in (('int', int), ('float', float), ('str', str)):
    if name in hint:
      return kind
  return type(field.default)


def add_arguments(parser):
  from slim_resnet import training  # pylint: disable=g-import-not-at-top
  for field in dataclasses.fields(training.TrainConfig):
    flag = '--' + field.name.replace('_', '-')
    help_text = _HELP.get(field.name, '')
    if field.name == 'progress':
      parser.add_argument('--no-progress', dest='progress',
                          action='store_false', help='no progress bar')
    elif field.type in (bool, 'bool'):
      parser.add_argument(flag, action='store_true', help=help_text)
    else:
      default = field.default
      parser.add_argument(
          flag, type=_argument_type(field), required=field.name in _REQUIRED,
          default=None if field.name in _REQUIRED else default,
          help=(help_text + ' ' if help_text else '') +
          ('' if field.name in _REQUIRED else '(default: %(default)s)'))


def config_from_args(args):
  from slim_resnet import training  # pylint: disable=g-import-not-at-top
  return training.TrainConfig(**{
      field.name: getattr(args, field.name)
      for field in dataclasses.fields(training.TrainConfig)})


def run(args):
  from slim_resnet import training  # pylint: disable=g-import-not-at-top
  result = training.train(config_from_args(args))
  if result.role == 'ps':
    print('ps task %d done' % args.task_index)
    return 0
  print('%s at step %d (%s step %d), loss %.4f, %.1f images/s; checkpoint %s'
        % ('resumed and trained' if result.resumed else 'trained',
           result.global_step, 'from' if result.resumed else 'started at',
           result.start_step, result.loss, result.images_per_second,
           result.checkpoint_path))
  for path, reason in sorted(result.skipped.items()):
    print('skipped %s: %s' % (path, reason))
  return 0
