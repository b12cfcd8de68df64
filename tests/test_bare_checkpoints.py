"""Checkpoints without our metadata, and checkpoints whose data is damaged.

A bare checkpoint (a research/slim train_dir, any model.ckpt) tells the
model, depth multiplier and classes from its variables; the image size and
preprocessing it cannot tell are research/slim's defaults, said on stderr, or
given. `ckpt check` reads every tensor, and every restore reports unreadable
data in one line.
"""
import json
import os
import shutil

import numpy as np
import pytest

from slim_resnet import cli
from slim_resnet.checkpoints import errors
from slim_resnet.checkpoints import fetch
from slim_resnet.checkpoints import restore_check
from slim_resnet.inference import classifier as inference
from slim_resnet.train import evaluation

SHIPPED = 'digits_resnet_v1_18'


def _copy(tmp_path, name='bare'):
  """The shipped checkpoint's files alone (no manifest entry, no spec)."""
  prefix = fetch.fetch_checkpoint(SHIPPED)
  folder = tmp_path / name
  folder.mkdir()
  for f in os.listdir(os.path.dirname(prefix)):
    if f.startswith('model.ckpt'):
      shutil.copy(os.path.join(os.path.dirname(prefix), f), folder / f)
  return str(folder / 'model.ckpt')


def test_bare_copy_with_the_image_size_equals_the_shipped(sample, tmp_path,
                                                          capsys):
  bare = _copy(tmp_path)
  shipped = evaluation.evaluate(SHIPPED, sample, split='all', batch_size=120,
                                progress=False)
  capsys.readouterr()
  # What the manifest entry says of the shipped one (resize_side_min: its
  # vgg preprocessing does not upscale the 32 px digits to research/slim's
  # default 256 before the crop), given on the command line.
  out = tmp_path / 'given.json'
  assert cli.main(['eval', '--checkpoint', bare, '--dataset', sample,
                   '--split', 'all', '--batch-size', '120', '--no-progress',
                   '--image-size', '32', '--preprocessing', 'vgg',
                   '--preprocessing-option', 'resize_side_min=32',
                   '--output', str(out)]) == 0
  assert json.load(open(out))['top1'] == shipped.top1 > 0.95
  assert 'assumed' not in capsys.readouterr().err
  guessed = evaluation.evaluate(bare, sample, split='all', batch_size=120,
                                progress=False)
  said = capsys.readouterr().err
  assert ('%s has no model_spec.json and no manifest entry: assumed image '
          'size 224 and vgg preprocessing' % bare) in said
  assert '--image-size' in said
  assert guessed.top1 < shipped.top1


def test_bare_copy_tells_its_model_from_its_variables(tmp_path):
  spec = inference.model_spec_lib.resolve_model(_copy(tmp_path))
  assert (spec.model, spec.num_classes, spec.model_options) == (
      'resnet_v1_18', 10, {'depth_multiplier': 0.125})
  assert spec.assumed == ('image_size', 'preprocessing')


def test_ckpt_check_by_manifest_name_uses_its_builder_options(capsys):
  assert cli.main(['ckpt', 'check', SHIPPED]) == 0
  out = capsys.readouterr().out
  assert out.startswith('ok: ')
  assert 'resnet_v1_18 (num_classes=10, depth_multiplier=0.125)' in out
  assert 'tensors read' in out
  assert cli.main(['ckpt', 'check', SHIPPED, '--model', 'resnet_v1_18',
                   '--num-classes', '10']) == 0


def _truncate_data(prefix):
  data = prefix + '.data-00000-of-00001'
  with open(data, 'r+b') as f:
    f.truncate(os.path.getsize(data) // 2)


def test_truncated_data_fails_check_in_one_line(tmp_path, capsys):
  bare = _copy(tmp_path)
  _truncate_data(bare)
  with pytest.raises(errors.CheckpointError, match='cannot read the tensor '
                     'data of .*truncated or corrupt'):
    restore_check.check_restore(bare, 'resnet_v1_18', 10,
                                {'depth_multiplier': 0.125})
  assert cli.main(['ckpt', 'check', bare]) == 2
  err = capsys.readouterr().err.strip().splitlines()
  assert len(err) == 1 and 'cannot read the tensor data' in err[0]


@pytest.mark.parametrize('damage', ['truncate', 'remove'])
def test_restoring_damaged_data_is_one_line(tmp_path, capsys, damage):
  bare = _copy(tmp_path)
  if damage == 'truncate':
    _truncate_data(bare)
  else:
    os.remove(bare + '.data-00000-of-00001')
  image = tmp_path / 'x.png'
  from PIL import Image  # pylint: disable=g-import-not-at-top
  Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(str(image))
  code = cli.main(['classify', str(image), '--checkpoint', bare])
  err = [l for l in capsys.readouterr().err.splitlines()
         if not l.startswith('slim-resnet: note:')]
  assert code == 2
  assert len(err) == 1 and 'Traceback' not in err[0], err
  assert 'cannot read' in err[0]
