"""The README's checkpoint table is the manifest's, and its commands exist."""
import os
import re
import runpy

import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')


def test_checkpoint_table_is_generated_from_the_manifest():
  script = runpy.run_path(os.path.join(ROOT, 'scripts', 'update_readme.py'))
  assert script['main'](['--check']) == 0


def test_quick_start_has_two_commands_and_ci_runs_the_second():
  readme = open(os.path.join(ROOT, 'README.md')).read()
  quick = readme.split('## Quick start', 1)[1].split('\n## ', 1)[0]
  commands = re.findall(r'```sh\n(.*?)\n```', quick, re.S)
  assert len(commands) == 2
  assert 'slim-resnet classify' in commands[0]
  ci = open(os.path.join(ROOT, '.ci', 'run')).read()
  assert commands[1] in ci


def _run_readme_block(section, cwd):
  """Runs the one ```sh block of a README section, command by command, as
  written (only `.venv/bin/slim-resnet` becomes this interpreter's
  `-m slim_resnet.cli`); returns (the lines, their stdouts)."""
  import shlex  # pylint: disable=g-import-not-at-top
  import subprocess  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top
  readme = open(os.path.join(ROOT, 'README.md')).read()
  text = readme.split('## ' + section, 1)[1].split('\n## ', 1)[0]
  block, = re.findall(r'```sh\n(.*?)\n```', text, re.S)
  lines = block.splitlines()
  env = dict(os.environ, PYTHONPATH=os.path.abspath(ROOT))
  outputs = []
  for line in lines:
    words = shlex.split(line)
    assert words[0] == '.venv/bin/slim-resnet'
    done = subprocess.run([sys.executable, '-m', 'slim_resnet.cli'] +
                          words[1:], cwd=cwd, env=env, timeout=600,
                          capture_output=True, text=True)
    assert done.returncode == 0, (line, done.stderr[-3000:])
    outputs.append(done.stdout)
  return lines, outputs


def test_fine_tune_commands_run_on_the_sample_data(tmp_path):
  """The README's fine-tuning walk-through, command by command."""
  lines, outputs = _run_readme_block('Fine-tune on your own images', tmp_path)
  assert [line.split()[1] for line in lines] == [
      'data', 'data', 'eval', 'train', 'eval', 'export', 'classify']
  before, after = [float(re.search(r'top-1\s+([\d.]+)', outputs[i]).group(1))
                   for i in (2, 4)]
  # The same 70 held-out validation images, before and after fine-tuning
  # (10 classes: chance is 0.1).
  assert '70 images' in outputs[2] and '70 images' in outputs[4]
  assert after > before + 0.3, (outputs[2], outputs[4])
  assert (tmp_path / 'exported' / 'digits' / 'frozen_graph.pb').is_file()
  rows = [r.split() for r in outputs[6].splitlines()[1:]]
  assert len(rows) == len(os.listdir(tmp_path / 'digits' / '7'))
  assert sum(r[2] == '7' for r in rows) >= 0.9 * len(rows)


@pytest.mark.slow
def test_deploy_commands_run_on_the_sample_data(tmp_path):
  """The README's int8 export walk-through: its eval agrees with the
  checkpoint's own on the same validation records, classify reads 7s,
  extract writes the export's feature."""
  import subprocess  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  lines, outputs = _run_readme_block(
      'Deploy: ONNX, OpenVINO and TFLite, in float32, bfloat16 or int8',
      tmp_path)
  assert [line.split()[1] for line in lines] == [
      'data', 'data', 'export', 'eval', 'classify', 'extract']
  assert 'precision int8' in outputs[2] and 'top-1 agreement' in outputs[2]
  reference = subprocess.run(
      [sys.executable, '-m', 'slim_resnet.cli', 'eval', '--checkpoint',
       'digits_resnet_v1_18', '--dataset', 'records', '--no-progress'],
      cwd=tmp_path, env=dict(os.environ, PYTHONPATH=os.path.abspath(ROOT)),
      capture_output=True, text=True, timeout=600, check=True).stdout
  top1 = [float(re.search(r'top-1\s+([\d.]+)', text).group(1))
          for text in (outputs[3], reference)]
  assert '70 images' in outputs[3] and 'precision int8' in outputs[3]
  assert abs(top1[0] - top1[1]) <= 1.5 / 70, (outputs[3], reference)
  rows = [r.split() for r in outputs[4].splitlines()[1:]]
  assert len(rows) == len(os.listdir(tmp_path / 'digits' / '7'))
  assert sum(r[2] == '7' for r in rows) >= 0.9 * len(rows)
  features = np.load(tmp_path / 'features.npz')
  assert features['global_pool'].shape == (359, 64)


