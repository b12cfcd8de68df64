"""Small checks the rest of the suite missed: each fails on a realistic
one-line bug (named in its docstring)."""
import os

import pytest

from slim_resnet import files
from slim_resnet.checkpoints import restorer


def test_scope_matching_needs_the_slash_boundary():
  """Catches in_scopes matching by prefix: 'unit_1' matching 'unit_10'."""
  scopes = ['resnet_v1_50/block3/unit_1', 'resnet_v1_50/logits/']
  assert restorer.in_scopes('resnet_v1_50/block3/unit_1/conv1/weights', scopes)
  assert restorer.in_scopes('resnet_v1_50/block3/unit_1', scopes)
  assert restorer.in_scopes('resnet_v1_50/logits/biases', scopes)
  assert not restorer.in_scopes('resnet_v1_50/block3/unit_10/conv1/weights',
                                scopes)
  assert not restorer.in_scopes('resnet_v1_50/block3/unit_12', scopes)
  assert not restorer.in_scopes('resnet_v1_50/logits_new/biases', scopes)


class Boom(Exception):
  pass


@pytest.mark.parametrize('where', ['write', 'rename'])
@pytest.mark.parametrize('old', [None, b'old contents'])
def test_atomic_write_failing_midway_leaves_the_old_file(tmp_path, monkeypatch,
                                                         where, old):
  """Catches writing in place (open(path, 'wb')), and a failed write that
  leaves path.tmp behind."""
  path = str(tmp_path / 'out.bin')
  if old is not None:
    with open(path, 'wb') as f:
      f.write(old)

  def write(f):
    f.write(b'new, half')
    if where == 'write':
      raise Boom()
    f.write(b' and the rest')
  if where == 'rename':
    def replace(src, dst):
      raise Boom()
    monkeypatch.setattr(os, 'replace', replace)
  with pytest.raises(Boom):
    files.atomic_write(path, write)
  monkeypatch.undo()
  assert os.listdir(tmp_path) == ([] if old is None else ['out.bin'])
  if old is not None:
    with open(path, 'rb') as f:
      assert f.read() == old
  files.atomic_write_text(path, 'whole')
  with open(path) as f:
    assert f.read() == 'whole'
  assert os.listdir(tmp_path) == ['out.bin']
