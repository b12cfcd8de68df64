"""Fine-tune a ResNet from a checkpoint: research/slim's train_image_classifier,
as a library call.

    result = train(TrainConfig(
        train_dir='runs/flowers', dataset='flowers/',   # or TFRecord shards
        checkpoint='resnet_v1_50',                      # manifest name or path
        checkpoint_exclude_scopes=['resnet_v1_50/logits'],
        trainable_scopes=['resnet_v1_50/logits'],
        max_steps=1000))

The checkpoint decides the model, image size and preprocessing (training
preprocessing: random crop and flip); the dataset decides num_classes.
Training runs in a MonitoredTrainingSession: checkpoints every N steps or
seconds into train_dir (and at the end), TensorBoard summaries ('train/'
total_loss, cross_entropy, accuracy of the batch, learning_rate; and
global_step/sec), and a second call with the same train_dir resumes from its
latest checkpoint (after a crash or a kill, at most one save interval is
lost). train_dir also gets model_spec.json and
labels.txt, so `evaluate`, `export` and `inference.Classifier` take the
directory alone.

Batch norm: by default it trains (batch statistics, moving averages updated
through UPDATE_OPS before each step). freeze_batch_norm=True builds the net in
inference mode (research/slim's is_training=False), the usual choice when
training the head only on few images. With trainable_scopes, only the moving
averages under those scopes are updated, so everything outside them stays
exactly as restored.
"""
import dataclasses
import os
import time
from typing import Optional, Sequence

import tf_slim as slim

from slim_resnet import nets_factory
from slim_resnet import optimization
from slim_resnet.checkpoints import errors
from slim_resnet.checkpoints import model_spec as model_spec_lib
from slim_resnet.checkpoints import restorer
from slim_resnet.data import datasets
from slim_resnet.preprocessing import preprocessing_factory
import tensorflow as tf


class TrainingError(ValueError):
  """A training setup that cannot work; says what was expected and found."""


@dataclasses.dataclass
class TrainConfig(object):
  """What to train, from where, and how (research/slim's flag names).

  Attributes:
    train_dir: Checkpoints, summaries, model_spec.json and labels.txt go here;
      an existing one is resumed.
    dataset: An image folder (root/<class>/<images>) or TFRecords (a folder
      of research/slim shards, or a glob); see data.datasets.open_dataset.
    checkpoint: Fine-tune from this manifest name or checkpoint path; None
      trains from scratch (then `model` is required).
    model: A nets_factory name; by default the checkpoint's.
    image_size: Input size; by default the checkpoint's (or the model's).
    preprocessing: 'vgg' or 'inception'; by default the checkpoint's.
    preprocessing_options: Keyword arguments of the preprocessing function;
      by default the checkpoint's (for vgg, a fixed resize_side_min also
      becomes resize_side_max in training: random crop and flip, no
      random scale).
    checkpoint_exclude_scopes: Scopes not restored, e.g. the old logits.
    trainable_scopes: Scopes trained; all trainable variables if empty.
    ignore_missing_vars: Leave variables the checkpoint lacks initialized.
    labels_offset: Subtracted from every stored label.
    split, validation_fraction, seed: Which images of `dataset` train
      (folders are split per class; seed also seeds shuffling and init).
    batch_size, max_steps: Images per step; the last global step.
    optimizer: 'momentum', 'rmsprop', 'adam' or 'sgd'.
    learning_rate, learning_rate_schedule: The rate and its schedule
      ('fixed', 'exponential', 'cosine', 'polynomial').
    learning_rate_decay_factor, num_epochs_per_decay: Exponential decay.
    end_learning_rate: Polynomial decay's final rate.
    warmup_steps: Linear warm-up steps before the schedule.
    momentum, rmsprop_decay, rmsprop_momentum, adam_beta1, adam_beta2,
      opt_epsilon: Optimizer parameters (research/slim's defaults).
    weight_decay: L2 through resnet_arg_scope.
    label_smoothing: Of the one-hot labels.
    batch_norm_decay: Moving-average decay of batch norm.
    freeze_batch_norm: Batch norm in inference mode while training.
    save_checkpoint_steps / save_checkpoint_secs: Save interval (steps win
      when both are set).
    save_summaries_steps: TensorBoard summary interval.
    log_every_n_steps: A log line every N steps.
    keep_checkpoint_max: Checkpoints kept in train_dir.
    progress: Show a tqdm progress bar (loss, images/s).
    device: Device of the network, e.g. '/GPU:0'.
  """
  train_dir: str
  dataset: str
  checkpoint: Optional[str] = None
  model: Optional[str] = None
  image_size: Optional[int] = None
  preprocessing: Optional[str] = None
  preprocessing_options: Optional[dict] = None
  checkpoint_exclude_scopes: Sequence[str] = ()
  trainable_scopes: Sequence[str] = ()
  ignore_missing_vars: bool = False
  labels_offset: int = 0
  split: str = 'train'
  validation_fraction: float = 0.2
  seed: int = 0
  batch_size: int = 32
  max_steps: int = 1000
  optimizer: str = 'momentum'
  learning_rate: float = 0.01
  learning_rate_schedule: str = 'exponential'
  learning_rate_decay_factor: float = 0.94
  num_epochs_per_decay: float = 2.0
  end_learning_rate: float = 0.0001
  warmup_steps: int = 0
  momentum: float = 0.9
  rmsprop_decay: float = 0.9
  rmsprop_momentum: float = 0.9
  adam_beta1: float = 0.9
  adam_beta2: float = 0.999
  opt_epsilon: float = 1.0
  weight_decay: float = 0.00004
  label_smoothing: float = 0.0
  batch_norm_decay: float = 0.997
  freeze_batch_norm: bool = False
  save_checkpoint_steps: Optional[int] = None
  save_checkpoint_secs: Optional[int] = 600
  save_summaries_steps: int = 100
  log_every_n_steps: int = 10
  keep_checkpoint_max: int = 5
  progress: bool = True
  device: Optional[str] = None


