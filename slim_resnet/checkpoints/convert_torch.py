"""A torchvision-style ResNet state_dict into a slim resnet_v1 checkpoint.

    report = convert_torch('resnet18.pth', 'resnet_v1_18', 'out/model.ckpt')
    report = convert_torch('resnet18.safetensors', 'resnet_v1_18', ...)

A .safetensors file is read with the safetensors package's numpy API (no
torch needed); any other file with torch.load (needs torch).

torchvision's ResNet-18/34 (BasicBlock) and ResNet-50/101/152 (Bottleneck,
"v1.5": the stride on the 3x3 conv) are resnet_v1 nets with two
differences, both handled by builder options recorded in the written
model_spec.json:
  - the stride sits in the *first* unit of each stage (on conv1 of a
    BasicBlock, conv2 of a Bottleneck): stride_in_first_unit=True;
  - the 3x3 max pool pads one pixel on every side: pool_padding='SYMMETRIC'.
Layouts: conv weights OIHW -> HWIO, fc [classes, features] -> the 1x1 logits
conv [1, 1, features, classes]. Batch norm epsilon is 1e-5 in both.
Names: conv1/bn1 -> conv1; layer<b>.<u>.conv<k>/bn<k> ->
block<b>/unit_<u+1>/{basic,bottleneck}_v1/conv<k>; downsample.0/.1 ->
shortcut; fc -> logits. num_batches_tracked is ignored.

model_spec.json names 'torchvision' preprocessing (RGB in 0..1, normalized
by ImageNet's mean and std), what torchvision's weights expect.
"""
import os

import numpy as np

from slim_resnet import configs
from slim_resnet.checkpoints import convert

MODEL_OPTIONS = {'stride_in_first_unit': True, 'pool_padding': 'SYMMETRIC'}


def _strip_module(state):
  return {k[len('module.'):] if k.startswith('module.') else k: v
          for k, v in state.items()}


def load_safetensors(path):
  """{name: numpy array} of a .safetensors file, without torch."""
  try:
    from safetensors import numpy as safetensors_numpy  # pylint: disable=g-import-not-at-top
  except ImportError:
    raise convert.ConversionError(
        'reading %s needs safetensors: pip install safetensors' % path
    ) from None
  try:
    state = safetensors_numpy.load_file(path)
  except Exception as e:  # pylint: disable=broad-except
    raise convert.ConversionError('cannot read %s as a safetensors file: %s'
                                  % (path, e)) from None
  if not state:
    raise convert.ConversionError('%s holds no tensors' % path)
  return _strip_module(state)


def load_state_dict(path):
  """{name: numpy array} from a torch.save()d state_dict (or a checkpoint
  dict holding one under 'state_dict' / 'model'), or from a .safetensors
  file (no torch needed); 'module.' prefixes of DataParallel are dropped.

  Raises:
    ConversionError: If torch (or safetensors) is missing or the file holds
      no state_dict.
  """
  if os.fspath(path).endswith('.safetensors'):
    return load_safetensors(os.fspath(path))
  try:
    import torch  # pylint: disable=g-import-not-at-top
  except ImportError:
    raise convert.ConversionError(
        'reading %s needs PyTorch: pip install torch (or save the state_dict '
        'as .safetensors, read without torch)' % path) from None
  try:
    loaded = torch.load(path, map_location='cpu', weights_only=True)
  except Exception as e:  # pylint: disable=broad-except
    raise convert.ConversionError('cannot read %s as a torch state_dict: %s'
                                  % (path, e)) from None
  for key in ('state_dict', 'model'):
    if isinstance(loaded, dict) and isinstance(loaded.get(key), dict):
      loaded = loaded[key]
  if not isinstance(loaded, dict) or not loaded:
    raise convert.ConversionError(
        '%s holds a %s, not a state_dict (save model.state_dict())' % (
            path, type(loaded).__name__))
  return _strip_module({k: v.detach().cpu().numpy()
                        for k, v in loaded.items()})


def _depth(model):
  version, _, depth = model.rpartition('_')
  if version != 'resnet_v1' or not depth.isdigit() or \
      int(depth) not in configs.ARCHITECTURES:
    raise convert.ConversionError(
        'torchvision ResNets convert into resnet_v1_<depth> (depth one of %s);'
        ' got %r' % (', '.join(map(str, configs.DEPTHS)), model))
  return int(depth)


