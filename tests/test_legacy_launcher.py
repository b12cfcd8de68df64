"""The legacy launcher (`slim-resnet run`, `python -m slim_resnet`, the pytest
plugin): TF1-era scripts and tests in research/slim's manner run unchanged,
as `python SCRIPT.py` ran them on TensorFlow 1.15.

Each fixture in tests/legacy/ is also run without the launcher, to show that
it needs what the launcher provides (and so that these tests fail when the
launcher stops providing it).
"""
import io
import json
import os
import shutil
import subprocess
import sys

import numpy as np
from PIL import Image
import pytest
import tensorflow as tf

import recordutil

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, 'tests', 'legacy')
ENV = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL='2')
LAUNCHER = [sys.executable, '-m', 'slim_resnet.cli', 'run']


def _run(argv, cwd, timeout=600):
  return subprocess.run(argv, capture_output=True, text=True, cwd=cwd,
                        env=ENV, timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.fixture(scope='module')
def scripts(tmp_path_factory):
  """tests/legacy/ copied to a folder of its own (no pytest.ini, no
  conftest.py of ours above it)."""
  folder = tmp_path_factory.mktemp('legacy')
  for name in os.listdir(FIXTURES):
    if name.endswith('.py'):
      shutil.copy(os.path.join(FIXTURES, name), str(folder))
  return str(folder)


def _report(done):
  assert done.stdout.strip(), done.stderr[-3000:]
  return json.loads(done.stdout.strip().splitlines()[-1])


def test_script_runs_as_main_with_its_argv_folder_and_exit_code(scripts,
                                                                tmp_path):
  done = _run(LAUNCHER + [os.path.join(scripts, 'report_process.py'), '7',
                          '--any=flag'], cwd=str(tmp_path))
  assert done.returncode == 7, done.stderr[-3000:]
  seen = _report(done)
  assert seen == {
      'argv': [os.path.join(scripts, 'report_process.py'), '7', '--any=flag'],
      'path0': scripts, 'name': '__main__', 'eager': False, 'np_int': 3,
      'contrib_slim': 'tf_slim',
      'file': os.path.join(scripts, 'report_process.py')}


def test_python_dash_m_slim_resnet_is_the_same_launcher(scripts):
  done = _run([sys.executable, '-m', 'slim_resnet', 'report_process.py', '0'],
              cwd=scripts)
  assert done.returncode == 0, done.stderr[-3000:]
  seen = _report(done)
  assert seen['argv'] == ['report_process.py', '0']  # As given; __file__
  assert seen['file'] == os.path.join(scripts, 'report_process.py')  # absolute
  assert seen['path0'] == scripts and seen['eager'] is False


def test_the_scripts_traceback_passes_through_untouched(scripts):
  done = _run(LAUNCHER + ['report_process.py', 'raise'], cwd=scripts)
  assert done.returncode == 1  # As `python SCRIPT.py` exits on an exception.
  assert done.stderr.rstrip().endswith(
      'RuntimeError: raised by the script itself'), done.stderr[-3000:]
  assert 'slim-resnet' not in done.stderr.split('Traceback')[0]
  assert 'internal error' not in done.stderr


def test_without_the_launcher_the_same_script_fails(scripts):
  done = _run([sys.executable, 'report_process.py', '0'], cwd=scripts)
  assert done.returncode == 1
  # Eager TF2, and NumPy without np.int: the first line that needs the
  # launcher fails.
  assert "has no attribute 'int'" in done.stderr, done.stderr[-3000:]


def test_importing_slim_resnet_patches_neither_numpy_nor_tensorflow():
  done = subprocess.run([sys.executable, '-c', '''
import numpy as np
import slim_resnet
from slim_resnet.compat import legacy
import tensorflow.compat.v1 as tf
from tensorflow.contrib import slim
assert not hasattr(np, 'int')
assert tf.executing_eagerly()
assert not hasattr(tf, 'contrib')
'''], capture_output=True, text=True, env=ENV, timeout=300)
  assert done.returncode == 0, done.stderr[-3000:]


def test_usage_errors_are_one_line_and_exit_2(tmp_path):
  for argv, expected in ((['run'], 'usage: slim-resnet run SCRIPT.py'),
                         (['run', 'missing.py'], "can't open file"),
                         (['run', '-m'], '-m needs a module name'),
                         (['run', '-m', 'no_such_module_x'],
                          "no module named 'no_such_module_x'"),
                         (['run', '--eager', 'x.py'], 'unknown option')):
    done = _run([sys.executable, '-m', 'slim_resnet.cli'] + argv,
                cwd=str(tmp_path))
    assert done.returncode == 2, (argv, done.stderr)
    assert expected in done.stderr.splitlines()[0], (argv, done.stderr)


# Training in research/slim's manner ----------------------------------------

def _write_records(folder, count=12, classes=3):
  """research/slim's record format (datasets/dataset_utils.image_to_tfexample),
  written here with PIL and tf.train.Example only."""
  rng = np.random.RandomState(0)
  path = os.path.join(folder, 'tiny_train_00000-of-00001.tfrecord')
  with tf.io.TFRecordWriter(path) as writer:
    for i in range(count):
      label = i % classes
      pixels = np.full((20, 20, 3), 40 + 80 * label, np.uint8)
      pixels += rng.randint(0, 30, pixels.shape).astype(np.uint8)
      png = io.BytesIO()
      Image.fromarray(pixels).save(png, format='PNG')
      writer.write(recordutil.slim_example(png.getvalue(), label))


def test_slim_learning_train_with_contrib_imports_runs_its_steps(scripts,
                                                                 tmp_path):
  data = tmp_path / 'data'
  data.mkdir()
  _write_records(str(data))
  train_dir = tmp_path / 'train'
  argv = ['slim_style_train.py', '--train_dir=%s' % train_dir,
          '--dataset_dir=%s' % data, '--max_number_of_steps=3']
  done = _run(LAUNCHER + argv, cwd=scripts)
  assert done.returncode == 0, done.stderr[-4000:]
  assert 'global step 3: loss' in done.stderr, done.stderr[-4000:]
  # The Supervisor's final checkpoint, read back by TensorFlow.
  reader = tf.train.load_checkpoint(str(train_dir))
  assert reader.get_tensor('global_step') == 3
  assert reader.get_tensor('conv1/weights').shape == (3, 3, 3, 8)  # np.int
  assert reader.get_tensor('logits/weights').shape == (8, 3)

  # research/slim's --quantize_delay: the rewriter is called and says why
  # it cannot run.
  done = _run(LAUNCHER + argv + ['--quantize_delay=0'], cwd=scripts)
  assert done.returncode == 1
  last = done.stderr.strip().splitlines()[-1]
  assert last.startswith('slim_resnet.compat.contrib.'
                         'QuantizationNotAvailableError: tensorflow.contrib.'
                         'quantize.create_training_graph: quantization-aware '
                         'training is not available'), last
  assert 'post-training int8' in last

  # And without the launcher: research/slim's first failure.
  done = _run([sys.executable] + argv, cwd=scripts)
  assert done.returncode == 1
  assert "No module named 'tensorflow.contrib'" in done.stderr


# TF1-style tests ------------------------------------------------------------

def _pytest_summary(done):
  return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ''


@pytest.mark.parametrize('how', ['plugin', 'launcher'])
def test_tf1_style_test_case_passes_in_graph_mode(scripts, how):
  args = ['tf1_style_checks.py', '-q', '-p', 'no:cacheprovider']
  if how == 'plugin':
    argv = [sys.executable, '-m', 'pytest', '-p', 'slim_resnet.compat.legacy']
  else:
    argv = LAUNCHER + ['-m', 'pytest']
  done = _run(argv + args, cwd=scripts)
  assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
  assert '2 passed' in _pytest_summary(done), done.stdout[-2000:]
  # compat's filter of tf-slim's `layer.apply` warnings outlives pytest's
  # per-test reset of the filters.
  assert 'warning' not in _pytest_summary(done), done.stdout[-2000:]


def test_tf1_style_test_case_fails_in_eager_mode(scripts):
  # `-p slim_resnet` installs the import hook (tensorflow.contrib imports)
  # but leaves TensorFlow eager: both tests fail, as research/slim's do.
  done = _run([sys.executable, '-m', 'pytest', '-p', 'slim_resnet',
               'tf1_style_checks.py', '-q', '-p', 'no:cacheprovider'],
              cwd=scripts)
  assert done.returncode == 1
  assert '2 failed' in _pytest_summary(done), done.stdout[-2000:]
  assert 'tf.placeholder() is not compatible with eager execution' in (
      done.stdout)


def test_dash_m_finds_a_module_in_the_current_folder(scripts):
  """As `python -m MODULE`: the current folder is searched first. (Through
  the console script, whose sys.path[0] is its bin folder, not the cwd.)"""
  console = os.path.join(os.path.dirname(sys.executable), 'slim-resnet')
  assert os.path.exists(console), console
  done = _run([console, 'run', '-m', 'report_process', '5'], cwd=scripts)
  assert done.returncode == 5, done.stderr[-3000:]
  assert _report(done)['name'] == '__main__'