@dataclasses.dataclass
class TrainResult(object):
  """What a train() call did.

  Attributes:
    checkpoint_path: The latest checkpoint in train_dir.
    start_step / global_step: The global step at start and at the end.
    resumed: Whether train_dir already had a checkpoint.
    loss: The last step's total loss.
    images_per_second: Over this call's steps.
    skipped: {path: reason} of images that could not be decoded.
  """
  checkpoint_path: str
  start_step: int
  global_step: int
  resumed: bool
  loss: float
  images_per_second: float
  skipped: dict


def model_spec_for(config, num_classes):
  """The ModelSpec trained: the checkpoint's, with num_classes and overrides.

  Raises:
    TrainingError: If neither checkpoint nor model is given.
  """
  overrides = {'num_classes': num_classes}
  for field in ('model', 'image_size', 'preprocessing',
                'preprocessing_options'):
    if getattr(config, field) is not None:
      overrides[field] = getattr(config, field)
  if config.checkpoint is not None:
    return model_spec_lib.resolve_model(config.checkpoint, **overrides)
  if not config.model:
    raise TrainingError('give a checkpoint to fine-tune from, or a model to '
                        'train from scratch (one of: %s)' % ', '.join(
                            nets_factory.list_networks()))
  network = nets_factory.get_network(config.model)
  fields = dict(checkpoint_path=None, model=config.model,
                image_size=network.default_image_size,
                preprocessing=preprocessing_factory.preprocessing_name(
                    config.model))
  fields.update(overrides)
  return model_spec_lib.ModelSpec(**fields)


def training_preprocessing(spec):
  """preprocess_fn(image) of the training graph (random crop and flip)."""
  options = dict(spec.preprocessing_options)
  if (preprocessing_factory.preprocessing_name(spec.preprocessing) == 'vgg' and
      'resize_side_min' in options and 'resize_side_max' not in options):
    options['resize_side_max'] = options['resize_side_min']
  fn = preprocessing_factory.get_preprocessing(spec.preprocessing,
                                               is_training=True)
  return lambda image: fn(image, spec.image_size, spec.image_size, **options)


def _select(variables, scopes, what):
  """The variables under scopes; an unknown scope is an error."""
  if not scopes:
    return list(variables)
  unknown = [s for s in scopes
             if not any(restorer.in_scopes(v.op.name, [s]) for v in variables)]
  if unknown:
    tops = sorted({'/'.join(v.op.name.split('/')[:2]) for v in variables})
    raise TrainingError('%s %s match no variable; the model has: %s' % (
        what, ', '.join(unknown), ', '.join(tops)))
  return [v for v in variables if restorer.in_scopes(v.op.name, scopes)]


def build_model(config, spec, images, is_training):
  """logits, end_points of spec's network under resnet_arg_scope(config)."""
  network = nets_factory.get_network(spec.model)
  arg_scope = nets_factory.arg_scopes_map[spec.model](
      weight_decay=config.weight_decay,
      batch_norm_decay=config.batch_norm_decay)
  with slim.arg_scope(arg_scope):
    return network(images, num_classes=spec.num_classes,
                   is_training=is_training, **spec.model_options)