def name_map(model, num_units_found=None):
  """(torch conv prefix, torch bn prefix, slim scope) of every conv layer."""
  architecture = configs.ARCHITECTURES[_depth(model)]
  unit = '%s_v1' % architecture.unit
  convs = 3 if architecture.unit == 'bottleneck' else 2
  layers = [('conv1', 'bn1', model + '/conv1')]
  for b, num_units in enumerate(architecture.num_units, 1):
    for u in range(num_units):
      torch_unit = 'layer%d.%d.' % (b, u)
      slim_unit = '%s/block%d/unit_%d/%s/' % (model, b, u + 1, unit)
      for k in range(1, convs + 1):
        layers.append((torch_unit + 'conv%d' % k, torch_unit + 'bn%d' % k,
                       slim_unit + 'conv%d' % k))
      layers.append((torch_unit + 'downsample.0', torch_unit + 'downsample.1',
                     slim_unit + 'shortcut'))
  return layers


def convert_state_dict(state_dict, model, source='in memory'):
  """{slim name: array} and a ConversionReport for a state_dict.

  Raises:
    ConversionError: If tensors the model needs are missing (the message
      names them and the model the state_dict seems to be).
  """
  state = dict(state_dict)
  values = {}
  num_classes = state['fc.weight'].shape[0] if 'fc.weight' in state else None
  report = convert.ConversionReport('torch %s' % source, model, num_classes,
                                    dict(MODEL_OPTIONS),
                                    preprocessing='torchvision')
  missing = []
  for torch_conv, torch_bn, scope in name_map(model):
    weight = torch_conv + '.weight'
    if weight not in state:
      if not scope.endswith('/shortcut'):  # Identity shortcuts have none.
        missing.append(weight)
      continue
    values[scope + '/weights'] = np.transpose(state.pop(weight), (2, 3, 1, 0))
    report.mapped.append((weight, scope + '/weights',
                          values[scope + '/weights'].shape))
    parts = [torch_bn + '.' + p for p in ('weight', 'bias', 'running_mean',
                                          'running_var')]
    if not all(p in state for p in parts):
      missing += [p for p in parts if p not in state]
      continue
    bn = convert.batch_norm_values(scope + '/BatchNorm',
                                   *[state.pop(p) for p in parts])
    values.update(bn)
    report.mapped += [(p, n, v.shape) for p, (n, v) in zip(parts, bn.items())]
    state.pop(torch_bn + '.num_batches_tracked', None)
  if missing:
    found = sorted({k.split('.')[0] + '.' + k.split('.')[1]
                    for k in state_dict if k.startswith('layer')})
    raise convert.ConversionError(
        'the state_dict lacks %d tensors %s needs, e.g. %s; its layers: %s' % (
            len(missing), model, ', '.join(missing[:5]),
            ', '.join(found[:12]) or 'none'))
  if num_classes:
    fc = state.pop('fc.weight')
    values[model + '/logits/weights'] = fc.T[None, None]
    values[model + '/logits/biases'] = state.pop('fc.bias')
    report.mapped += [('fc.weight', model + '/logits/weights', fc.T.shape),
                      ('fc.bias', model + '/logits/biases', (num_classes,))]
  for name in state_dict:
    if name.endswith('num_batches_tracked'):
      report.ignored[name] = 'a counter, not a weight'
    elif name in state:
      report.ignored[name] = 'no slim counterpart'
  if [n for n, r in report.ignored.items() if r == 'no slim counterpart']:
    raise convert.ConversionError(
        'the state_dict has tensors %s has no place for: %s (another depth?)'
        % (model, ', '.join(sorted(n for n, r in report.ignored.items()
                                   if r == 'no slim counterpart')[:8])))
  report.notes.append('stride in the first unit of each block and pool1 '
                      'padded on every side, as torchvision: builder options '
                      '%s (in model_spec.json)' % MODEL_OPTIONS)
  return values, report


def convert_torch(source, model, out_prefix):
  """Converts a torchvision-style ResNet into a slim checkpoint.

  Args:
    source: A state_dict file (torch.save, or .safetensors) or a
      {name: tensor or array} dict.
    model: 'resnet_v1_18', 'resnet_v1_34', 'resnet_v1_50', ...
    out_prefix: The checkpoint prefix to write, e.g. 'out/model.ckpt'.

  Returns:
    A ConversionReport.

  Raises:
    ConversionError: If the source does not fit the model.
  """
  if isinstance(source, (str, os.PathLike)):
    state, name = load_state_dict(source), os.fspath(source)
  else:
    state = {k: np.asarray(v.detach().cpu().numpy() if hasattr(v, 'detach')
                           else v) for k, v in source.items()}
    name = 'in memory'
  values, report = convert_state_dict(state, model, name)
  return convert.save_converted(values, report, out_prefix)
