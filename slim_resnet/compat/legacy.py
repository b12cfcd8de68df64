"""The legacy launcher: research/slim's scripts and TF1-style tests, unchanged.

    slim-resnet run train_image_classifier.py --train_dir=/tmp/train ...
    python -m slim_resnet eval_image_classifier.py --checkpoint_path=...
    slim-resnet run -m pytest nets/resnet_v1_test.py
    python -m pytest -p slim_resnet.compat.legacy nets/resnet_v1_test.py

`run SCRIPT.py ARGS` does what `python SCRIPT.py ARGS` did on the TensorFlow
1.15 research/slim was written for. enable() first sets up the process as
that code assumes:

1. compat's import hook (installed by `import slim_resnet`): tf-slim 1.1.0
   repaired for the installed TensorFlow, and the `tensorflow.contrib`
   modules research/slim imports (compat.contrib).
2. TF1 behaviour, `tf.compat.v1.disable_v2_behavior()`: graph mode (no eager
   execution: `slim.learning.train`'s Supervisor, `tf.placeholder`,
   `self.test_session()` and `.eval()` need it), reference variables, v1
   TensorShape, v1 control flow and v1 tf.data.
3. `tf.contrib` as an attribute of `tensorflow.compat.v1`.
4. The NumPy aliases of NUMPY_ALIASES that NumPy has removed (`np.int`, ...),
   set only where missing and only by enable(): importing slim_resnet (or
   this module) patches nothing.

Then the script runs as `__main__`, with sys.argv = [SCRIPT.py] + ARGS and
its folder first on sys.path, as `python SCRIPT.py` puts it; `-m MODULE`
runs a module as `python -m MODULE` does (the current folder first on
sys.path). It is the user's program: its output, exit code and tracebacks
pass through as they are (no slim-resnet error boundary, no filtered
TensorFlow log lines).

As a pytest plugin (`python -m pytest -p slim_resnet.compat.legacy`),
enable() runs before the conftest.py files and test modules are imported.
(`python -m`: research/slim's folder has an __init__.py, so the `pytest`
script puts its parent on sys.path instead, and `from nets import` fails.)
"""
import builtins
import importlib.machinery
import importlib.util
import io
import os
import runpy
import sys
import types
import warnings
import zipfile

USAGE = """usage: slim-resnet run SCRIPT.py [ARG ...]
       slim-resnet run -m MODULE [ARG ...]
       python -m slim_resnet SCRIPT.py [ARG ...]  (or -m MODULE [ARG ...])

Runs a TF1-era script (research/slim's train_image_classifier.py,
eval_image_classifier.py, export_inference_graph.py, ...) or module (-m pytest
for TF1-style tests) unchanged on the installed TensorFlow: tf-slim repaired,
tensorflow.contrib as research/slim imports it, TF1 graph behaviour, and the
NumPy aliases removed since NumPy 1.24. Its output and exit code are the
script's own. pytest users: python -m pytest -p slim_resnet.compat.legacy ...
"""

# (name, value, the NumPy release that removed it). Each is set only where
# the installed NumPy lacks it. research/slim calls np.int
# (nets/mobilenet/mobilenet_v3.py, datasets/build_imagenet_data.py); the rest
# are the same family as TF1-era code and tests wrote them.
NUMPY_ALIASES = (
    ('int', int, '1.24'),
    ('float', float, '1.24'),
    ('bool', bool, '1.24'),
    ('object', object, '1.24'),
    ('complex', complex, '1.24'),
    ('str', str, '1.24'),
    ('long', int, '1.24'),
    ('unicode', str, '1.24'),
    ('float_', 'float64', '2.0'),
    ('complex_', 'complex128', '2.0'),
    ('string_', 'bytes_', '2.0'),
    ('unicode_', 'str_', '2.0'),
    ('product', 'prod', '2.0'),
    ('cumproduct', 'cumprod', '2.0'),
    ('sometrue', 'any', '2.0'),
    ('alltrue', 'all', '2.0'),
    ('NaN', 'nan', '2.0'),
    ('Inf', 'inf', '2.0'),
)

_enabled = False