class _TrainGraph(object):
  """The training graph's tensors (built in the default graph)."""

  def __init__(self, config, spec, source):
    self.global_step = tf.compat.v1.train.get_or_create_global_step()
    with tf.device('/cpu:0'):
      dataset = source.batches(training_preprocessing(spec), config.batch_size,
                               is_training=True, seed=config.seed)
      self.iterator = tf.compat.v1.data.make_initializable_iterator(dataset)
      images, labels = self.iterator.get_next()
    with tf.compat.v1.device(config.device):
      logits, _ = build_model(config, spec, images,
                              is_training=not config.freeze_batch_norm)
      logits = tf.reshape(logits, [-1, spec.num_classes])
      self.cross_entropy = tf.compat.v1.losses.softmax_cross_entropy(
          tf.one_hot(labels, spec.num_classes), logits,
          label_smoothing=config.label_smoothing)
      self.total_loss = tf.compat.v1.losses.get_total_loss()
      self.accuracy = tf.reduce_mean(tf.cast(
          tf.equal(tf.argmax(logits, 1), labels), tf.float32))
      self.learning_rate = optimization.configure_learning_rate(
          self.global_step, config.learning_rate_schedule,
          config.learning_rate, self._decay_steps(config, source),
          config.learning_rate_decay_factor, config.end_learning_rate,
          config.warmup_steps)
      optimizer = optimization.configure_optimizer(
          config.optimizer, self.learning_rate, config.momentum,
          config.rmsprop_decay, config.rmsprop_momentum, config.adam_beta1,
          config.adam_beta2, config.opt_epsilon)
      self.variables_to_train = _select(
          tf.compat.v1.trainable_variables(), config.trainable_scopes,
          'trainable scopes')
      update_ops = tf.compat.v1.get_collection(
          tf.compat.v1.GraphKeys.UPDATE_OPS)
      if config.trainable_scopes:
        update_ops = [op for op in update_ops
                      if restorer.in_scopes(op.name, config.trainable_scopes)]
      with tf.control_dependencies(update_ops):
        train_op = optimizer.minimize(self.total_loss,
                                      global_step=self.global_step,
                                      var_list=self.variables_to_train)
      with tf.control_dependencies([train_op]):
        self.step = tf.identity(self.global_step.read_value())
    with tf.name_scope('train'):  # Tags 'train/total_loss', ...
      for name, tensor in (('total_loss', self.total_loss),
                           ('cross_entropy', self.cross_entropy),
                           ('accuracy', self.accuracy),
                           ('learning_rate', self.learning_rate)):
        tf.compat.v1.summary.scalar(name, tensor)

  @staticmethod
  def _decay_steps(config, source):
    if config.learning_rate_schedule in ('cosine', 'polynomial'):
      return max(config.max_steps - config.warmup_steps, 1)
    if config.learning_rate_schedule == 'exponential':
      return max(1, int(source.num_examples / config.batch_size *
                        config.num_epochs_per_decay))
    return 1


def _check_resume(train_dir, spec):
  """A train_dir trained before must hold the same model."""
  previous = model_spec_lib.read_model_spec(train_dir)
  for field in ('model', 'num_classes', 'image_size', 'model_options'):
    if field in previous and previous[field] != getattr(spec, field):
      raise TrainingError(
          '%s holds a %s=%r model, but this run builds %s=%r; use another '
          'train_dir, or the same model and dataset' % (
              train_dir, field, previous[field], field,
              getattr(spec, field)))


def _init_fn(config, spec):
  """Restores the fine-tuning checkpoint (only when train_dir has none)."""
  if spec.checkpoint_path is None:
    return None
  try:
    init = restorer.get_init_fn(
        spec.checkpoint_path,
        exclude_scopes=list(config.checkpoint_exclude_scopes),
        ignore_missing_vars=config.ignore_missing_vars)
  except errors.CheckpointMismatchError as e:
    if spec.num_classes is not None:
      e.args = ('%s\n(this run trains %d classes, from the dataset; to '
                'fine-tune a new head, exclude the old one, e.g. '
                '--checkpoint-exclude-scopes %s/logits)' % (
                    e.args[0], spec.num_classes, spec.model),) + e.args[1:]
    raise
  return lambda scaffold, session: init(session)


