"""Keras ResNet50V2 / 101V2 / 152V2 weights into a slim resnet_v2 checkpoint.

    model = keras.applications.ResNet50V2(weights=None, classes=10)
    report = convert_keras(model, 'resnet_v2_50', 'out/model.ckpt')

keras.applications' ResNetV2 is the same pre-activation family as
research/slim's resnet_v2: stride in the last unit of each stage, a MaxPool
1x1 shortcut there, a projection shortcut with bias in the first unit,
conv3 with bias and no batch norm, post_bn at the end. Two differences are
handled: the max pool after conv1 pads one zero on every side
(pool_padding='SYMMETRIC' in model_spec.json), and Keras' batch-norm
epsilon 1.001e-5 is moved into the moving variance (slim uses 1e-5), so the
numbers are the same. Names: conv1_conv -> conv1; conv<s>_block<u>_preact_bn
-> block<s-1>/unit_<u>/bottleneck_v2/preact; _0_conv -> shortcut; _<k>_conv
/_<k>_bn -> conv<k>; post_bn -> postnorm; predictions -> logits.

Keras ResNet50/101/152 (v1) do not fit resnet_v1: they stride the first
1x1 convolution of a stage (the original Caffe model), research/slim the 3x3,
so convert_keras refuses them with that reason.
"""
import os
import re

import numpy as np

from slim_resnet.checkpoints import convert

KERAS_EPSILON = 1.001e-5
MODEL_OPTIONS = {'pool_padding': 'SYMMETRIC'}
KERAS_MODELS = {50: 'ResNet50V2', 101: 'ResNet101V2', 152: 'ResNet152V2'}


def _depth(model):
  version, _, depth = model.rpartition('_')
  if version == 'resnet_v1':
    raise convert.ConversionError(
        'Keras ResNet50/101/152 (v1) cannot become %s: Keras strides the first '
        '1x1 convolution of each stage (Caffe style) where research/slim '
        'strides the 3x3, a different network. Keras ResNet50V2/101V2/152V2 '
        'convert into resnet_v2_50/101/152.' % model)
  if version != 'resnet_v2' or not depth.isdigit() or \
      int(depth) not in KERAS_MODELS:
    raise convert.ConversionError(
        'Keras ResNetV2 weights convert into %s; got %r' % (
            ', '.join('resnet_v2_%d' % d for d in KERAS_MODELS), model))
  return int(depth)


def load_keras_model(path, model=None, num_classes=None):
  """A Keras model from a .keras file, or a .h5 / .weights.h5 file of a
  keras.applications ResNetV2 (built with weights=None, then loaded).

  Raises:
    ConversionError: If Keras cannot read it.
  """
  import keras  # pylint: disable=g-import-not-at-top
  try:
    if path.endswith('.keras'):
      return keras.saving.load_model(path, compile=False)
    if model is None:
      raise convert.ConversionError(
          '%s holds weights only; say which model they are (model=)' % path)
    builder = getattr(keras.applications, KERAS_MODELS[_depth(model)])
    net = builder(weights=None, classes=num_classes or 1000,
                  include_top=num_classes != 0, classifier_activation=None)
    net.load_weights(path)
    return net
  except convert.ConversionError:
    raise
  except Exception as e:  # pylint: disable=broad-except
    raise convert.ConversionError('cannot read Keras weights %s: %s' % (
        path, e)) from None


def _layer_weights(keras_model):
  """{layer name: [numpy arrays]} of the layers that have weights."""
  return {layer.name: [np.asarray(w) for w in layer.get_weights()]
          for layer in keras_model.layers if layer.get_weights()}


def _slim_scope(name, model):
  """The slim scope of a Keras ResNetV2 layer name, and the layer kind."""
  if name == 'conv1_conv':
    return model + '/conv1', 'conv'
  if name == 'post_bn':
    return model + '/postnorm', 'bn'
  if name == 'predictions':
    return model + '/logits', 'dense'
  found = re.match(r'conv(\d)_block(\d+)_(preact_bn|\d_conv|\d_bn)$', name)
  if not found:
    return None, None
  stage, unit, part = found.groups()
  scope = '%s/block%d/unit_%s/bottleneck_v2/' % (model, int(stage) - 1, unit)
  if part == 'preact_bn':
    return scope + 'preact', 'bn'
  index, kind = part.split('_')
  return scope + ('shortcut' if index == '0' else 'conv' + index), kind


def convert_keras_weights(layers, model, source='in memory'):
  """{slim name: array} and a ConversionReport for {layer: weights}.

  Raises:
    ConversionError: For a layer with no slim place or unexpected weights.
  """
  _depth(model)
  values = {}
  num_classes = (layers['predictions'][0].shape[1] if 'predictions' in layers
                 else None)
  # Keras' resnet_v2.preprocess_input scales to -1..1, as inception's does.
  report = convert.ConversionReport('keras %s' % source, model, num_classes,
                                    dict(MODEL_OPTIONS),
                                    preprocessing='inception')
  for name, weights in layers.items():
    scope, kind = _slim_scope(name, model)
    if scope is None:
      report.ignored[name] = 'no slim counterpart'
      continue
    if kind == 'bn' and not scope.endswith(('/preact', '/postnorm')):
      scope += '/BatchNorm'  # preact and postnorm are batch norms themselves.
    if kind == 'bn':
      gamma, beta, mean, variance = weights
      new = convert.batch_norm_values(scope, gamma, beta, mean, variance,
                                      epsilon=KERAS_EPSILON)
    elif kind == 'dense':
      kernel, bias = weights
      new = {scope + '/weights': kernel[None, None], scope + '/biases': bias}
    else:
      new = {scope + '/weights': weights[0]}
      if len(weights) == 2:
        new[scope + '/biases'] = weights[1]
    values.update(new)
    report.mapped += [(name, n, tuple(np.shape(v))) for n, v in new.items()]
  unknown = sorted(n for n, r in report.ignored.items())
  if unknown:
    raise convert.ConversionError(
        'layers with weights that %s has no place for: %s (is this a Keras '
        'ResNetV2?)' % (model, ', '.join(unknown[:8])))
  report.notes.append('batch-norm epsilon %g (Keras) moved into the moving '
                      'variances (slim uses 1e-5)' % KERAS_EPSILON)
  report.notes.append('pool1 padded on every side, as Keras: builder option '
                      '%s (in model_spec.json)' % MODEL_OPTIONS)
  return values, report


def convert_keras(source, model, out_prefix, num_classes=None):
  """Converts a Keras ResNetV2 (a model object or a file) into a slim
  checkpoint; see the module docstring.

  Args:
    source: A keras.Model, a .keras file, or a .h5 / .weights.h5 weights
      file of keras.applications' ResNetV2 of that depth.
    model: 'resnet_v2_50', 'resnet_v2_101' or 'resnet_v2_152'.
    out_prefix: The checkpoint prefix to write.
    num_classes: For a weights file: its classes (0 for include_top=False).

  Returns:
    A ConversionReport.

  Raises:
    ConversionError: If the source does not fit the model.
  """
  _depth(model)
  name = 'in memory'
  if isinstance(source, (str, os.PathLike)):
    name = os.fspath(source)
    source = load_keras_model(name, model, num_classes)
  values, report = convert_keras_weights(_layer_weights(source), model, name)
  return convert.save_converted(values, report, out_prefix)

