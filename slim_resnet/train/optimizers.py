"""Learning-rate schedules and optimizers, as research/slim's
train_image_classifier.py configures them (_configure_learning_rate,
_configure_optimizer), plus linear warm-up and cosine decay.

    learning_rate = configure_learning_rate(global_step, 'cosine', 0.01,
                                            decay_steps=1000, warmup_steps=100)
    optimizer = configure_optimizer('momentum', learning_rate)
"""
from slim_resnet import errors
import tensorflow as tf

LEARNING_RATE_SCHEDULES = ('fixed', 'exponential', 'cosine', 'polynomial')
OPTIMIZERS = ('momentum', 'rmsprop', 'adam', 'sgd', 'adadelta', 'adagrad',
              'ftrl')


def configure_learning_rate(global_step, schedule='exponential',
                            learning_rate=0.01, decay_steps=1000,
                            decay_factor=0.94, end_learning_rate=0.0001,
                            warmup_steps=0, staircase=True):
  """The learning rate tensor at global_step.

  Args:
    global_step: The int64 global step.
    schedule: 'fixed'; 'exponential' (times decay_factor every decay_steps,
      research/slim's default); 'cosine' (from learning_rate to 0 over
      decay_steps, then 0); 'polynomial' (linear to end_learning_rate over
      decay_steps).
    learning_rate: The initial (after warm-up) learning rate.
    decay_steps: Steps per decay (exponential) or of the whole decay.
    decay_factor: Exponential decay factor.
    end_learning_rate: Polynomial schedule's last value.
    warmup_steps: Rise linearly from learning_rate / warmup_steps to
      learning_rate over the first warmup_steps steps; the schedule starts
      after them.
    staircase: Exponential decay in steps rather than continuously.

  Returns:
    A scalar float32 tensor.

  Raises:
    ValueError: For an unknown schedule or non-positive decay_steps.
  """
  if schedule not in LEARNING_RATE_SCHEDULES:
    raise errors.UsageError('learning rate schedule must be one of %s; got %r' % (
        ', '.join(LEARNING_RATE_SCHEDULES), schedule))
  if schedule != 'fixed' and decay_steps <= 0:
    raise errors.UsageError('decay_steps must be positive; got %r' % decay_steps)
  step = tf.cast(global_step, tf.int64)
  decay_step = tf.maximum(step - warmup_steps, 0)
  if schedule == 'fixed':
    rate = tf.constant(learning_rate, tf.float32)
  elif schedule == 'exponential':
    rate = tf.compat.v1.train.exponential_decay(
        learning_rate, decay_step, decay_steps, decay_factor,
        staircase=staircase)
  elif schedule == 'cosine':
    rate = tf.compat.v1.train.cosine_decay(learning_rate, decay_step,
                                           decay_steps)
  else:
    rate = tf.compat.v1.train.polynomial_decay(
        learning_rate, decay_step, decay_steps, end_learning_rate, power=1.0)
  rate = tf.cast(rate, tf.float32)
  if warmup_steps > 0:
    warmup = learning_rate * tf.cast(step + 1, tf.float32) / warmup_steps
    rate = tf.where(step < warmup_steps, warmup, rate)
  return tf.identity(rate, name='learning_rate')


def configure_optimizer(name, learning_rate, momentum=0.9, rmsprop_decay=0.9,
                        rmsprop_momentum=0.9, adam_beta1=0.9, adam_beta2=0.999,
                        epsilon=1.0, *, adadelta_rho=0.95,
                        adagrad_initial_accumulator_value=0.1,
                        ftrl_learning_rate_power=-0.5,
                        ftrl_initial_accumulator_value=0.1, ftrl_l1=0.0,
                        ftrl_l2=0.0):
  """A tf.compat.v1.train optimizer; defaults are research/slim's flags.

  Args:
    name: One of OPTIMIZERS: 'momentum', 'rmsprop', 'adam', 'sgd',
      'adadelta', 'adagrad', 'ftrl'.
    learning_rate: A scalar tensor or float.
    momentum: Momentum of 'momentum'.
    rmsprop_decay, rmsprop_momentum: RMSProp's decay and momentum.
    adam_beta1, adam_beta2: Adam's moment decays.
    epsilon: RMSProp's, Adam's and Adadelta's epsilon (research/slim's
      --opt_epsilon, 1.0).
    adadelta_rho: Adadelta's decay.
    adagrad_initial_accumulator_value: Adagrad's starting accumulator.
    ftrl_learning_rate_power, ftrl_initial_accumulator_value, ftrl_l1,
      ftrl_l2: FTRL's parameters.

  Raises:
    ValueError: For an unknown name.
  """
  if name == 'momentum':
    return tf.compat.v1.train.MomentumOptimizer(learning_rate, momentum,
                                                name='Momentum')
  if name == 'rmsprop':
    return tf.compat.v1.train.RMSPropOptimizer(
        learning_rate, decay=rmsprop_decay, momentum=rmsprop_momentum,
        epsilon=epsilon)
  if name == 'adam':
    return tf.compat.v1.train.AdamOptimizer(
        learning_rate, beta1=adam_beta1, beta2=adam_beta2, epsilon=epsilon)
  if name == 'sgd':
    return tf.compat.v1.train.GradientDescentOptimizer(learning_rate)
  if name == 'adadelta':
    return tf.compat.v1.train.AdadeltaOptimizer(
        learning_rate, rho=adadelta_rho, epsilon=epsilon)
  if name == 'adagrad':
    return tf.compat.v1.train.AdagradOptimizer(
        learning_rate,
        initial_accumulator_value=adagrad_initial_accumulator_value)
  if name == 'ftrl':
    return tf.compat.v1.train.FtrlOptimizer(
        learning_rate, learning_rate_power=ftrl_learning_rate_power,
        initial_accumulator_value=ftrl_initial_accumulator_value,
        l1_regularization_strength=ftrl_l1,
        l2_regularization_strength=ftrl_l2)
  raise errors.UsageError('optimizer must be one of %s; got %r' % (
      ', '.join(OPTIMIZERS), name))