def _latest(train_dir):
  if not os.path.isdir(train_dir):
    return None
  return tf.train.latest_checkpoint(train_dir)


def _session_config():
  return tf.compat.v1.ConfigProto(allow_soft_placement=True)


def train(config):
  """Trains (or resumes) per config; see the module docstring.

  Returns:
    A TrainResult.

  Raises:
    TrainingError: For an impossible setup (unknown scopes, a train_dir of
      another model, nothing to fine-tune from).
    datasets.DatasetError: If the dataset cannot be read, or holds labels
      that are not its classes.
    checkpoints.CheckpointError: If the checkpoint cannot be found or does
      not fit (a report names the variables and the fix).
  """
  source = datasets.open_dataset(config.dataset, config.split,
                                 config.validation_fraction, config.seed,
                                 config.labels_offset)
  spec = model_spec_for(config, source.num_classes)
  _check_resume(config.train_dir, spec)
  resumed = _latest(config.train_dir) is not None
  with tf.Graph().as_default():
    tf.compat.v1.set_random_seed(config.seed)
    graph = _TrainGraph(config, spec, source)
    scaffold = tf.compat.v1.train.Scaffold(
        init_fn=None if resumed else _init_fn(config, spec),
        local_init_op=tf.group(tf.compat.v1.local_variables_initializer(),
                               graph.iterator.initializer),
        saver=tf.compat.v1.train.Saver(max_to_keep=config.keep_checkpoint_max))
    model_spec_lib.write_model_spec(spec, config.train_dir,
                                    source.class_names)
    save_steps = config.save_checkpoint_steps
    with tf.compat.v1.train.MonitoredTrainingSession(
        checkpoint_dir=config.train_dir, scaffold=scaffold,
        hooks=[tf.compat.v1.train.StopAtStepHook(last_step=config.max_steps)],
        save_checkpoint_steps=save_steps,
        save_checkpoint_secs=None if save_steps else config.save_checkpoint_secs,
        save_summaries_steps=config.save_summaries_steps,
        log_step_count_steps=config.save_summaries_steps,
        config=_session_config()) as session:
      start_step = step = int(session.run_step_fn(
          lambda step_context: step_context.session.run(graph.global_step)))
      loss, started = float('nan'), time.time()
      with _Progress(config, start_step) as progress:
        while not session.should_stop():
          try:
            step, loss, accuracy = session.run(
                [graph.step, graph.total_loss, graph.accuracy])
          except tf.errors.InvalidArgumentError as e:
            if datasets.LABEL_RANGE_MESSAGE in e.message:
              raise datasets.DatasetError(
                  '%s holds labels that are not classes of its labels.txt '
                  '(%d classes): %s' % (config.dataset, source.num_classes,
                                        e.message.splitlines()[0])) from None
            raise
          progress.update(int(step), loss, accuracy,
                          (step - start_step) * config.batch_size /
                          max(time.time() - started, 1e-9))
  elapsed = max(time.time() - started, 1e-9)
  return TrainResult(
      checkpoint_path=_latest(config.train_dir),
      start_step=start_step, global_step=int(step), resumed=resumed,
      loss=float(loss),
      images_per_second=(step - start_step) * config.batch_size / elapsed,
      skipped=dict(source.skipped))


class _Progress(object):
  """A tqdm bar (loss, accuracy, images/s) and a log line every N steps."""

  def __init__(self, config, start_step):
    self._every = max(1, config.log_every_n_steps)
    self._bar = None
    self._step = start_step
    if config.progress:
      import tqdm  # pylint: disable=g-import-not-at-top
      self._bar = tqdm.tqdm(total=config.max_steps, initial=start_step,
                            unit='step', dynamic_ncols=True)
    self._write('%s from step %d to %d' % (
        'resuming' if start_step else 'training', start_step,
        config.max_steps))

  def _write(self, line):
    if self._bar is not None:
      self._bar.write(line)
    else:
      print(line, flush=True)

  def update(self, step, loss, accuracy, images_per_second):
    if self._bar is not None:
      self._bar.update(step - self._step)
      self._bar.set_postfix(loss='%.4f' % loss, img_s='%.1f' %
                            images_per_second, refresh=False)
    if step // self._every > self._step // self._every:
      self._write('step %d loss %.4f accuracy %.3f images/s %.1f' % (
          step, loss, accuracy, images_per_second))
    self._step = step

  def __enter__(self):
    return self

  def __exit__(self, *exc_info):
    if self._bar is not None:
      self._bar.close()
