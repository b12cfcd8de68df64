"""Makes tf-slim 1.1.0 work on the installed TensorFlow.

Why this exists: tf-slim 1.1.0 (the last release on PyPI) reaches into
`tensorflow.python`, and TensorFlow has since moved many of the names it uses.
Two kinds of repair, both installed only by importing this module (which
`import slim_resnet` does); a plain `import tf_slim` is left as it is.

1. Batch norm. From TensorFlow 2.16 on, `tensorflow.python.layers`'s batch
   normalization is a lazy alias of `tf_keras.legacy_tf_layers.normalization`,
   but tf-keras moved the package to `tf_keras.src.legacy_tf_layers`. The first
   `slim.batch_norm` call then fails with

       ModuleNotFoundError: No module named 'tf_keras.legacy_tf_layers'

   The import hook answers `tf_keras.legacy_tf_layers` (and its submodules)
   with the modules at their new home, when TensorFlow first asks for them.

2. Moved TensorFlow symbols (`TABLE` below): `ops.IndexedSlices`,
   `array_ops.stack`, `control_flow_ops.cond`, `variables.VariableV1`, ...
   Each row names the old module and attribute, its new home, the TensorFlow
   release that dropped the old name and the tf-slim call sites that need it.
   An alias is set only where the old attribute is really missing, so nothing
   TensorFlow still defines is ever shadowed. Rows marked `fix` replace a
   tf-slim function that no alias can repair, with the reason beside it.

When: the same import hook (a `sys.meta_path` finder) also watches for the
first import of `tf_slim`. Just before tf_slim's `__init__` runs, it imports
TensorFlow (which tf_slim is about to do anyway) and applies the table; if
tf_slim is already imported when this module is, the table is applied at once.
Nothing is imported eagerly: importing this module imports neither TensorFlow
nor tf_keras. On a TensorFlow where the old names still exist every alias row
is a no-op.

It also silences the `layer.apply is deprecated` warning that tf-slim's layers
trigger on every layer.

`slim_resnet/__init__.py` imports this module before anything imports
tf_slim; import it yourself (`import slim_resnet.compat`) before
`import tf_slim` only if you use tf_slim without going through slim_resnet.

The same hook answers `tensorflow.contrib` as research/slim imports it
(compat.contrib). The rest of the package: tf_slim_fixes (the fixed tf-slim
functions), hparams (contrib.training.HParams) and legacy (`slim-resnet run`:
research/slim's scripts and TF1-style tests unchanged, in TF1 behaviour).
"""
import collections
import contextlib
import importlib
import importlib.abc
import importlib.util
import sys
import warnings

OLD_PACKAGE = 'tf_keras.legacy_tf_layers'
NEW_PACKAGE = 'tf_keras.src.legacy_tf_layers'
TF_SLIM = 'tf_slim'
CONTRIB = 'tensorflow.contrib'


class Moved(collections.namedtuple(
    'Moved', ['old', 'new', 'tf_version', 'used_by', 'fix'])):
  """One row of TABLE.

  old: 'module:attribute' that tf-slim reaches.
  new: 'module:attribute' that answers it.
  tf_version: the TensorFlow release from which `old` is missing.
  used_by: the tf-slim call sites (and shipped tests) that need it.
  fix: False for an alias of a moved TensorFlow symbol (set only where `old`
    is missing); True for a fixed tf-slim function that replaces `old`.
  """
  __slots__ = ()

  def __new__(cls, old, new, tf_version, used_by, fix=False):
    return super().__new__(cls, old, new, tf_version, used_by, fix)


_OPS = 'tensorflow.python.framework.ops'
_ARRAY = 'tensorflow.python.ops.array_ops'
_CFO = 'tensorflow.python.ops.control_flow_ops'
_VS = 'tensorflow.python.ops.variable_scope'
_VARS = 'tensorflow.python.ops.variables'
_TOGGLE = 'tensorflow.python.ops.resource_variables_toggle'

