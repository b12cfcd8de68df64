"""PyTorch (torchvision-style) and Keras ResNetV2 weights become slim
checkpoints that restore with no missing variable and give the source
framework's logits within 1e-4, on random weights and batch-norm statistics."""
import os
import sys
import types

import numpy as np
import pytest
import tensorflow as tf

from slim_resnet import cli
from slim_resnet import nets_factory
from slim_resnet.checkpoints import convert
from slim_resnet.checkpoints import convert_keras
from slim_resnet.checkpoints import convert_torch
from slim_resnet.checkpoints import model_spec

try:
  import torch  # pylint: disable=g-import-not-at-top
  nn = torch.nn
except ImportError:  # The .pth tests skip; safetensors and Keras tests run.
  torch = None
  nn = types.SimpleNamespace(Module=object)
needs_torch = pytest.mark.skipif(
    torch is None, reason="needs torch: pip install -e '.[torch]'")


# torchvision's ResNet, written from torch's own layers (same state_dict names).
class BasicBlock(nn.Module):
  expansion = 1

  def __init__(self, inplanes, planes, stride=1, downsample=None):
    super().__init__()
    self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
    self.bn1 = nn.BatchNorm2d(planes)
    self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
    self.bn2 = nn.BatchNorm2d(planes)
    self.relu = nn.ReLU()
    self.downsample = downsample

  def forward(self, x):
    identity = x if self.downsample is None else self.downsample(x)
    out = self.relu(self.bn1(self.conv1(x)))
    return self.relu(self.bn2(self.conv2(out)) + identity)


class Bottleneck(nn.Module):
  expansion = 4

  def __init__(self, inplanes, planes, stride=1, downsample=None):
    super().__init__()
    self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
    self.bn1 = nn.BatchNorm2d(planes)
    self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
    self.bn2 = nn.BatchNorm2d(planes)
    self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
    self.bn3 = nn.BatchNorm2d(planes * 4)
    self.relu = nn.ReLU()
    self.downsample = downsample

  def forward(self, x):
    identity = x if self.downsample is None else self.downsample(x)
    out = self.relu(self.bn1(self.conv1(x)))
    out = self.relu(self.bn2(self.conv2(out)))
    return self.relu(self.bn3(self.conv3(out)) + identity)


class ResNet(nn.Module):

  def __init__(self, block, layers, num_classes, width=64):
    super().__init__()
    self.inplanes = 64
    self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
    self.bn1 = nn.BatchNorm2d(64)
    self.relu = nn.ReLU()
    self.maxpool = nn.MaxPool2d(3, 2, 1)
    self.layer1 = self._layer(block, width, layers[0], 1)
    self.layer2 = self._layer(block, width * 2, layers[1], 2)
    self.layer3 = self._layer(block, width * 4, layers[2], 2)
    self.layer4 = self._layer(block, width * 8, layers[3], 2)
    self.fc = nn.Linear(width * 8 * block.expansion, num_classes)

  def _layer(self, block, planes, blocks, stride):
    downsample = None
    if stride != 1 or self.inplanes != planes * block.expansion:
      downsample = nn.Sequential(
          nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride,
                    bias=False),
          nn.BatchNorm2d(planes * block.expansion))
    units = [block(self.inplanes, planes, stride, downsample)]
    self.inplanes = planes * block.expansion
    units += [block(self.inplanes, planes) for _ in range(1, blocks)]
    return nn.Sequential(*units)

  def forward(self, x):
    x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
    x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
    return self.fc(torch.flatten(x.mean((2, 3)), 1))


def randomize_torch(model, seed=0):
  torch.manual_seed(seed)
  for module in model.modules():
    if isinstance(module, nn.BatchNorm2d):
      module.weight.data.uniform_(0.5, 1.5)
      module.bias.data.uniform_(-0.2, 0.2)
      module.running_mean.uniform_(-0.2, 0.2)
      module.running_var.uniform_(0.5, 1.5)
  return model.eval()


