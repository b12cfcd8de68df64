"""Helpers for tests that build nets in their own graphs and compare them."""
import collections

import numpy as np
from slim_resnet import compat  # before tf_slim
import tensorflow as tf
import tf_slim as slim

Built = collections.namedtuple(
    'Built', ['graph', 'session', 'inputs', 'net', 'end_points'])


def build(net_fn, arg_scope, input_shape, session=True, **kwargs):
  """Builds net_fn(inputs, **kwargs) under arg_scope in a new graph.

  Returns a Built with a Session (variables initialized) when session=True.
  """
  graph = tf.Graph()
  with graph.as_default():
    tf.compat.v1.set_random_seed(0)
    inputs = tf.compat.v1.placeholder(tf.float32, input_shape, name='inputs')
    # The reference nets build twice as fast this way too (see compat).
    with compat.graph_mode_equality(), slim.arg_scope(arg_scope):
      net, end_points = net_fn(inputs, **kwargs)
    sess = None
    if session:
      sess = tf.compat.v1.Session(graph=graph)
      sess.run(tf.compat.v1.global_variables_initializer())
  return Built(graph, sess, inputs, net, end_points)


def variables_by_name(built):
  with built.graph.as_default():
    return {v.op.name: v for v in tf.compat.v1.global_variables()}


def randomize_batch_norm(built, seed=0):
  """Gives every BN variable and bias non-trivial values.

  Returns a dict name -> value of all global variables after the change.
  """
  rng = np.random.RandomState(seed)
  variables = variables_by_name(built)
  values = built.session.run(variables)
  for name in sorted(values):
    shape = values[name].shape
    leaf = name.rsplit('/', 1)[-1]
    if leaf in ('gamma', 'moving_variance'):
      values[name] = rng.uniform(0.5, 1.5, shape).astype(np.float32)
    elif leaf in ('beta', 'moving_mean', 'biases'):
      values[name] = rng.normal(0, 0.1, shape).astype(np.float32)
  load_values(built, values)
  return values


def random_values(built, seed=0):
  """name -> a random value for every variable, drawn in numpy (no session
  needed, nothing run): He-normal weights (std sqrt(2 / fan_in), as
  resnet_arg_scope's initializer), gamma and moving_variance in [0.5, 1.5],
  beta, moving_mean and biases ~ N(0, 0.1)."""
  rng = np.random.default_rng(seed)
  values = {}
  for name, variable in sorted(variables_by_name(built).items()):
    shape = variable.shape.as_list()
    leaf = name.rsplit('/', 1)[-1]
    if leaf in ('gamma', 'moving_variance'):
      value = rng.uniform(0.5, 1.5, shape)
    elif leaf in ('beta', 'moving_mean', 'biases'):
      value = rng.normal(0, 0.1, shape)
    else:
      fan_in = int(np.prod(shape[:-1])) or 1
      value = rng.standard_normal(shape, dtype=np.float32) * np.sqrt(
          2.0 / fan_in)
    values[name] = np.asarray(value, np.float32)
  return values


def load_values(built, values):
  """Loads name -> value into built's variables (names must match).

  Re-runs the initializers with their initial values fed, so no op is added.
  """
  variables = variables_by_name(built)
  with built.graph.as_default():
    feeds = {v.initial_value: values[n] for n, v in variables.items()}
  built.session.run([v.initializer for v in variables.values()], feeds)


def relative_difference(a, b):
  a = np.asarray(a, np.float64)
  b = np.asarray(b, np.float64)
  return np.abs(a - b).max() / max(np.abs(b).max(), 1e-12)


def mesh_images(shape):
  """Deterministic, structured inputs [batch, height, width, channels]."""
  batch, height, width, channels = shape
  y, x = np.meshgrid(np.linspace(-1, 1, height), np.linspace(-1, 1, width),
                     indexing='ij')
  images = np.zeros(shape, np.float32)
  for b in range(batch):
    for c in range(channels):
      images[b, :, :, c] = np.sin((b + 1) * x + (c + 1) * y) * 50.0
  return images


def param_count(built, trainable_only=True):
  with built.graph.as_default():
    variables = (tf.compat.v1.trainable_variables() if trainable_only
                 else tf.compat.v1.global_variables())
  return int(sum(np.prod(v.shape.as_list()) for v in variables))


def value(built, name=None):
  """The value of one variable by name, or of all (dict) when name is None."""
  variables = variables_by_name(built)
  with built.graph.as_default():
    if name is None:
      return built.session.run(variables)
    return built.session.run(variables[name])
