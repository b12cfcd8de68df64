"""Runs the test suites shipped in the installed tf-slim, plain and with slim_resnet.

    python scripts/tf_slim_suites.py                      # every suite but nets/
    python scripts/tf_slim_suites.py --suites learning data/tfexample_decoder
    python scripts/tf_slim_suites.py --mode ours --json out.json --jobs 2

Each `tf_slim/**/*_test.py` (nets/ aside) is copied into a temporary folder
twice: once as it is ("plain") and once next to a conftest.py that runs
`import slim_resnet` before the suite is imported ("ours"). Both copies get
the same few repairs of the test files' own NumPy-2 incompatibilities
(REPAIRS; `--no-repair` to run them as shipped), so the two columns differ
only by slim_resnet. Every copy runs in
its own `python -m pytest` process (`--jobs` at a time, default 2) and the
result is read from pytest's JUnit XML. The table gives, per suite, the passes
out of the tests run in each mode (tests the suite itself skips, such as
tf.test.TestCase's test_session, are left out) and the tests that still fail with
slim_resnet; `--json` writes the same as JSON (every failing test id with the
first line of its error). A suite that does not import counts 0 passes out of
the tests the other mode collected.

Exit code: 0 if every suite run with slim_resnet passes but for
KNOWN_FAILURES (tests about a TensorFlow behaviour TensorFlow changed), or with
`--mode plain`; 1 otherwise; 2 on an unknown suite name.
"""
import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

MODES = ('plain', 'ours')
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The shipped test files' own code that current NumPy rejects (not tf-slim's
# library code, which slim_resnet.compat fixes): the same textual repair goes into both
# copies, so both modes measure tf-slim itself. --no-repair runs the files as
# shipped. (suite, old text, new text, why)
REPAIRS = (
    ('data/tfexample_decoder', '.tostring()', '.tobytes()',
     'ndarray.tostring, deprecated since NumPy 1.19, is gone from the NumPy 2.4 we run'),
    ('layers/sparse_ops', 'np.bool)', 'np.bool_)',
     'the np.bool alias was removed in NumPy 1.24'),
    ('layers/sparse_ops', 'np.object)', 'np.object_)',
     'the np.object alias was removed in NumPy 1.24'),
    ('losses/metric_learning', 'astype(np.float)', 'astype(np.float64)',
     'the np.float alias was removed in NumPy 1.24'),
) + tuple(
    (suite, 'int(2 * self._labels[i] +', 'int(2 * self._labels[i, 0] +',
     'int() of a 1-element 1-d array, deprecated since NumPy 1.25, is an error in the NumPy 2.4 we run')
    for suite in ('learning', 'training/training', 'training/evaluation')) + (
    ('metrics/metric_ops_large', 'np.product(', 'np.prod(',
     'np.product was removed in NumPy 2.0'),
    ('layers/layers', 'np.product(', 'np.prod(',
     'np.product was removed in NumPy 2.0'),
    ('metrics/classification',
     'self.assertAlmostEqual(2 * 0.5 * 1 / (1 + 0.5), f1.eval())',
     'self.assertAlmostEqual(2 * 0.5 * 1 / (1 + 0.5), float(f1.eval()))',
     'NumPy 2 (NEP 50) computes python float - np.float32 in float32, so '
     'the float32 F1 (2/3 to 6e-8, from the epsilon) no longer meets 7 places; '
     'float() gives the float64 difference NumPy 1 took'),
    ('evaluation', 'DumpingDebugHook(dumping_root, log_usage=False)',
     'DumpingDebugHook(dumping_root)',
     "tfdbg's DumpingDebugHook lost its log_usage argument (usage logging "
     'was removed with tfdbg v1); the test is about tf-slim passing hooks on'),
)

