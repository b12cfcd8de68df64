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

from slim_resnet import cluster as cluster_lib
from slim_resnet import deployment
from slim_resnet import nets_factory
from slim_resnet import precision as precision_lib
from slim_resnet import train_graph
from slim_resnet.train_config import TrainConfig  # noqa: F401  (its home was here)
from slim_resnet.checkpoints import errors
from slim_resnet.checkpoints import model_spec as model_spec_lib
from slim_resnet.checkpoints import restorer
from slim_resnet.data import datasets
from slim_resnet.preprocessing import preprocessing_factory
import tensorflow as tf


# Unknown trainable scopes and batches that do not split are training errors.
TrainingError = train_graph.TrainingError


@dataclasses.dataclass
class TrainResult(object):
  """What a train() call did.

  Attributes:
    checkpoint_path: The latest checkpoint in train_dir (None on a ps task
      or a non-chief worker).
    start_step / global_step: The global step at start and at the end.
    resumed: Whether train_dir already had a checkpoint.
    loss: The last step's total loss.
    images_per_second: Over this call's steps.
    skipped: {path: reason} of images that could not be decoded.
    trained: False if train_dir's checkpoint was already at max_steps (then
      nothing was run or written).
  """
  checkpoint_path: str
  start_step: int
  global_step: int
  resumed: bool
  loss: float
  images_per_second: float
  skipped: dict
  role: str = 'worker'
  trained: bool = True
  precision: str = 'float32'


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
  return model_spec_lib.spec_for_model(**overrides)


def grayscale(preprocess_fn):
  """preprocess_fn on the image made gray (3 equal channels, so a 3-channel
  checkpoint still fits): research/slim's --use_grayscale."""
  def fn(image):
    return preprocess_fn(
        tf.image.grayscale_to_rgb(tf.image.rgb_to_grayscale(image)))
  return fn


def training_preprocessing(spec, use_grayscale=False):
  """preprocess_fn(image) of the training graph (random crop and flip)."""
  options = spec.preprocessing_options
  if (preprocessing_factory.preprocessing_name(spec.preprocessing) == 'vgg' and
      'resize_side_min' in options and 'resize_side_max' not in options):
    fn = spec.preprocessing_fn(
        is_training=True, resize_side_max=options['resize_side_min'])
  else:
    fn = spec.preprocessing_fn(is_training=True)
  return grayscale(fn) if use_grayscale else fn


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
        ignore_missing_vars=config.ignore_missing_vars,
        checkpoint_background=spec.checkpoint_background)
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


def cluster_for(config):
  """This process's ClusterConfig: from the config's flags, else $TF_CONFIG,
  else None (one process)."""
  if config.job_name:
    return cluster_lib.ClusterConfig.from_flags(
        config.job_name, config.task_index, config.ps_hosts,
        config.worker_hosts)
  return cluster_lib.ClusterConfig.from_tf_config()


def deployment_for(config, cluster):
  if cluster is None:
    return deployment.DeploymentConfig(config.num_clones, config.clone_on_cpu)
  return deployment.DeploymentConfig(
      config.num_clones, config.clone_on_cpu, replica_id=cluster.task_index,
      num_replicas=cluster.num_workers, num_ps_tasks=cluster.num_ps)


def _input_batches(config, spec, source, deploy):
  """The iterator of training batches, on this worker's CPU."""
  with tf.compat.v1.device(deploy.inputs_device()):
    dataset = source.batches(
        training_preprocessing(spec, config.use_grayscale), config.batch_size,
        is_training=True, seed=config.seed + deploy.replica_id,
        num_readers=config.num_readers,
        num_threads=config.num_preprocessing_threads)
    return tf.compat.v1.data.make_initializable_iterator(dataset)


def _read_step(session, ops):
  """The global step, without running hooks."""
  return int(session.run_step_fn(
      lambda step_context: step_context.session.run(ops.global_step)))


def _wait_for_chief(server, cluster, timeout):
  """Waits until the chief has initialized the variables (polls every 0.5 s;
  MonitoredTrainingSession itself would only look every 30 s)."""
  not_ready = tf.compat.v1.report_uninitialized_variables(
      tf.compat.v1.global_variables())
  deadline = time.time() + timeout
  with tf.compat.v1.Session(server.target,
                            config=cluster.session_config()) as session:
    while session.run(not_ready).size:
      if time.time() > deadline:
        raise TrainingError('the chief (worker 0, %s) did not initialize the '
                            'model within %s s' % (cluster.worker_hosts[0],
                                                   timeout))
      time.sleep(0.5)


def _summaries(ops):
  with tf.name_scope('train'):  # Tags 'train/total_loss', ...
    for name in ('total_loss', 'cross_entropy', 'accuracy', 'learning_rate'):
      tf.compat.v1.summary.scalar(name, getattr(ops, name))


