"""Makes tf-slim 1.1.0 work on the installed TensorFlow.

Why this exists: tf-slim 1.1.0 (the last release on PyPI) builds its layers on
`tensorflow.python.layers`. From TensorFlow 2.16 on, that module's batch
normalization is a lazy alias of `tf_keras.legacy_tf_layers.normalization`,
but tf-keras moved the package to `tf_keras.src.legacy_tf_layers`. The first
`slim.batch_norm` call then fails with

    ModuleNotFoundError: No module named 'tf_keras.legacy_tf_layers'

This module installs an import hook that answers `tf_keras.legacy_tf_layers`
(and its submodules) with the modules at their new home. Nothing is imported
eagerly: tf_keras is loaded only when TensorFlow first asks for the old name.
On TensorFlow < 2.16 the old name is never asked for and the hook is inert.
It also silences the `layer.apply is deprecated` warning that tf-slim's layers
trigger on every layer.

`slim_resnet/__init__.py` imports this module before anything imports
tf_slim; import it yourself (`import slim_resnet.compat`) before
`import tf_slim` only if you use tf_slim without going through slim_resnet.
"""
import contextlib
import importlib
import importlib.abc
import importlib.util
import sys
import warnings

OLD_PACKAGE = 'tf_keras.legacy_tf_layers'
NEW_PACKAGE = 'tf_keras.src.legacy_tf_layers'


class _AliasLoader(importlib.abc.Loader):
  """Loads a module by importing it under its new name."""

  def __init__(self, new_name):
    self._new_name = new_name

  def create_module(self, spec):
    module = importlib.import_module(self._new_name)
    self._real_spec = module.__spec__
    return module

  def exec_module(self, module):
    # Already executed under its new name; importlib has just overwritten its
    # __spec__ with the alias spec, so put the real one back.
    module.__spec__ = self._real_spec


class LegacyTfLayersFinder(importlib.abc.MetaPathFinder):
  """Maps `tf_keras.legacy_tf_layers[.x]` to `tf_keras.src.legacy_tf_layers[.x]`."""

  def find_spec(self, fullname, path=None, target=None):
    if fullname != OLD_PACKAGE and not fullname.startswith(OLD_PACKAGE + '.'):
      return None
    new_name = NEW_PACKAGE + fullname[len(OLD_PACKAGE):]
    if importlib.util.find_spec(new_name) is None:
      return None
    return importlib.util.spec_from_loader(fullname, _AliasLoader(new_name))


def install():
  """Installs the import hook, once per process."""
  if not any(isinstance(f, LegacyTfLayersFinder) for f in sys.meta_path):
    # First, so the path finder does not load a second copy of a submodule
    # from the aliased package's __path__.
    sys.meta_path.insert(0, LegacyTfLayersFinder())


install()

# tf-slim's layers call the deprecated `layer.apply` of TF's legacy layers on
# every conv and batch norm; the warning says nothing a user can act on.
warnings.filterwarnings('ignore', message='`layer.apply` is deprecated',
                        category=UserWarning)


@contextlib.contextmanager
def graph_mode_equality():
  """Builds TF1 graphs about 2x faster, with no change in behaviour.

  Under TF2 behaviour every hash or == of a variable first asks whether
  execution is eager, and the legacy layers under tf-slim put all global
  variables in a set for each new weight: graph building goes quadratic in
  those checks (half the build time of resnet_v1_101). In a TF1 graph (not
  eager, not a tf.function) equality of tensors and variables is identity
  either way, so while such a graph is built this switches TensorFlow's
  `Tensor._USE_EQUALITY` off and restores it after. Elsewhere it does
  nothing. The flag is process-wide: do not build eager code on another
  thread at the same time.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from tensorflow.python.framework import tensor as tensor_lib  # pylint: disable=g-import-not-at-top,g-direct-tensorflow-import
  graph = tf.compat.v1.get_default_graph()
  if tf.executing_eagerly() or graph.building_function:
    yield
    return
  previous = tensor_lib.Tensor._USE_EQUALITY  # pylint: disable=protected-access
  tensor_lib.Tensor._USE_EQUALITY = False  # pylint: disable=protected-access
  try:
    yield
  finally:
    tensor_lib.Tensor._USE_EQUALITY = previous  # pylint: disable=protected-access