def slim_logits(prefix, model, num_classes, images):
  """Builds the net the checkpoint's model_spec.json describes, restores."""
  from slim_resnet.checkpoints import restorer  # pylint: disable=g-import-not-at-top
  spec = model_spec.resolve_model(prefix)
  assert (spec.model, spec.num_classes) == (model, num_classes)
  network_fn = nets_factory.get_network_fn(model, num_classes)
  with tf.Graph().as_default():
    inputs = tf.compat.v1.placeholder(tf.float32, images.shape)
    logits, _ = network_fn(inputs, **spec.model_options)
    with tf.compat.v1.Session() as session:
      restored = restorer.restore(session, prefix)
      with session.graph.as_default():
        count = len(tf.compat.v1.global_variables())
      assert len(restored) == count  # Every variable, none missing.
      return session.run(logits, {inputs: images})


@needs_torch
@pytest.mark.parametrize('model,block,layers,width,suffix', [
    ('resnet_v1_18', BasicBlock, (2, 2, 2, 2), 64, '.pth'),
    ('resnet_v1_18', BasicBlock, (2, 2, 2, 2), 64, '.safetensors'),
    ('resnet_v1_50', Bottleneck, (3, 4, 6, 3), 64, '.pth')])
def test_torch_logits(tmp_path, model, block, layers, width, suffix):
  net = randomize_torch(ResNet(block, layers, num_classes=6, width=width))
  images = np.random.RandomState(1).uniform(-1, 1, [2, 64, 64, 3]).astype(
      np.float32)
  with torch.no_grad():
    want = net(torch.from_numpy(images.transpose(0, 3, 1, 2))).numpy()
  path = tmp_path / ('resnet' + suffix)
  if suffix == '.pth':
    torch.save(net.state_dict(), path)
  else:
    from safetensors import numpy as safetensors_numpy  # pylint: disable=g-import-not-at-top
    safetensors_numpy.save_file(
        {k: v.numpy() for k, v in net.state_dict().items()}, str(path))
  prefix = str(tmp_path / 'out' / 'model.ckpt')
  report = convert_torch.convert_torch(str(path), model, prefix)
  assert report.model_options == {'stride_in_first_unit': True,
                                  'pool_padding': 'SYMMETRIC'}
  assert report.num_classes == 6
  assert model_spec.resolve_model(prefix).preprocessing == 'torchvision'
  assert all(r == 'a counter, not a weight' for r in report.ignored.values())
  got = slim_logits(prefix, model, 6, images)
  np.testing.assert_allclose(got, want, rtol=1e-4,
                             atol=1e-4 * np.abs(want).max())


def _numpy_resnet18_state(num_classes, seed=0):
  """A torchvision ResNet-18 state_dict of random numpy arrays (no torch)."""
  rng = np.random.RandomState(seed)
  state = {}

  def conv(name, out, inp, k):
    state[name + '.weight'] = rng.normal(0, 0.1, [out, inp, k, k]).astype(
        np.float32)

  def bn(name, c):
    for part, (low, high) in (('weight', (0.5, 1.5)), ('bias', (-.2, .2)),
                              ('running_mean', (-.2, .2)),
                              ('running_var', (0.5, 1.5))):
      state['%s.%s' % (name, part)] = rng.uniform(low, high, [c]).astype(
          np.float32)
    state[name + '.num_batches_tracked'] = np.array(7, np.int64)

  conv('conv1', 64, 3, 7)
  bn('bn1', 64)
  inplanes = 64
  for b in range(1, 5):
    planes = 64 * 2 ** (b - 1)
    for u in range(2):
      unit = 'layer%d.%d.' % (b, u)
      conv(unit + 'conv1', planes, inplanes, 3)
      bn(unit + 'bn1', planes)
      conv(unit + 'conv2', planes, planes, 3)
      bn(unit + 'bn2', planes)
      if u == 0 and b > 1:
        conv(unit + 'downsample.0', planes, inplanes, 1)
        bn(unit + 'downsample.1', planes)
      inplanes = planes
  state['fc.weight'] = rng.normal(0, 0.1, [num_classes, 512]).astype(
      np.float32)
  state['fc.bias'] = rng.normal(0, 0.1, [num_classes]).astype(np.float32)
  return state


