"""The training graph: N clones of the model sharing variables, their
gradients averaged, one optimizer step (research/slim's model_deploy
deploy() + train_image_classifier's loss and train op).

    ops = build_train_ops(config, spec, images, labels, deploy,
                          num_examples=1000)
    session.run(ops.step)          # one step; returns the new global step

With deploy.num_clones = N, each clone takes batch / N images (the batch must
split evenly) under the name scope 'clone_<i>' on deploy.clone_device(i);
variables are created once, by clone 0, on deploy.variables_device(), and keep
their single-model names. Each clone's gradient is of its cross entropy / N
(clone 0 also carries the regularization losses); the sum is the gradient of
the mean loss over the whole batch, as research/slim's _gather_clone_loss /
_sum_clones_gradients. Batch norm moving averages are updated from clone 0's
UPDATE_OPS only (model_deploy's choice). With one clone the graph has no
clone scope, as a plain single-model graph.

Note: with batch norm training, each clone normalizes with the statistics of
its own slice of the batch, so N clones equal one model on the whole batch
exactly only with frozen batch norm (tests check that case).
"""
import collections
import contextlib

import tf_slim as slim

from slim_resnet import nets_factory
from slim_resnet.checkpoints import restorer
from slim_resnet.train import optimizers as optimization
from slim_resnet.train.config import TrainingError
import tensorflow as tf

TrainOps = collections.namedtuple('TrainOps', [
    'global_step', 'total_loss', 'cross_entropy', 'accuracy',
    'learning_rate', 'grads_and_vars', 'variables_to_train', 'optimizer',
    'train_op', 'step'])


def build_model(config, spec, images, is_training, reuse=None):
  """logits, end_points of spec's network under resnet_arg_scope(config)."""
  network = nets_factory.get_network(spec.model)
  arg_scope = nets_factory.arg_scopes_map[spec.model](
      weight_decay=config.weight_decay,
      batch_norm_decay=config.batch_norm_decay)
  with slim.arg_scope(arg_scope):
    return network(images, num_classes=spec.num_classes,
                   is_training=is_training, reuse=reuse, **spec.model_options)


def select_variables(variables, scopes, what='trainable scopes'):
  """The variables under scopes (all if none); an unknown scope is an error."""
  if not scopes:
    return list(variables)
  unknown = [s for s in scopes
             if not any(restorer.in_scopes(v.op.name, [s]) for v in variables)]
  if unknown:
    tops = sorted({'/'.join(v.op.name.split('/')[:2]) for v in variables})
    raise TrainingError('%s %s match no variable; the model has: %s' % (
        what, ', '.join(unknown), ', '.join(tops)))
  return [v for v in variables if restorer.in_scopes(v.op.name, scopes)]


def decay_steps(config, num_examples):
  """Steps of the learning-rate decay: per num_epochs_per_decay epochs
  (exponential, research/slim's), or the whole run (cosine, polynomial)."""
  if config.learning_rate_schedule in ('cosine', 'polynomial'):
    return max(config.max_steps - config.warmup_steps, 1)
  if config.learning_rate_schedule == 'exponential':
    return max(1, int(num_examples / config.batch_size *
                      config.num_epochs_per_decay))
  return 1


def _name_scope(name):
  return tf.compat.v1.name_scope(name) if name else contextlib.nullcontext()


def _clone_update_ops(deploy, trainable_scopes):
  """UPDATE_OPS of clone 0, under the trainable scopes if any."""
  prefix = deploy.clone_scope(0)
  ops = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS,
                                    prefix or None)
  if not trainable_scopes:
    return ops
  strip = len(prefix) + 1 if prefix else 0
  return [op for op in ops
          if restorer.in_scopes(op.name[strip:], trainable_scopes)]


