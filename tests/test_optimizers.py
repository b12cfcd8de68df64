"""Learning-rate schedules against closed forms; optimizers by name."""
import math

import pytest
import tensorflow as tf

from slim_resnet.train import optimizers as optimization


def rates(schedule, steps, **kwargs):
  with tf.Graph().as_default():
    step = tf.compat.v1.placeholder(tf.int64, [])
    rate = optimization.configure_learning_rate(step, schedule, **kwargs)
    with tf.compat.v1.Session() as sess:
      return [float(sess.run(rate, {step: s})) for s in steps]


STEPS = [0, 1, 5, 9, 10, 11, 50, 99, 110, 200]


def expected(schedule, s, lr=0.1, warmup=10, decay_steps=40):
  if s < warmup:
    return lr * (s + 1) / warmup
  t = s - warmup
  if schedule == 'fixed':
    return lr
  if schedule == 'exponential':
    return lr * 0.5 ** (t // decay_steps)
  if schedule == 'cosine':
    return lr * 0.5 * (1 + math.cos(math.pi * min(t, decay_steps) /
                                    decay_steps))
  return (lr - 0.001) * (1 - min(t, decay_steps) / decay_steps) + 0.001


@pytest.mark.parametrize('schedule', optimization.LEARNING_RATE_SCHEDULES)
def test_schedules_with_warmup(schedule):
  got = rates(schedule, STEPS, learning_rate=0.1, decay_steps=40,
              decay_factor=0.5, end_learning_rate=0.001, warmup_steps=10)
  want = [expected(schedule, s) for s in STEPS]
  assert got == pytest.approx(want, rel=1e-5, abs=1e-7)


def test_no_warmup_starts_at_the_rate():
  assert rates('exponential', [0, 3], learning_rate=0.2, decay_steps=2,
               decay_factor=0.5) == pytest.approx([0.2, 0.1])


def test_bad_arguments():
  with tf.Graph().as_default():
    step = tf.compat.v1.train.get_or_create_global_step()
    with pytest.raises(ValueError, match='one of fixed, exponential'):
      optimization.configure_learning_rate(step, 'linear')
    with pytest.raises(ValueError, match='decay_steps must be positive'):
      optimization.configure_learning_rate(step, 'cosine', decay_steps=0)
    with pytest.raises(ValueError, match="got 'nadam'"):
      optimization.configure_optimizer('nadam', 0.1)


@pytest.mark.parametrize('name,cls', [
    ('momentum', tf.compat.v1.train.MomentumOptimizer),
    ('rmsprop', tf.compat.v1.train.RMSPropOptimizer),
    ('adam', tf.compat.v1.train.AdamOptimizer),
    ('sgd', tf.compat.v1.train.GradientDescentOptimizer),
    ('adadelta', tf.compat.v1.train.AdadeltaOptimizer),
    ('adagrad', tf.compat.v1.train.AdagradOptimizer),
    ('ftrl', tf.compat.v1.train.FtrlOptimizer)])
def test_optimizers(name, cls):
  with tf.Graph().as_default():
    var = tf.compat.v1.get_variable('w', initializer=3.0)
    optimizer = optimization.configure_optimizer(name, 0.1)
    assert isinstance(optimizer, cls)
    train = optimizer.minimize(tf.square(var))
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      for _ in range(3):
        sess.run(train)
      assert abs(sess.run(var)) < 3.0  # Moved downhill.


def test_research_slim_optimizer_defaults():
  """train_image_classifier.py's flag defaults: --adadelta_rho 0.95,
  --opt_epsilon 1.0, --adagrad_initial_accumulator_value 0.1,
  --ftrl_learning_rate_power -0.5, --ftrl_initial_accumulator_value 0.1,
  --ftrl_l1 0, --ftrl_l2 0; the command line offers the same names."""
  from slim_resnet.commands import train as train_command  # pylint: disable=g-import-not-at-top
  assert train_command.OPTIMIZERS == optimization.OPTIMIZERS
  assert (train_command.LEARNING_RATE_SCHEDULES ==
          optimization.LEARNING_RATE_SCHEDULES)
  adadelta = optimization.configure_optimizer('adadelta', 0.1)
  assert (adadelta._rho, adadelta._epsilon) == (0.95, 1.0)  # pylint: disable=protected-access
  adagrad = optimization.configure_optimizer('adagrad', 0.1)
  assert adagrad._initial_accumulator_value == 0.1  # pylint: disable=protected-access
  ftrl = optimization.configure_optimizer('ftrl', 0.1, ftrl_l2=0.5)
  assert (ftrl._learning_rate_power, ftrl._initial_accumulator_value,  # pylint: disable=protected-access
          ftrl._l1_regularization_strength,  # pylint: disable=protected-access
          ftrl._l2_regularization_strength) == (-0.5, 0.1, 0.0, 0.5)  # pylint: disable=protected-access
