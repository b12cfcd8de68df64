"""Bad input through slim_resnet.cli.main, in-process: one line on stderr, no
traceback, exit 2 (1 when only some images were skipped), nothing half
written; and training on a dataset without one usable example."""
import os

import numpy as np
import pytest
from PIL import Image

from slim_resnet import cli
from slim_resnet import training
from slim_resnet.data import datasets

SHIPPED = 'digits_resnet_v1_18'


def undecodable_folder(root, classes=('a', 'b'), per_class=3):
  for name in classes:
    os.makedirs(os.path.join(root, name))
    for i in range(per_class):
      with open(os.path.join(root, name, '%d.png' % i), 'w') as f:
        f.write('not an image\n')
  return str(root)


@pytest.mark.parametrize('split', ['train', 'all'])
def test_training_without_usable_examples_writes_nothing(tmp_path, split):
  """All images undecodable: DatasetError before step 1, train_dir empty.

  Catches MonitoredTrainingSession swallowing the end of data (global_step 0,
  model.ckpt-0 written, success)."""
  data = undecodable_folder(tmp_path / 'data')
  train_dir = tmp_path / 'run'
  with pytest.raises(datasets.DatasetError, match=r'no usable examples: (\d) '
                     r'files, \1 failed to decode \(not an image'):
    training.train(training.TrainConfig(
        train_dir=str(train_dir), dataset=data, split=split,
        checkpoint=SHIPPED, checkpoint_exclude_scopes=['resnet_v1_18/logits'],
        batch_size=2, max_steps=3, progress=False))
  assert not train_dir.exists() or not os.listdir(train_dir)


def test_training_on_an_empty_split_is_a_user_error(tmp_path, capsys):
  """One image per class: the validation split is empty (CLI: exit 2)."""
  data = tmp_path / 'data'
  for name in ('a', 'b'):
    (data / name).mkdir(parents=True)
    Image.fromarray(np.full([8, 8, 3], 9, np.uint8)).save(data / name / '0.png')
  train_dir = tmp_path / 'run'
  rc = cli.main(['train', '--dataset', str(data), '--split', 'validation',
                 '--train-dir', str(train_dir), '--checkpoint', SHIPPED,
                 '--checkpoint-exclude-scopes', 'resnet_v1_18/logits',
                 '--max-steps', '2', '--batch-size', '2', '--no-progress'])
  err = capsys.readouterr().err
  assert rc == 2, err
  assert 'Traceback' not in err and len(err.strip().splitlines()) == 1, err
  assert not train_dir.exists() or not os.listdir(train_dir)


def test_a_bug_keeps_its_traceback(monkeypatch, capsys):
  """A bare ValueError from our code is a bug, not a user error (catches the
  old boundary that turned every ValueError/KeyError/OSError into exit 2)."""
  from slim_resnet.commands import summary  # pylint: disable=g-import-not-at-top

  def broken(args):
    raise ValueError('an internal invariant')
  monkeypatch.setattr(summary, 'run', broken)
  assert cli.main(['summary', 'resnet_v1_50']) == 3
  err = capsys.readouterr().err
  assert 'Traceback' in err and 'a bug in slim_resnet' in err


@pytest.mark.parametrize('how', ['flag', 'env'])
def test_debug_shows_the_trace_of_a_user_error(monkeypatch, capsys, how):
  argv = ['summary', 'resnet_v3_50']
  if how == 'flag':
    argv.append('--debug')
  else:
    monkeypatch.setenv('SLIM_RESNET_DEBUG', '1')
  assert cli.main(argv) == 2
  err = capsys.readouterr().err
  assert 'Traceback' in err and err.rstrip().splitlines()[-1].startswith(
      'slim-resnet summary: error: Name of network unknown')