def add_numpy_aliases():
  """Sets each missing alias of NUMPY_ALIASES on numpy; returns their names."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  added = []
  for name, value, _ in NUMPY_ALIASES:
    if name in vars(np):
      continue
    with warnings.catch_warnings():
      warnings.simplefilter('ignore')  # NumPy 2's FutureWarning for np.object.
      if hasattr(np, name):
        continue  # Still provided (NumPy < the release that removed it).
    setattr(np, name, getattr(np, value) if isinstance(value, str) else value)
    added.append(name)
  return added


def enable():
  """Sets up this process as TF1-era code expects (see the module doc).

  Call it before the program builds any graph or tensor. Idempotent.
  """
  global _enabled
  if _enabled:
    return
  import slim_resnet  # pylint: disable=g-import-not-at-top,unused-import
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from slim_resnet.compat import contrib  # pylint: disable=g-import-not-at-top
  tf.compat.v1.disable_v2_behavior()
  contrib.attach_to_compat_v1()
  add_numpy_aliases()
  _enabled = True


def _set_first_path(folder):
  """sys.path[0] (the launcher's own folder) becomes `folder`, as Python
  sets it for a script or -m; nothing under `python -P` (safe_path)."""
  if getattr(sys.flags, 'safe_path', False):
    return
  if sys.path:
    sys.path[0] = folder
  else:
    sys.path.insert(0, folder)


def _exec_as_main(path):
  """Runs the file as the process's __main__ module, as CPython does:
  __file__ (and the code's file name) absolute, sys.argv[0] as given."""
  absolute = os.path.abspath(path)
  main = types.ModuleType('__main__')
  main.__dict__.update(__file__=absolute, __builtins__=builtins,
                       __loader__=importlib.machinery.SourceFileLoader(
                           '__main__', absolute),
                       __spec__=None, __package__=None, __cached__=None)
  with io.open_code(absolute) as f:
    code = compile(f.read(), absolute, 'exec', dont_inherit=True)
  sys.modules['__main__'] = main
  exec(code, main.__dict__)  # pylint: disable=exec-used


def run_script(path, args):
  """Runs `path` as `python path *args` would, after enable(): a file, or a
  folder or zip file with a __main__.py.

  Returns only if the script returns; its SystemExit and exceptions pass
  through.
  """
  sys.argv = [path] + list(args)
  if os.path.isdir(path) or zipfile.is_zipfile(path):
    _set_first_path(path)
    enable()
    runpy.run_path(path, run_name='__main__')
    return
  _set_first_path(os.path.dirname(os.path.realpath(path)))
  enable()
  _exec_as_main(path)


def run_module(name, args):
  """Runs module `name` as `python -m name *args` would, after enable().

  Raises:
    ModuleNotFoundError: no module `name` (main() makes it one line).
  """
  sys.argv = [name] + list(args)  # run_module puts the module's file here.
  _set_first_path(os.getcwd())
  enable()
  runpy.run_module(name, run_name='__main__', alter_sys=True)


def main(argv):
  """`slim-resnet run ARGV` / `python -m slim_resnet ARGV`.

  Returns 0 (help) or 2 (no script) itself; otherwise the script's own exit
  (its SystemExit, or its exception) ends the process.
  """
  argv = list(argv)
  if not argv or argv[0] in ('-h', '--help'):
    (sys.stdout if argv else sys.stderr).write(USAGE)
    return 0 if argv else 2
  if argv[0] == '-m':
    if len(argv) < 2:
      sys.stderr.write('slim-resnet run: error: -m needs a module name '
                       '(e.g. -m pytest)\n')
      return 2
    _set_first_path(os.getcwd())  # As python -m: a module here is found.
    if importlib.util.find_spec(argv[1].split('.')[0] or argv[1]) is None:
      sys.stderr.write('slim-resnet run: error: no module named %r (is it '
                       'installed in this environment? e.g. pip install '
                       '%s)\n' % (argv[1], argv[1].split('.')[0]))
      return 2
    run_module(argv[1], argv[2:])
    return 0
  if argv[0].startswith('-'):
    sys.stderr.write('slim-resnet run: error: unknown option %s: the script '
                     'comes first, its own flags after it\n%s'
                     % (argv[0], USAGE))
    return 2
  if not os.path.exists(argv[0]):
    sys.stderr.write("slim-resnet run: error: can't open file %r: no such "
                     'file (expected a Python script, or -m MODULE)\n'
                     % argv[0])
    return 2
  run_script(argv[0], argv[1:])
  return 0


def pytest_load_initial_conftests(early_config, parser, args):
  """pytest plugin hook: enable() before conftest.py files are imported."""
  del early_config, parser, args
  enable()


def pytest_configure(config):
  """pytest plugin hook (`python -m pytest -p slim_resnet.compat.legacy`)."""
  # pytest resets the warning filters around each test: keep compat's.
  config.addinivalue_line('filterwarnings',
                          'ignore:`layer.apply` is deprecated:UserWarning')
  enable()
