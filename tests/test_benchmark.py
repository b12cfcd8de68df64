"""scripts/benchmark.py runs end to end (--quick) and writes every row.

No timing assertions: figures are checked for presence and sign only.
"""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')


@pytest.mark.slow
def test_quick_benchmark_writes_every_row(tmp_path):
  out = tmp_path / 'bench.json'
  env = dict(os.environ, PYTHONPATH=ROOT)
  proc = subprocess.run(
      [sys.executable, os.path.join(ROOT, 'scripts', 'benchmark.py'),
       '--quick', '--json', str(out)], env=env, capture_output=True,
      text=True, timeout=1800, check=False)
  assert proc.returncode == 0, proc.stderr[-2000:]
  results = json.load(open(out))
  import runpy  # pylint: disable=g-import-not-at-top
  rows = runpy.run_path(os.path.join(ROOT, 'scripts', 'benchmark.py'))[
      'DEFAULT_ROWS']
  assert sorted(results['rows']) == sorted(rows), results['skipped']
  for name, row in results['rows'].items():
    for key in ('infer_b1', 'infer_b2', 'build_s', 'restore_s', 'peak_rss_mb'):
      assert row[key] > 0, (name, key)
    if not name.endswith('_optimized'):
      assert row['train_b2'] > 0
  assert results['rows']['tf_slim_v1_50']['ratio_infer_b2'] == 1.0
  assert 'ratios to the tf-slim reference' in proc.stdout


@pytest.mark.slow
def test_quick_benchmark_bf16_writes_agreement_columns(tmp_path):
  from slim_resnet.inference import precision  # pylint: disable=g-import-not-at-top
  if not precision.cpu_bfloat16_support():
    pytest.skip('CPU without avx512_bf16/amx_bf16')
  out = tmp_path / 'bench.json'
  rows = ['tf_slim_v1_50', 'slim_resnet_v1_50_bf16',
          'slim_resnet_v1_50_frozen_bf16']
  proc = subprocess.run(
      [sys.executable, os.path.join(ROOT, 'scripts', 'benchmark.py'),
       '--quick', '--precision', 'bfloat16', '--models', ','.join(rows),
       '--json', str(out)], env=dict(os.environ, PYTHONPATH=ROOT),
      capture_output=True, text=True, timeout=1800, check=False)
  assert proc.returncode == 0, proc.stderr[-2000:]
  results = json.load(open(out))
  assert sorted(results['rows']) == sorted(rows), results['skipped']
  for name in rows[1:]:
    row = results['rows'][name]
    assert row['precision'] == 'bfloat16'
    assert 0 < row['max_abs_logit_diff'] and 0 <= row['rel_logit_diff'] < 0.1
    assert 0 <= row['top1_agreement'] <= 1
  assert 'bfloat16' in results['peak_gflops']
  assert 'top1_agreement' in proc.stdout


@pytest.mark.slow
def test_quick_benchmark_writes_nothing_unasked_and_no_startup_lines(
    tmp_path):
  """issue 26 item 16: it wrote benchmark.json into the working directory
  unasked, and printed TensorFlow's start-up lines (a cuInit error too)."""
  from slim_resnet.commands import quiet  # pylint: disable=g-import-not-at-top
  env = dict(os.environ, PYTHONPATH=ROOT)
  env.pop('TF_CPP_MIN_LOG_LEVEL', None)  # As a user's shell has it.
  proc = subprocess.run(
      [sys.executable, os.path.join(ROOT, 'scripts', 'benchmark.py'),
       '--quick', '--models', 'tf_slim_v1_50', '--batch-sizes', '1'],
      env=env, cwd=str(tmp_path), capture_output=True, text=True,
      timeout=1800, check=False)
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert os.listdir(str(tmp_path)) == []
  assert 'tf_slim_v1_50' in proc.stdout
  assert not quiet.STARTUP_LINES.search(proc.stdout + proc.stderr), (
      proc.stderr[-2000:])


@pytest.mark.slow
def test_quick_benchmark_runtime_rows(tmp_path):
  """--runtimes adds <runtime>_<precision> rows beside the reference, with
  the agreement columns and the instruction set; float32 exports agree
  with the float32 session (an independent graph: the export's file on its
  runtime, the checkpoint in TensorFlow)."""
  out = tmp_path / 'bench.json'
  proc = subprocess.run(
      [sys.executable, os.path.join(ROOT, 'scripts', 'benchmark.py'),
       '--quick', '--runtimes', 'tflite,openvino', '--precision',
       'float32,int8', '--json', str(out)],
      env=dict(os.environ, PYTHONPATH=ROOT), capture_output=True, text=True,
      timeout=1800, check=False)
  assert proc.returncode == 0, proc.stderr[-2000:]
  results = json.load(open(out))
  rows = ['tf_slim_v1_50', 'tflite_float32', 'tflite_int8',
          'openvino_float32', 'openvino_int8']
  assert sorted(results['rows']) == sorted(rows), results['skipped']
  for name in rows[1:]:
    row = results['rows'][name]
    assert row['infer_b1'] > 0 and row['ratio_infer_b2'] > 0
    assert row['precision'] == name.rsplit('_', 1)[1]
    assert row['isa'] in ('AVX2', 'AVX-512', 'AVX-VNNI', 'AVX512-VNNI',
                          'AMX-INT8')
    assert 0 <= row['top1_agreement'] <= 1
  for name in ('tflite_float32', 'openvino_float32'):
    assert results['rows'][name]['rel_logit_diff'] < 1e-4
  assert 'openvino_int8' in proc.stdout and 'instructions' in proc.stdout
