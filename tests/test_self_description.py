"""One self-description file (model_spec.json) for every checkpoint, read the
same way however the checkpoint is named, and labels.txt beside any
checkpoint (issue 26, item 1: the shipped checkpoint by its folder was read
at 224 px with labels class_0..class_9 and answered digit_5 -> class_0)."""
import os
import re
import shutil

import pytest

from slim_resnet import cli
from slim_resnet.checkpoints import model_spec

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIPPED_DIR = os.path.join(ROOT, 'checkpoints', 'digits_resnet_v1_18')
SAMPLES = sorted(os.path.join(SHIPPED_DIR, 'samples', name)
                 for name in os.listdir(os.path.join(SHIPPED_DIR, 'samples')))


@pytest.mark.parametrize('checkpoint', [
    'digits_resnet_v1_18', SHIPPED_DIR,
    os.path.join(SHIPPED_DIR, 'model.ckpt')])
def test_classify_answers_the_same_whichever_way_it_is_named(checkpoint,
                                                             capsys):
  assert cli.main(['classify', '--checkpoint', checkpoint, '--top-k', '1']
                  + SAMPLES) == 0
  out = capsys.readouterr().out
  # The digit in each file's name, as the label (labels.txt), not class_N.
  answers = dict(re.findall(r'digit_(\d)\.png\s+1\s+(\S+)\s', out))
  assert answers == {str(d): str(d) for d in range(10)}, out


def test_every_name_gives_one_spec():
  by_name = model_spec.resolve_model('digits_resnet_v1_18')
  by_folder = model_spec.resolve_model(SHIPPED_DIR)
  for field in ('model', 'num_classes', 'image_size', 'preprocessing',
                'preprocessing_options', 'model_options', 'label_offset'):
    assert getattr(by_folder, field) == getattr(by_name, field), field
  assert by_folder.labels() == by_name.labels() == [str(d) for d in range(10)]
  assert model_spec.read_provenance(SHIPPED_DIR)['heldout_images'] == 359


@pytest.mark.parametrize('research_slim_form', [False, True])
def test_labels_txt_beside_a_bare_checkpoint(tmp_path, research_slim_form):
  for name in os.listdir(SHIPPED_DIR):
    if name.startswith('model.ckpt'):  # The checkpoint, no model_spec.json.
      shutil.copy(os.path.join(SHIPPED_DIR, name), str(tmp_path))
  names = ['digit %s' % word for word in (
      'zero one two three four five six seven eight nine'.split())]
  with open(str(tmp_path / 'labels.txt'), 'w') as f:
    for i, name in enumerate(names):
      f.write(('%d:%s\n' % (i, name)) if research_slim_form else name + '\n')
  bare = model_spec.resolve_model(str(tmp_path))
  assert bare.num_classes == 10  # From its variables.
  assert bare.labels() == names



def test_research_slim_label_ids_are_honoured_or_refused(tmp_path):
  """Review of issue 26: 'id:name' lines were kept whole unless they were
  0..n-1 in file order ('1:one' ... labelled digit 0 '1:one')."""
  for name in os.listdir(SHIPPED_DIR):
    if name.startswith('model.ckpt'):
      shutil.copy(os.path.join(SHIPPED_DIR, name), str(tmp_path))
  labels = tmp_path / 'labels.txt'
  labels.write_text(''.join('%d:n%d\n' % (i, i) for i in reversed(range(10))))
  assert model_spec.resolve_model(str(tmp_path)).labels() == [
      'n%d' % i for i in range(10)]
  labels.write_text(''.join('%d:n%d\n' % (i, i) for i in range(1, 11)))
  with pytest.raises(Exception, match="ids are 1, 2, .* not 0..9"):
    model_spec.resolve_model(str(tmp_path)).labels()