def test_safetensors_converts_without_torch(tmp_path, monkeypatch):
  """A .safetensors state_dict converts with torch unimportable; the
  checkpoint holds the file's arrays in slim's layout (OIHW -> HWIO, fc ->
  1x1 conv), read back with TensorFlow's checkpoint reader."""
  from safetensors import numpy as safetensors_numpy  # pylint: disable=g-import-not-at-top
  monkeypatch.setitem(sys.modules, 'torch', None)  # `import torch` fails.
  state = _numpy_resnet18_state(num_classes=3)
  path = tmp_path / 'r18.safetensors'
  safetensors_numpy.save_file(
      {'module.' + k: v for k, v in state.items()}, str(path))  # DataParallel
  prefix = str(tmp_path / 'out' / 'model.ckpt')
  report = convert_torch.convert_torch(str(path), 'resnet_v1_18', prefix)
  assert report.num_classes == 3
  reader = tf.train.load_checkpoint(prefix)
  np.testing.assert_array_equal(
      reader.get_tensor('resnet_v1_18/conv1/weights'),
      state['conv1.weight'].transpose(2, 3, 1, 0))
  np.testing.assert_array_equal(
      reader.get_tensor(
          'resnet_v1_18/block3/unit_1/basic_v1/shortcut/BatchNorm/'
          'moving_variance'),
      state['layer3.0.downsample.1.running_var'])
  np.testing.assert_array_equal(
      reader.get_tensor('resnet_v1_18/logits/weights'),
      state['fc.weight'].T[None, None])
  np.testing.assert_array_equal(reader.get_tensor('resnet_v1_18/logits/biases'),
                                state['fc.bias'])
  # A .pth file without torch: the error names both ways out.
  with pytest.raises(convert.ConversionError, match='safetensors'):
    convert_torch.convert_torch(str(tmp_path / 'r18.pth'), 'resnet_v1_18',
                                str(tmp_path / 'x' / 'model.ckpt'))


@needs_torch
def test_torch_errors(tmp_path):
  net = ResNet(BasicBlock, (2, 2, 2, 2), num_classes=3)
  with pytest.raises(convert.ConversionError,
                     match='lacks .* tensors resnet_v1_34 needs'):
    convert_torch.convert_torch(net.state_dict(), 'resnet_v1_34',
                                str(tmp_path / 'x.ckpt'))
  with pytest.raises(convert.ConversionError, match='into resnet_v1_<depth>'):
    convert_torch.convert_torch(net.state_dict(), 'resnet_v2_18',
                                str(tmp_path / 'x.ckpt'))
  (tmp_path / 'junk.pth').write_bytes(b'not a pickle')
  with pytest.raises(convert.ConversionError, match='cannot read'):
    convert_torch.convert_torch(str(tmp_path / 'junk.pth'), 'resnet_v1_18',
                                str(tmp_path / 'x.ckpt'))
  assert sorted(os.listdir(tmp_path)) == ['junk.pth']


def randomize_keras(model, seed=0):
  rng = np.random.RandomState(seed)
  for layer in model.layers:
    if layer.name.endswith('_bn'):
      gamma, beta, mean, variance = layer.get_weights()
      layer.set_weights([rng.uniform(0.5, 1.5, gamma.shape),
                         rng.uniform(-0.2, 0.2, beta.shape),
                         rng.uniform(-0.2, 0.2, mean.shape),
                         rng.uniform(0.5, 1.5, variance.shape)])
  return model


