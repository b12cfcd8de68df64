"""The README's checkpoint table is the manifest's, and its commands exist."""
import os
import re
import runpy

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


def test_fine_tune_commands_run_on_the_sample_data(tmp_path):
  """The README's fine-tuning walk-through, command by command, as written
  (only `.venv/bin/slim-resnet` becomes this interpreter's `-m slim_resnet.cli`)."""
  import shlex  # pylint: disable=g-import-not-at-top
  import subprocess  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top
  readme = open(os.path.join(ROOT, 'README.md')).read()
  section = readme.split('## Fine-tune on your own images', 1)[1].split(
      '\n## ', 1)[0]
  block, = re.findall(r'```sh\n(.*?)\n```', section, re.S)
  lines = block.splitlines()
  assert [line.split()[1] for line in lines] == [
      'data', 'data', 'eval', 'train', 'eval', 'export', 'classify']
  env = dict(os.environ, PYTHONPATH=os.path.abspath(ROOT))
  outputs = []
  for line in lines:
    words = shlex.split(line)
    assert words[0] == '.venv/bin/slim-resnet'
    done = subprocess.run([sys.executable, '-m', 'slim_resnet.cli'] +
                          words[1:], cwd=tmp_path, env=env, timeout=600,
                          capture_output=True, text=True)
    assert done.returncode == 0, (line, done.stderr[-3000:])
    outputs.append(done.stdout)
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
