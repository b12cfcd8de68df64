"""What `pip install -e .` puts in a fresh virtualenv: one TensorFlow and no
CUDA or torch wheels (what pip would install, from `pip install --dry-run
--report`; and the distributions of the environment the tests run in)."""
import importlib.metadata
import json
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))

# Distributions that each install the `tensorflow` package folder.
TENSORFLOWS = ('tensorflow', 'tensorflow-cpu', 'tensorflow-gpu',
               'tensorflow-intel', 'tensorflow-macos', 'tensorflow-aarch64',
               'tensorflow-cpu-aws', 'tf-nightly', 'tf-nightly-cpu')


def _normalize(name):
  return re.sub(r'[-_.]+', '-', name).lower()


@pytest.fixture(scope='module')
def venv(tmp_path_factory):
  path = tmp_path_factory.mktemp('venv')
  subprocess.run([sys.executable, '-m', 'venv', str(path)], check=True,
                 timeout=300)
  return path


def _would_install(venv, tmp_path, requirement):
  report = tmp_path / 'report.json'
  done = subprocess.run(
      [str(venv / 'bin' / 'pip'), 'install', '--dry-run', '--quiet',
       '--report', str(report), '-e', requirement],
      cwd=ROOT, capture_output=True, text=True, timeout=600)
  assert done.returncode == 0, done.stderr[-3000:]
  return sorted(_normalize(item['metadata']['name'])
                for item in json.loads(report.read_text())['install'])


def test_fresh_venv_gets_one_tensorflow_and_no_cuda(venv, tmp_path):
  # [cpu] (an alias of the base) and [test]: what the README installs.
  names = _would_install(venv, tmp_path, ROOT + '[cpu,test]')
  assert [n for n in names if n in TENSORFLOWS] == ['tensorflow'], names
  assert 'tf-keras' in names and 'tf-slim' in names
  assert not [n for n in names if n.startswith('nvidia-') or
              n in ('torch', 'triton')], names


def test_this_environment_has_one_tensorflow():
  names = {_normalize(d.metadata['Name'])
           for d in importlib.metadata.distributions()}
  assert sorted(names & set(TENSORFLOWS)) == ['tensorflow']
