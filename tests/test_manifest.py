"""The manifest: every entry valid and consistent with the models."""
import json

import pytest

import slim_resnet
from slim_resnet import configs
from slim_resnet.checkpoints import errors
from slim_resnet.checkpoints import manifest
from slim_resnet.preprocessing import preprocessing_factory

OFFICIAL = ['resnet_v1_50', 'resnet_v1_101', 'resnet_v1_152', 'resnet_v2_50',
            'resnet_v2_101', 'resnet_v2_152']


def test_every_entry_fits_its_model():
  specs = manifest.load_manifest()
  assert set(OFFICIAL) <= set(specs)
  for spec in specs.values():
    builder = slim_resnet.get_network(spec.model)
    assert spec.logits_scope == spec.model + '/logits'
    assert preprocessing_factory.preprocessing_name(spec.preprocessing)
    assert spec.label_offset == (1 if spec.num_classes == 1001 else 0)
    assert builder.architecture.depth in configs.DEPTHS
    if spec.url:
      assert spec.archive_name.startswith(spec.name)
      assert spec.checkpoint_file == spec.name + '.ckpt'


def test_official_preprocessing_choice():
  """v1: vgg at 224 (research/slim's factory). v2: inception at 299, as
  research/slim's README says they were trained, not the factory's vgg."""
  for name in OFFICIAL:
    spec = manifest.get_spec(name)
    if name.startswith('resnet_v1'):
      assert (spec.preprocessing, spec.image_size, spec.num_classes) == (
          'vgg', 224, 1000)
    else:
      assert (spec.preprocessing, spec.image_size, spec.num_classes) == (
          'inception', 299, 1001)
  assert manifest.get_spec('resnet_v1_50').sha256 == (
      '91a0dc25289e7ef648df304b15f06c43ce6f4446d08eb0168479dd2295101c73')


def test_unknown_name_lists_known():
  with pytest.raises(errors.ManifestError, match='known: resnet_v1_50'):
    manifest.get_spec('resnet_v9')


@pytest.mark.parametrize('entry,message', [
    ({'model': 'resnet_v1_50'}, 'num_classes must be a int'),
    ({'preprocessing': 'caffe'}, 'preprocessing must be one of'),
    ({'url': None, 'path': None}, 'needs a url'),
    ({'sha256': 'abc'}, 'sha256 must be 64 hex'),
    ({'colour': 'red'}, 'unknown fields colour')])
def test_validation(tmp_path, entry, message):
  good = json.load(open(manifest.assets.asset_path('manifest.json')))
  raw = dict(good['checkpoints']['resnet_v1_50'])
  if 'num_classes' in message:
    del raw['num_classes']
  raw.update(entry)
  path = tmp_path / 'manifest.json'
  path.write_text(json.dumps({'checkpoints': {'x': raw}}))
  with pytest.raises(errors.ManifestError, match=message):
    manifest.load_manifest(str(path))