# Tests still failing with slim_resnet because their own assertion is about a
# TensorFlow behaviour TensorFlow changed, not about tf-slim: they are
# reported as expected and do not fail the run. {suite: {test: why}}
KNOWN_FAILURES = {
    'layers/layers': {
        'DropoutTest.testCreateDropout':
            "asserts the name of the last op inside TensorFlow's dropout "
            "('dropout/dropout_1/mul_1'); tf.nn.dropout now ends in a "
            'SelectV2 (x * scale where kept, 0 elsewhere) instead of a Mul by '
            'the mask, so the op is Dropout/dropout_1/SelectV2',
    },
    'metrics/metric_ops': {
        'CountTest.testReturnType':
            "asserts that metrics.count's update op (TensorFlow's assign_add "
            'on a resource variable) is an Operation, Tensor or '
            'tf.compat.v1.Variable; assign_add returns an _UnreadVariable, '
            'a BaseResourceVariable, which TensorFlow no longer derives from '
            'VariableV1 (tf.compat.v1.Variable) since it moved VariableV1 to '
            'variable_v1.py',
    },
    'ops/variables': {
        'VariablesTest.testVariableWithReplicaDeviceSetter':
            'asserts device strings such as /job:ps/task:0/cpu:0, where the '
            '/cpu:0 came from tf.test.TestCase.cached_session(), which pinned '
            'its graph to /device:CPU:0; cached_session now defaults to '
            'use_gpu=True and pins no device, so the variables (correctly '
            'on /job:ps/task:0) carry no CPU part',
    },
}
_PYTEST_INI = """[pytest]
addopts = -p no:cacheprovider
filterwarnings =
    ignore::DeprecationWarning
    ignore::UserWarning
"""
_CONFTEST = """# Written by slim_resnet's scripts/tf_slim_suites.py: the "ours" mode.
import slim_resnet  # noqa: F401  pylint: disable=unused-import
"""


def tf_slim_dir():
  """The installed tf_slim package folder, found without importing it."""
  import importlib.util  # pylint: disable=g-import-not-at-top
  spec = importlib.util.find_spec('tf_slim')
  if spec is None:
    raise SystemExit('tf_slim is not installed: pip install tf-slim==1.1.0')
  return os.path.dirname(spec.origin)


def list_suites(root=None):
  """Suite names (`data/tfexample_decoder`, `learning`, ...), nets/ aside."""
  root = root or tf_slim_dir()
  names = []
  for folder, dirs, files in os.walk(root):
    dirs[:] = sorted(d for d in dirs if d != 'nets' and d != '__pycache__')
    for f in files:
      if f.endswith('_test.py'):
        rel = os.path.relpath(os.path.join(folder, f), root)
        names.append(rel[:-len('_test.py')].replace(os.sep, '/'))
  return sorted(names)


def _repaired(suite, text):
  for name, old, new, _ in REPAIRS:
    if name == suite:
      if old not in text:
        raise RuntimeError('%s_test.py no longer contains %r: update REPAIRS'
                           % (suite, old))
      text = text.replace(old, new)
  return text


def _copy_suites(root, suites, workdir, repair=True):
  """Copies each suite's file under workdir/<mode>/; returns {mode: dir}."""
  dirs = {}
  for mode in MODES:
    d = os.path.join(workdir, mode)
    os.makedirs(d)
    with open(os.path.join(d, 'pytest.ini'), 'w') as f:
      f.write(_PYTEST_INI)
    if mode == 'ours':
      with open(os.path.join(d, 'conftest.py'), 'w') as f:
        f.write(_CONFTEST)
    for suite in suites:
      # Flat file names: no packages, so `import tf_slim...` in a test always
      # means the installed package.
      with open(os.path.join(root, suite + '_test.py'), encoding='utf-8') as f:
        text = f.read()
      with open(os.path.join(d, suite.replace('/', '__') + '_test.py'), 'w',
                encoding='utf-8') as f:
        f.write(_repaired(suite, text) if repair else text)
    dirs[mode] = d
  return dirs


def _first_line(element):
  text = element.get('message') or element.text or ''
  text = text.strip().splitlines()
  return text[0][:200] if text else element.tag


def _parse_junit(path):
  """(passed, failed, skipped, {test id: first error line}) from JUnit XML."""
  tree = ET.parse(path)
  passed = skipped = 0
  failures = {}
  for case in tree.iter('testcase'):
    name = '%s.%s' % (case.get('classname', ''), case.get('name', ''))
    bad = [c for c in case if c.tag in ('failure', 'error')]
    if bad:
      failures[name] = _first_line(bad[0])
    elif any(c.tag == 'skipped' for c in case):
      skipped += 1
    else:
      passed += 1
  return passed, len(failures), skipped, failures


