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
labels.txt, so `evaluate`, `export_model` and `Classifier` take the
directory alone.

Batch norm: by default it trains (batch statistics, moving averages updated
through UPDATE_OPS before each step). freeze_batch_norm=True builds the net in
inference mode (research/slim's is_training=False), the usual choice when
training the head only on few images. With trainable_scopes, only the moving
averages under those scopes are updated, so everything outside them stays
exactly as restored.
"""
import dataclasses
import time

from slim_resnet.checkpoints import model_spec as model_spec_lib
from slim_resnet.data import datasets
from slim_resnet.inference import precision as precision_lib
from slim_resnet.train import cluster as cluster_lib
from slim_resnet.train import deployment
from slim_resnet.train import graph as train_graph
from slim_resnet.train import inputs
from slim_resnet.train import progress as progress_lib
from slim_resnet.train import warm_start
from slim_resnet.train.config import TrainingError
import tensorflow as tf


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


def _read_step(session, ops):
  """The global step, without running hooks."""
  return int(session.run_step_fn(
      lambda step_context: step_context.session.run(ops.global_step)))


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
  cluster = cluster_lib.cluster_for(config)
  if cluster is not None and cluster.job_name == 'ps':
    server = cluster.start_server()
    cluster_lib.run_ps(cluster, server, config.ps_idle_timeout)
    return TrainResult(None, 0, 0, False, float('nan'), 0.0, {}, role='ps')
  source = datasets.open_dataset(config.dataset, config.split,
                                 config.validation_fraction, config.seed,
                                 config.labels_offset)
  spec = warm_start.model_spec_for(config, source.num_classes)
  is_chief = cluster is None or cluster.is_chief
  if is_chief:
    warm_start.check_train_dir(config.train_dir, spec)
  resumed = is_chief and warm_start.latest_checkpoint(config.train_dir) is not None
  if resumed:
    latest = warm_start.latest_checkpoint(config.train_dir)
    done_step = warm_start.finished_step(latest)
    if done_step >= config.max_steps:  # Nothing to do; write nothing.
      return TrainResult(latest, done_step, done_step, True, float('nan'),
                         0.0, {}, trained=False)
  # After the train_dir checks (they read no data), before anything is
  # written.
  datasets.require_examples(source)
  deploy = deployment.deployment_for(config, cluster)
  chosen = precision_lib.resolve(config.precision, config.precision_strict,
                                 device=config.device)
  print(chosen.describe(), flush=True)
  server = cluster.start_server() if cluster is not None else None
  with tf.Graph().as_default():
    tf.compat.v1.set_random_seed(config.seed)
    iterator = inputs.input_batches(config, spec, source, deploy)
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
        init_fn=None if resumed else warm_start.init_fn(config, spec),
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
        cluster_lib.wait_for_chief(server, cluster, config.step_timeout)
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
      with progress_lib.Progress(config, start_step) as progress:
        while not session.should_stop():
          if cluster is not None and not is_chief and _read_step(
              session, ops) >= config.max_steps:
            break  # The chief stopped; a sync step would wait forever.
          try:
            with datasets.input_errors(source):
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
      checkpoint_path=warm_start.latest_checkpoint(config.train_dir) if is_chief else None,
      start_step=start_step, global_step=int(step), resumed=resumed,
      loss=float(loss),
      images_per_second=float((step - start_step) * config.batch_size /
                              elapsed),
      skipped=dict(source.skipped), precision=chosen.name)