def build_train_ops(config, spec, images, labels, deploy, num_examples,
                    optimizer_wrapper=None):
  """Builds clones, losses, averaged gradients and the train op.

  Args:
    config: A TrainConfig (loss, optimizer and schedule fields).
    spec: The ModelSpec to build (num_classes set).
    images: float32 [batch, size, size, 3].
    labels: int64 [batch].
    deploy: A deployment.DeploymentConfig.
    num_examples: Images per epoch (for the exponential schedule).
    optimizer_wrapper: Optional fn(optimizer) -> optimizer, e.g. a
      SyncReplicasOptimizer.

  Returns:
    TrainOps; `step` runs one training step and returns the new global step.

  Raises:
    TrainingError: If the batch does not split into the clones, or a
      trainable scope matches nothing.
  """
  num_clones = deploy.num_clones
  batch = images.shape[0]
  if batch is not None and batch % num_clones:
    raise TrainingError('batch size %d does not split into %d clones; use '
                          'a multiple of %d' % (batch, num_clones, num_clones))
  several = num_clones > 1 or deploy.distributed
  variables_device = deploy.variables_device() if several else None
  with tf.compat.v1.device(variables_device):
    global_step = tf.compat.v1.train.get_or_create_global_step()
  clone_images = tf.split(images, num_clones) if num_clones > 1 else [images]
  clone_labels = tf.split(labels, num_clones) if num_clones > 1 else [labels]
  clone_logits, clone_losses = [], []
  with slim.arg_scope([slim.model_variable, slim.variable],
                      device=variables_device):
    for i in range(num_clones):
      device = deploy.clone_device(i) if several else config.device
      with _name_scope(deploy.clone_scope(i)), tf.compat.v1.device(device):
        logits, _ = build_model(config, spec, clone_images[i],
                                is_training=not config.freeze_batch_norm,
                                reuse=True if i else None)
        logits = tf.reshape(logits, [-1, spec.num_classes])
        clone_logits.append(logits)
        clone_losses.append(tf.compat.v1.losses.softmax_cross_entropy(
            tf.one_hot(clone_labels[i], spec.num_classes), logits,
            label_smoothing=config.label_smoothing, loss_collection=None))

  regularization = tf.compat.v1.losses.get_regularization_losses()
  regularization_loss = (tf.add_n(regularization, name='regularization_loss')
                         if regularization else tf.constant(0.0))
  cross_entropy = tf.add_n(clone_losses) / num_clones
  total_loss = tf.identity(cross_entropy + regularization_loss,
                           name='total_loss')
  logits = tf.concat(clone_logits, 0) if num_clones > 1 else clone_logits[0]
  accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), labels),
                                    tf.float32))

  learning_rate = optimization.configure_learning_rate(
      global_step, config.learning_rate_schedule, config.learning_rate,
      decay_steps(config, num_examples), config.learning_rate_decay_factor,
      config.end_learning_rate, config.warmup_steps)
  optimizer = optimization.configure_optimizer(
      config.optimizer, learning_rate, config.momentum, config.rmsprop_decay,
      config.rmsprop_momentum, config.adam_beta1, config.adam_beta2,
      config.opt_epsilon, **{
          name: getattr(config, name) for name in (
              'adadelta_rho', 'adagrad_initial_accumulator_value',
              'ftrl_learning_rate_power', 'ftrl_initial_accumulator_value',
              'ftrl_l1', 'ftrl_l2') if hasattr(config, name)})
  if optimizer_wrapper is not None:
    optimizer = optimizer_wrapper(optimizer)
  variables_to_train = select_variables(tf.compat.v1.trainable_variables(),
                                        config.trainable_scopes)

  # Each clone's gradients on its own device, then summed (model_deploy).
  summed = collections.OrderedDict((v, []) for v in variables_to_train)
  for i, clone_loss in enumerate(clone_losses):
    device = deploy.clone_device(i) if several else config.device
    loss = clone_loss / num_clones
    if i == 0:
      loss += regularization_loss
    with _name_scope(deploy.clone_scope(i)), tf.compat.v1.device(device):
      for grad, var in optimizer.compute_gradients(
          loss, var_list=variables_to_train):
        if grad is not None:
          summed[var].append(grad)
  grads_and_vars = [(tf.add_n(g) if len(g) > 1 else g[0], v)
                    for v, g in summed.items() if g]

  with tf.control_dependencies(_clone_update_ops(deploy,
                                                 config.trainable_scopes)):
    train_op = optimizer.apply_gradients(grads_and_vars,
                                         global_step=global_step)
  if config.moving_average_decay:
    # research/slim: shadows of the model variables, decay ramped up by the
    # step (num_updates), updated after the weights.
    averages = tf.compat.v1.train.ExponentialMovingAverage(
        config.moving_average_decay, global_step)
    with tf.control_dependencies([train_op]), \
        tf.compat.v1.device(variables_device):
      train_op = averages.apply(slim.get_model_variables())
  with tf.control_dependencies([train_op]):
    step = tf.identity(global_step.read_value())
  return TrainOps(global_step, total_loss, cross_entropy, accuracy,
                  learning_rate, grads_and_vars, variables_to_train,
                  optimizer, train_op, step)