def run_one(suite, mode, directory, timeout):
  """Runs one copied suite under pytest; returns a result dict."""
  test_file = suite.replace('/', '__') + '_test.py'
  xml_path = os.path.join(directory, test_file + '.xml')
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2', PYTHONDONTWRITEBYTECODE='1',
             CUDA_VISIBLE_DEVICES='')
  # The working tree's slim_resnet (the "ours" conftest imports it), not an
  # installed copy; tf_slim is the installed one either way.
  env['PYTHONPATH'] = REPO_ROOT
  start = time.time()
  try:
    proc = subprocess.run(
        [sys.executable, '-m', 'pytest', '-q',
         '--rootdir', directory, '--junitxml', xml_path, test_file],
        cwd=directory, env=env, capture_output=True, text=True,
        timeout=timeout)
    output = proc.stdout + proc.stderr
    code = proc.returncode
  except subprocess.TimeoutExpired:
    output, code = 'timed out after %ds' % timeout, -1
  result = {'suite': suite, 'mode': mode, 'returncode': code,
            'seconds': round(time.time() - start, 1), 'passed': 0,
            'failed': 0, 'skipped': 0, 'failures': {}, 'imports': True}
  if os.path.exists(xml_path):
    (result['passed'], result['failed'], result['skipped'],
     result['failures']) = _parse_junit(xml_path)
  result['expected_failures'] = expected_failures(suite, result['failures'])
  # pytest's exit code 2 with only a collection error: the file did not import.
  collect_errors = [k for k in result['failures'] if k.endswith('.')
                    or k.startswith('.') or k.split('.')[-1] == test_file[:-3]]
  if code in (2, 3, 4, -1) and result['passed'] == 0 and (
      not result['failures'] or collect_errors):
    result['imports'] = False
    result['error'] = _import_error(output)
    result['failed'] = 0
    result['failures'] = {}
    result['expected_failures'] = []
  return result


def expected_failures(suite, failures):
  """The test ids among `failures` that KNOWN_FAILURES lists for `suite`."""
  known = KNOWN_FAILURES.get(suite, {})
  return sorted(k for k in failures if k.split('.', 1)[-1] in known)


def _import_error(output):
  for line in output.splitlines():
    if 'Error' in line and (line.startswith('E ') or ':' in line):
      return line.lstrip('E ').strip()[:200]
  return output.strip().splitlines()[-1][:200] if output.strip() else '?'


def run_suites(suites, modes=MODES, jobs=2, timeout=1800, root=None,
               repair=True):
  """Runs suites in each mode, `jobs` processes at a time.

  Returns:
    {suite: {mode: result dict}}, result dicts as from run_one.
  """
  root = root or tf_slim_dir()
  workdir = tempfile.mkdtemp(prefix='tf_slim_suites_')
  try:
    dirs = _copy_suites(root, suites, workdir, repair)
    results = {s: {} for s in suites}
    # Slowest first, so the two processes finish together.
    order = sorted(((s, m) for s in suites for m in modes),
                   key=lambda sm: -os.path.getsize(
                       os.path.join(root, sm[0] + '_test.py')))
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
      futures = [pool.submit(run_one, s, m, dirs[m], timeout) for s, m in order]
      for future in concurrent.futures.as_completed(futures):
        r = future.result()
        results[r['suite']][r['mode']] = r
    return results
  finally:
    shutil.rmtree(workdir, ignore_errors=True)


def _total(by_mode):
  """Tests run (skipped ones aside), in the mode that collected most."""
  return max(r['passed'] + r['failed'] for r in by_mode.values())


def _cell(r, total):
  if not r['imports']:
    return 'does not import (0 / %d)' % total
  return '%d / %d' % (r['passed'], total)