@pytest.fixture(scope='module')
def keras_resnet50v2():
  keras = pytest.importorskip('keras')
  model = keras.applications.ResNet50V2(
      weights=None, input_shape=(64, 64, 3), classes=7,
      classifier_activation=None)
  return randomize_keras(model)


def test_keras_resnet50v2_logits(tmp_path, keras_resnet50v2):
  images = np.random.RandomState(2).uniform(-1, 1, [2, 64, 64, 3]).astype(
      np.float32)
  want = np.asarray(keras_resnet50v2(images, training=False))
  path = str(tmp_path / 'm.keras')
  keras_resnet50v2.save(path)
  prefix = str(tmp_path / 'out' / 'model.ckpt')
  report = convert_keras.convert_keras(path, 'resnet_v2_50', prefix)
  assert report.ignored == {}
  assert model_spec.resolve_model(prefix).preprocessing == 'inception'
  assert len(report.mapped) == 272  # 103 layers' weights, BN as 4 each
  got = slim_logits(prefix, 'resnet_v2_50', 7, images)
  np.testing.assert_allclose(got, want, rtol=1e-4,
                             atol=1e-4 * np.abs(want).max())


def test_keras_v1_is_refused_with_the_reason(tmp_path):
  with pytest.raises(convert.ConversionError, match='strides the first 1x1'):
    convert_keras.convert_keras(str(tmp_path / 'w.h5'), 'resnet_v1_50',
                                str(tmp_path / 'x.ckpt'))


@needs_torch
def test_cli_convert(tmp_path, capsys):
  net = randomize_torch(ResNet(BasicBlock, (2, 2, 2, 2), num_classes=4))
  torch.save(net.state_dict(), tmp_path / 'r18.pth')
  out = tmp_path / 'ckpt' / 'model.ckpt'
  assert cli.main(['convert', '--from', 'torch', str(tmp_path / 'r18.pth'),
                   '--model', 'resnet_v1_18', '--out', str(out)]) == 0
  printed = capsys.readouterr().out
  # conv1 5 + 8 units x 2 convs x 5 + 3 shortcuts x 5 + logits 2.
  assert 'mapped 102 tensors; restored 102 variables, none missing' in printed
  assert sorted(os.listdir(out.parent)) == [
      'labels.txt', 'model.ckpt.data-00000-of-00001', 'model.ckpt.index',
      'model_spec.json']
  assert cli.main(['convert', '--from', 'keras', str(tmp_path / 'r18.pth'),
                   '--model', 'resnet_v1_18', '--out', str(out)]) == 2
  assert 'strides the first 1x1' in capsys.readouterr().err


def test_a_1000_class_conversion_is_labelled_with_imagenets_names(tmp_path,
                                                                  capsys):
  """issue 26 item 15: a converted 1000-class torchvision checkpoint was
  labelled class_N, and each batch norm's num_batches_tracked had a line."""
  from safetensors import numpy as safetensors_numpy  # pylint: disable=g-import-not-at-top
  state = _numpy_resnet18_state(num_classes=1000)
  for name in [n for n in state if n.endswith('running_var')]:
    state[name[:-len('running_var')] + 'num_batches_tracked'] = np.array(
        7, np.int64)
  path = tmp_path / 'r18.safetensors'
  safetensors_numpy.save_file(state, str(path))
  out = tmp_path / 'out' / 'model.ckpt'
  assert cli.main(['convert', '--from', 'torch', str(path), '--model',
                   'resnet_v1_18', '--out', str(out)]) == 0
  printed = capsys.readouterr().out
  imagenet = os.path.join(os.path.dirname(__file__), '..', 'checkpoints',
                          'imagenet_labels.txt')
  with open(imagenet) as f, open(str(out.parent / 'labels.txt')) as g:
    assert g.read().splitlines() == f.read().splitlines()[:1000]
  assert "labels: ImageNet's 1000 classes" in printed
  ignored = [l for l in printed.splitlines() if l.startswith('ignored')]
  assert len(ignored) == 1 and ignored[0].startswith('ignored 20 tensors (')