def _resolve(dotted):
  """The object a dotted name like slim_resnet.train.evaluate names."""
  import importlib  # pylint: disable=g-import-not-at-top
  parts = dotted.split('.')
  for i in range(len(parts), 0, -1):
    try:
      value = importlib.import_module('.'.join(parts[:i]))
    except ModuleNotFoundError:
      continue
    for attribute in parts[i:]:
      value = getattr(value, attribute)
    return value
  raise ModuleNotFoundError(dotted)


def test_every_import_and_name_the_readme_shows_works():
  """Each `from slim_resnet... import` line of the README's Python blocks
  runs, and each `slim_resnet.x.y` it names exists (the public API survives
  the layout)."""
  readme = open(os.path.join(ROOT, 'README.md')).read()
  blocks = re.findall(r'```python\n(.*?)\n```', readme, re.S)
  imports = [line.split('#')[0].strip() for block in blocks
             for line in block.splitlines()
             if re.match(r'\s*(from|import) slim_resnet', line)]
  imports += re.findall(r'`((?:from|import) slim_resnet[^`]*)`', readme)
  assert len(imports) >= 4, imports
  for line in imports:
    exec(line, {})  # pylint: disable=exec-used
  names = set(re.findall(r'`(slim_resnet(?:\.[A-Za-z_]\w*)+)', readme))
  assert len(names) >= 8, names
  for name in sorted(names):
    _resolve(name)


def test_drop_in_module_forms():
  """research/slim's `from nets import resnet_v1` has three spellings here,
  all the same module."""
  import importlib  # pylint: disable=g-import-not-at-top
  import slim_resnet.resnet_v1  # pylint: disable=g-import-not-at-top
  from slim_resnet import resnet_v1  # pylint: disable=g-import-not-at-top
  for name in ('resnet_utils', 'resnet_v1', 'resnet_v2', 'resnet_decoder',
               'configs', 'nets_factory'):
    module = importlib.import_module('slim_resnet.' + name)
    assert module.__file__.endswith(os.path.join('slim_resnet', name + '.py'))
  assert slim_resnet.resnet_v1 is resnet_v1
  assert slim_resnet.resnet_v1.resnet_v1_50 is resnet_v1.resnet_v1_50


@pytest.mark.slow
def test_beam_commands_run_on_the_sample_data(tmp_path):
  """The README's Beam block as written: every sample digit once, with the
  feature the checkpoint gives it in one process."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  from slim_resnet.inference import classifier, extraction  # pylint: disable=g-import-not-at-top
  lines, outputs = _run_readme_block(
      'Extract features past one machine: Apache Beam', tmp_path)
  assert [line.split()[1] for line in lines] == ['data', 'extract']
  assert 'wrote 359 inputs' in outputs[1]
  found = extraction.load_features(str(tmp_path / 'features'))
  order = np.argsort(found['paths'])
  paths = [str(p) for p in found['paths'][order]]
  assert len(set(paths)) == 359
  with classifier.FeatureExtractor(end_points=['global_pool']) as fx:
    expected = extraction.pool(fx.extract(
        [os.path.join(tmp_path, p) for p in paths])['global_pool'], 'avg')
  np.testing.assert_allclose(found['global_pool'][order], expected, rtol=0,
                             atol=1e-6 * np.abs(expected).max())