def table(results, modes=MODES):
  """The Markdown table: one row per suite, then the totals."""
  heads = {'plain': 'plain tf-slim', 'ours': 'with `import slim_resnet`'}
  lines = ['| suite | %s | still failing |' % ' | '.join(heads[m] for m in modes),
           '|---|%s---|' % ('---|' * len(modes))]
  sums = {m: 0 for m in modes}
  grand = 0
  for suite in sorted(results):
    by_mode = results[suite]
    total = _total(by_mode)
    grand += total
    cells = []
    for m in modes:
      sums[m] += by_mode[m]['passed']
      cells.append(_cell(by_mode[m], total))
    last = by_mode[modes[-1]]
    expected = expected_failures(suite, last['failures'])
    if not last['imports']:
      failing = last.get('error', '')
    else:
      failing = ', '.join(
          k.split('.', 1)[-1] + (' (expected)' if k in expected
                                 else '')
          for k in sorted(last['failures']))
    lines.append('| %s | %s | %s |' % (suite, ' | '.join(cells), failing or '-'))
  lines.append('| **all %d suites** | %s | |' % (
      len(results), ' | '.join('**%d / %d**' % (sums[m], grand) for m in modes)))
  return '\n'.join(lines)


def details():
  """Markdown lists of KNOWN_FAILURES and REPAIRS, for the README."""
  lines = ['Still failing with slim_resnet (each asserts a TensorFlow behaviour '
           'that TensorFlow changed):', '']
  for suite in sorted(KNOWN_FAILURES):
    for test, why in sorted(KNOWN_FAILURES[suite].items()):
      lines.append('- `%s` %s: %s.' % (suite, test, why))
  lines += ['', "Repairs of the shipped test files' own code, applied in both "
            'columns (`--no-repair` runs them as shipped):', '']
  for suite, old, new, why in REPAIRS:
    lines.append('- `%s`: `%s` -> `%s` (%s).' % (suite, old, new, why))
  return '\n'.join(lines)


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--suites', nargs='*', metavar='SUITE',
                      help='suite names such as learning or data/'
                      'tfexample_decoder, or a folder such as data/ '
                      '(default: all but nets/)')
  parser.add_argument('--mode', choices=('both',) + MODES, default='both')
  parser.add_argument('--jobs', type=int, default=2)
  parser.add_argument('--timeout', type=int, default=1800,
                      help='seconds per suite run (default 1800)')
  parser.add_argument('--no-repair', action='store_true',
                      help='run the test files exactly as shipped (see REPAIRS)')
  parser.add_argument('--json', metavar='PATH', help='also write the results')
  parser.add_argument('--list', action='store_true', help='list the suites')
  parser.add_argument('--details', action='store_true',
                      help='also print the expected failures and the repairs')
  parser.add_argument('--from-json', metavar='PATH',
                      help='print the table of an earlier --json run')
  args = parser.parse_args(argv)
  if args.from_json:
    with open(args.from_json) as f:
      results = json.load(f)
    modes = tuple(m for m in MODES if all(m in r for r in results.values()))
    print(table(results, modes))
    if args.details:
      print('\n' + details())
    return 0
  available = list_suites()
  if args.list:
    print('\n'.join(available))
    return 0
  suites = []
  for name in args.suites or available:
    name = name[:-len('_test.py')] if name.endswith('_test.py') else name
    matched = [s for s in available
               if s == name or (name.endswith('/') and s.startswith(name))]
    if not matched:
      print('unknown suite %r: expected one of %s (see --list)' % (
          name, ', '.join(available)), file=sys.stderr)
      return 2
    suites.extend(m for m in matched if m not in suites)
  modes = MODES if args.mode == 'both' else (args.mode,)
  results = run_suites(suites, modes, jobs=args.jobs, timeout=args.timeout,
                        repair=not args.no_repair)
  print(table(results, modes))
  if args.details:
    print('\n' + details())
  if args.json:
    with open(args.json + '.tmp', 'w') as f:
      json.dump(results, f, indent=1, sort_keys=True)
    os.replace(args.json + '.tmp', args.json)
  if 'ours' in modes:
    ok = all(r['ours']['imports'] and set(r['ours']['failures']) <= set(
        expected_failures(suite, r['ours']['failures']))
             for suite, r in results.items())
    return 0 if ok else 1
  return 0


if __name__ == '__main__':
  sys.exit(main())