def train(config):
  """Trains (or resumes) per config; see the module docstring.

  In a cluster (config.job_name or $TF_CONFIG), a ps task serves variables
  until the workers are done; workers train together (worker 0 is the chief).

  Returns:
    A TrainResult.

  Raises:
    TrainingError: For an impossible setup (unknown scopes, a train_dir of
      another model, nothing to fine-tune from, a batch that does not split
      into the clones, a step that timed out in a cluster).
    cluster.ClusterError: For a bad cluster description.
    datasets.DatasetError: If the dataset cannot be read, or holds labels
      that are not its classes.
    checkpoints.CheckpointError: If the checkpoint cannot be found or does
      not fit (a report names the variables and the fix).
  """
  cluster = cluster_for(config)
  if cluster is not None and cluster.job_name == 'ps':
    server = cluster.start_server()
    cluster_lib.run_ps(cluster, server, config.ps_idle_timeout)
    return TrainResult(None, 0, 0, False, float('nan'), 0.0, {}, role='ps')
  source = datasets.open_dataset(config.dataset, config.split,
                                 config.validation_fraction, config.seed,
                                 config.labels_offset)
  spec = model_spec_for(config, source.num_classes)
  is_chief = cluster is None or cluster.is_chief
  if is_chief:
    _check_resume(config.train_dir, spec)
  resumed = is_chief and _latest(config.train_dir) is not None
  if resumed:
    latest = _latest(config.train_dir)
    done_step = int(tf.train.load_checkpoint(latest).get_tensor(
        tf.compat.v1.GraphKeys.GLOBAL_STEP))
    if done_step >= config.max_steps:  # Nothing to do; write nothing.
      return TrainResult(latest, done_step, done_step, True, float('nan'),
                         0.0, {}, trained=False)
  # After the train_dir checks (they read no data), before anything is
  # written.
  datasets.require_examples(source)
  deploy = deployment_for(config, cluster)
  chosen = precision_lib.resolve(config.precision, config.precision_strict,
                                 device=config.device)
  print(chosen.describe(), flush=True)
  server = cluster.start_server() if cluster is not None else None
  with tf.Graph().as_default():
    tf.compat.v1.set_random_seed(config.seed)
    iterator = _input_batches(config, spec, source, deploy)
    images, labels = iterator.get_next()
    hooks = [tf.compat.v1.train.StopAtStepHook(last_step=config.max_steps)]
    wrapper = None
    if cluster is not None and config.sync_replicas:
      def wrapper(optimizer):
        sync = tf.compat.v1.train.SyncReplicasOptimizer(
            optimizer,
            replicas_to_aggregate=(config.replicas_to_aggregate or
                                   cluster.num_workers),
            total_num_replicas=cluster.num_workers)
        hooks.append(sync.make_session_run_hook(is_chief))
        return sync
    # Only the exponential schedule needs the epoch size (counting records
    # of a large TFRecord set takes a while).
    num_examples = (source.num_examples
                    if config.learning_rate_schedule == 'exponential' else 0)
    ops = train_graph.build_train_ops(config, spec, images, labels, deploy,
                                      num_examples, wrapper)
    _summaries(ops)
    scaffold = tf.compat.v1.train.Scaffold(
        init_fn=None if resumed else _init_fn(config, spec),
        local_init_op=tf.group(tf.compat.v1.local_variables_initializer(),
                               iterator.initializer),
        saver=tf.compat.v1.train.Saver(max_to_keep=config.keep_checkpoint_max,
                                       sharded=cluster is not None))
    if is_chief:
      # The trained head has a background class only if the dataset's
      # class 0 is one; the checkpoint's label_offset says nothing of it.
      names = source.class_names
      model_spec_lib.write_model_spec(
          dataclasses.replace(spec, label_offset=int(
              bool(names) and names[0] == 'background')),
          config.train_dir, names)
    save_steps = config.save_checkpoint_steps
    run_options = None
    if cluster is not None:
      run_options = tf.compat.v1.RunOptions(
          timeout_in_ms=int(config.step_timeout * 1000))
      if not is_chief:
        _wait_for_chief(server, cluster, config.step_timeout)
    with tf.compat.v1.train.MonitoredTrainingSession(
        master=server.target if server else '', is_chief=is_chief,
        checkpoint_dir=config.train_dir if is_chief else None,
        scaffold=scaffold, hooks=hooks,
        save_checkpoint_steps=save_steps,
        save_checkpoint_secs=None if save_steps else config.save_checkpoint_secs,
        save_summaries_steps=(None if config.save_summaries_secs else
                              config.save_summaries_steps),
        save_summaries_secs=config.save_summaries_secs,
        log_step_count_steps=config.save_summaries_steps,
        stop_grace_period_secs=2,
        config=precision_lib.session_config(chosen, (
            cluster.session_config() if cluster else
            tf.compat.v1.ConfigProto(allow_soft_placement=True)))
    ) as session:
      start_step = step = _read_step(session, ops)
      loss, started = float('nan'), time.time()
      with _Progress(config, start_step) as progress:
        while not session.should_stop():
          if cluster is not None and not is_chief and _read_step(
              session, ops) >= config.max_steps:
            break  # The chief stopped; a sync step would wait forever.
          try:
            with datasets.label_range_errors(source):
              step, loss, accuracy = session.run(
                  [ops.step, ops.total_loss, ops.accuracy],
                  options=run_options)
          except tf.errors.DeadlineExceededError:
            if _read_step(session, ops) >= config.max_steps:
              break  # The last sync step, left waiting by the chief's stop.
            raise TrainingError(
                'a step took longer than step_timeout=%ss; in a cluster this '
                'means a worker or ps task is down (sync_replicas waits for '
                'all %d workers); the last checkpoint in %s is intact' % (
                    config.step_timeout, cluster.num_workers,
                    config.train_dir)) from None
          progress.update(int(step), loss, accuracy,
                          (step - start_step) * config.batch_size /
                          max(time.time() - started, 1e-9))
    if cluster is not None:
      cluster_lib.signal_done(cluster, server)
  elapsed = max(time.time() - started, 1e-9)
  return TrainResult(
      checkpoint_path=_latest(config.train_dir) if is_chief else None,
      start_step=start_step, global_step=int(step), resumed=resumed,
      loss=float(loss),
      images_per_second=float((step - start_step) * config.batch_size /
                              elapsed),
      skipped=dict(source.skipped), precision=chosen.name)


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
