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