# Every TensorFlow name tf-slim 1.1.0 reaches that TensorFlow has moved, and
# every tf-slim function fixed here. Versions: the first release without the
# old name ("<= 2.16" where only an upper bound was checked).
TABLE = (
    Moved(_OPS + ':IndexedSlices',
          'tensorflow.python.framework.indexed_slices:IndexedSlices', '<= 2.16',
          'learning.clip_gradient_norms, learning.multiply_gradients, '
          'learning.add_gradients_summaries; learning_test'),
    Moved(_OPS + ':Tensor', 'tensorflow.python.framework.tensor:Tensor',
          '<= 2.16',
          'learning.multiply_gradients, layers.optimizers.optimize_loss, '
          'layers.rev_block_lib.recompute_grad; metrics/metric_ops_test'),
    Moved(_ARRAY + ':stack', 'tensorflow.python.ops.array_ops_stack:stack',
          '2.13',
          'data.tfexample_decoder (Tensor with shape_keys, BoundingBox), '
          'metrics.metric_ops (_streaming_confusion_matrix_at_thresholds, '
          'streaming_curve_points, streaming_concat), '
          'layers.legacy_fully_connected'),
    Moved(_ARRAY + ':unstack', 'tensorflow.python.ops.array_ops_stack:unstack',
          '2.13', 'layers.legacy_fully_connected'),
    Moved(_CFO + ':cond', 'tensorflow.python.ops.cond:cond', '2.14',
          'metrics.metric_ops (streaming_dynamic_auc, '
          'auc_with_confidence_intervals, recall_at_precision, '
          'streaming_concat), layers.utils.smart_cond'),
    Moved(_CFO + ':case', 'tensorflow.python.ops.control_flow_case:case',
          '2.14', 'data.tfexample_decoder.Image (jpeg / png / raw switch); '
          'tfexample_decoder_test'),
    Moved(_CFO + ':Assert', 'tensorflow.python.ops.control_flow_assert:Assert',
          '<= 2.16', 'metrics.histogram_ops.auc_using_histogram'),
    Moved(_CFO + ':while_loop', 'tensorflow.python.ops.while_loop:while_loop',
          '<= 2.16', 'losses.metric_learning.cluster_loss (its NMI and PAM '
          'loops)'),
    Moved(_VS + ':variable', 'tensorflow.python.ops.variable_v1:VariableV1',
          '<= 2.16', 'ops.variables.local_variable, ops.variables.'
          'global_variable (keyword arguments only, so the signatures agree)'),
    Moved(_VARS + ':VariableV1', 'tensorflow.python.ops.variable_v1:VariableV1',
          '<= 2.16', 'ops/variables_test'),
    Moved(_VS + ':enable_resource_variables',
          _TOGGLE + ':enable_resource_variables', '<= 2.16',
          'ops/variables_test, layers/optimizers_test, '
          'metrics/metric_ops_test'),
    Moved(_VS + ':disable_resource_variables',
          _TOGGLE + ':disable_resource_variables', '<= 2.16',
          'ops/variables_test, layers/optimizers_test'),
    Moved(_VS + ':resource_variables_enabled',
          _TOGGLE + ':resource_variables_enabled', '<= 2.16',
          'ops/variables_test'),
    # Fixes (see tf_slim_fixes.py for each reason). tf_slim re-exports
    # ops.variables' names at top level, so both names are replaced.
    Moved('tf_slim.ops.variables:assign_from_checkpoint',
          'slim_resnet.compat.tf_slim_fixes:assign_from_checkpoint', '-',
          'learning.assign_from_checkpoint users (init_fn); NumPy >= 1.23 '
          'rejects its list-of-slices index for partitioned variables',
          fix=True),
    Moved('tf_slim:assign_from_checkpoint',
          'slim_resnet.compat.tf_slim_fixes:assign_from_checkpoint', '-',
          'slim.assign_from_checkpoint (same fix)', fix=True),
)


def _split(dotted):
  module, _, attribute = dotted.partition(':')
  return module, attribute


def resolve(dotted):
  """The object named by 'module:attribute' (imports the module)."""
  module, attribute = _split(dotted)
  return getattr(importlib.import_module(module), attribute)


def apply_table(table=TABLE, fixes=None):
  """Sets every alias of `table` whose old name is missing; returns them.

  With fixes=True also (and only) sets the `fix` rows; tf_slim must then be
  importable. Idempotent.

  Returns:
    The rows applied by this call.
  """
  applied = []
  for row in table:
    if row.fix != bool(fixes):
      continue
    module_name, attribute = _split(row.old)
    module = importlib.import_module(module_name)
    if not row.fix and hasattr(module, attribute):
      continue  # TensorFlow still has it (and may lack the new home).
    new = resolve(row.new)
    if getattr(module, attribute, None) is not new:
      setattr(module, attribute, new)
      applied.append(row)
  return applied


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


class _LoaderApplyingTable(importlib.abc.Loader):
  """tf_slim's own loader, with TABLE applied around its `__init__`."""

  def __init__(self, loader):
    self._loader = loader

  def create_module(self, spec):
    return self._loader.create_module(spec)

  def exec_module(self, module):
    apply_table()  # TensorFlow aliases before tf_slim's code runs.
    self._loader.exec_module(module)
    apply_table(fixes=True)

  def __getattr__(self, name):  # get_resource_reader, is_package, ...
    return getattr(self._loader, name)


class LegacyTfLayersFinder(importlib.abc.MetaPathFinder):
  """Maps `tf_keras.legacy_tf_layers[.x]` to `tf_keras.src.legacy_tf_layers[.x]`.

  Also hands out tf_slim's own spec with a loader that applies TABLE, and
  answers `tensorflow.contrib[.x]` (compat.contrib).
  """

  def find_spec(self, fullname, path=None, target=None):
    if fullname == TF_SLIM:
      return self._tf_slim_spec(fullname, path, target)
    if fullname.startswith(CONTRIB):
      from slim_resnet.compat import contrib  # pylint: disable=g-import-not-at-top
      return contrib.find_spec(fullname, _AliasLoader)
    if fullname != OLD_PACKAGE and not fullname.startswith(OLD_PACKAGE + '.'):
      return None
    new_name = NEW_PACKAGE + fullname[len(OLD_PACKAGE):]
    if importlib.util.find_spec(new_name) is None:
      return None
    return importlib.util.spec_from_loader(fullname, _AliasLoader(new_name))

  def _tf_slim_spec(self, fullname, path, target):
    for finder in sys.meta_path:
      if finder is self or isinstance(finder, LegacyTfLayersFinder):
        continue
      find = getattr(finder, 'find_spec', None)
      spec = find(fullname, path, target) if find else None
      if spec is not None:
        if spec.loader is not None:
          spec.loader = _LoaderApplyingTable(spec.loader)
        return spec
    return None


def install():
  """Installs the import hook, once per process.

  If tf_slim is already imported, applies TABLE now.
  """
  if not any(isinstance(f, LegacyTfLayersFinder) for f in sys.meta_path):
    # First, so the path finder does not load a second copy of a submodule
    # from the aliased package's __path__.
    sys.meta_path.insert(0, LegacyTfLayersFinder())
  if TF_SLIM in sys.modules:
    apply_table()
    apply_table(fixes=True)


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
