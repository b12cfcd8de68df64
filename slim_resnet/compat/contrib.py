"""`tensorflow.contrib`, as research/slim and TF1-era slim code import it.

TensorFlow 2 has no `tensorflow.contrib`; research/slim's latest scripts still
import it at module top (`from tensorflow.contrib import quantize as
contrib_quantize`), and its NASNet builds its configs with
`contrib_training.HParams`. compat's import hook answers exactly the modules
of `CONTRIB` below, each from what it became:

    from tensorflow.contrib import slim         # is tf_slim
    from tensorflow.contrib import quantize     # imports; its rewriters raise
    from tensorflow.contrib.training import HParams

Any other `tensorflow.contrib.X` fails to import with a ModuleNotFoundError
that says so (as it would without this module, with the reason), however it
is imported: `import tensorflow.contrib.rnn`, `from tensorflow.contrib import
rnn` and `from tensorflow.contrib.training import X` alike. (So a public
name these modules lack raises that error, not AttributeError: Python's
`from` import would otherwise replace the reason with "cannot import name".) Importing
one of these modules sets `tensorflow.contrib` as the import system always
does; `tf.contrib` as an attribute of `tensorflow.compat.v1` is set only by
the legacy launcher (compat.legacy).
"""
import collections
import importlib
import importlib.abc
import importlib.util
import types

PACKAGE = 'tensorflow.contrib'


class Answer(collections.namedtuple('Answer', ['name', 'kind', 'targets',
                                               'used_by'])):
  """One row of CONTRIB.

  name: the module under tensorflow.contrib ('slim', 'quantize', ...).
  kind: 'alias' (the module `targets[0]` itself, and its submodules by the
    same path), or 'names' (a module of the public names of `targets`, looked
    up in order when first used).
  targets: module names, or 'module:attribute' for single names.
  used_by: the call sites that need it.
  """
  __slots__ = ()


_QUANTIZE = 'slim_resnet.compat.contrib'

CONTRIB = (
    Answer('slim', 'alias', ('tf_slim',),
           'TF1-era code: `from tensorflow.contrib import slim`, '
           '`slim = tf.contrib.slim`, `tensorflow.contrib.slim.nets`'),
    Answer('layers', 'alias', ('tf_slim.layers',),
           'contrib_layers.batch_norm / layer_norm / xavier_initializer / '
           'l2_regularizer (tf_slim.layers is what they became)'),
    Answer('framework', 'names', ('tf_slim.ops.arg_scope',
                                  'tf_slim.ops.variables',
                                  'tf_slim.ops.framework_ops'),
           'contrib_framework.arg_scope / add_arg_scope / get_variables / '
           'assign_from_checkpoint_fn (research/slim before 2020; '
           'deeplab-style nets)'),
    Answer('quantize', 'names', (_QUANTIZE + ':create_training_graph',
                                 _QUANTIZE + ':create_eval_graph',
                                 _QUANTIZE + ':experimental_create_training_graph',
                                 _QUANTIZE + ':experimental_create_eval_graph'),
           'research/slim train_image_classifier.py:24, '
           'eval_image_classifier.py:25, export_inference_graph.py:61, '
           'nets/mobilenet_v1_train.py:24, nets/mobilenet_v1_eval.py:25 '
           '(called only with --quantize_delay >= 0 / --quantize)'),
    Answer('training', 'names', ('slim_resnet.compat.hparams:HParams',),
           'research/slim nets/nasnet/nasnet.py:27, nets/nasnet/pnasnet.py:27 '
           '(HParams(...), set_hparam, copy.deepcopy), so nets_factory '
           'imports'),
)
_BY_NAME = {answer.name: answer for answer in CONTRIB}


class QuantizationNotAvailableError(NotImplementedError):
  """contrib.quantize's graph rewriters: gone with tensorflow.contrib."""


def _no_quantization(function_name):
  def rewrite(*args, **kwargs):
    del args, kwargs
    raise QuantizationNotAvailableError(
        'tensorflow.contrib.quantize.%s: quantization-aware training is not '
        'available on current TensorFlow (tensorflow.contrib was removed in '
        'TensorFlow 2.0 and nothing replaces its graph rewriter); train in '
        'float32 (research/slim: leave --quantize_delay at -1 and --quantize '
        'off) and quantize the trained model after training instead: '
        'post-training int8 quantization (tf.lite.TFLiteConverter with '
        'optimizations=[tf.lite.Optimize.DEFAULT] and a representative '
        'dataset, on the graph from `slim-resnet export`)' % function_name)
  rewrite.__name__ = function_name
  rewrite.__doc__ = ('Raises QuantizationNotAvailableError (contrib.quantize '
                     'has no TF2 replacement).')
  return rewrite


create_training_graph = _no_quantization('create_training_graph')
create_eval_graph = _no_quantization('create_eval_graph')
experimental_create_training_graph = _no_quantization(
    'experimental_create_training_graph')
experimental_create_eval_graph = _no_quantization(
    'experimental_create_eval_graph')


def _not_provided(fullname):
  return ('No module named %r: slim_resnet answers only %s of '
          'tensorflow.contrib (what research/slim imports), and TensorFlow 2 '
          'has no tensorflow.contrib; see the README, "Run research/slim '
          'unchanged"' % (fullname, ', '.join(
              PACKAGE + '.' + a.name for a in CONTRIB)))


def _names_module(fullname, answer):
  """A module whose attributes are looked up in answer.targets on use."""
  module = types.ModuleType(fullname, 'tensorflow.contrib.%s, answered by '
                            'slim_resnet.compat.contrib from %s.' % (
                                answer.name, ', '.join(answer.targets)))

  def getattr_(name):
    if name == '__all__':  # `from ... import *`
      return dir_()
    for target in answer.targets:
      module_name, _, attribute = target.partition(':')
      if attribute:
        if attribute == name:
          return getattr(importlib.import_module(module_name), name)
        continue
      source = importlib.import_module(module_name)
      if name in getattr(source, '__all__', ()):
        return getattr(source, name)
    message = ('%s.%s is not provided: slim_resnet answers only %s of %s' % (
        fullname, name, ', '.join(sorted(dir_())), fullname))
    if name.startswith('_'):
      raise AttributeError(message)
    raise ModuleNotFoundError(message, name='%s.%s' % (fullname, name))

  def dir_():
    names = set()
    for target in answer.targets:
      module_name, _, attribute = target.partition(':')
      if attribute:
        names.add(attribute)
      else:
        names.update(importlib.import_module(module_name).__all__)
    return sorted(names)

  module.__getattr__ = getattr_
  module.__dir__ = dir_
  return module


def _package_module():
  """`tensorflow.contrib` itself: its answered modules load on first use."""
  module = types.ModuleType(PACKAGE, 'tensorflow.contrib as research/slim '
                            'uses it (slim_resnet.compat.contrib).')

  def getattr_(name):
    if name in _BY_NAME:
      return importlib.import_module(PACKAGE + '.' + name)
    if name.startswith('_'):
      raise AttributeError(name)
    raise ModuleNotFoundError(_not_provided(PACKAGE + '.' + name),
                              name=PACKAGE + '.' + name)

  module.__getattr__ = getattr_
  module.__dir__ = lambda: sorted(_BY_NAME)
  return module


class _ModuleLoader(importlib.abc.Loader):
  """Hands out a module made by `make` (or raises what `make` raises)."""

  def __init__(self, make):
    self._make = make

  def create_module(self, spec):
    return self._make()

  def exec_module(self, module):
    pass


def _unavailable(fullname):
  def make():
    raise ModuleNotFoundError(_not_provided(fullname), name=fullname)
  return make


def find_spec(fullname, alias_loader):
  """The spec answering `fullname` (under tensorflow.contrib), or None.

  Args:
    fullname: A dotted module name.
    alias_loader: compat's loader class that imports a module under its new
      name: alias_loader(new_name).
  """
  if fullname == PACKAGE:
    return importlib.util.spec_from_loader(
        fullname, _ModuleLoader(_package_module), is_package=True)
  if not fullname.startswith(PACKAGE + '.'):
    return None
  name, _, rest = fullname[len(PACKAGE) + 1:].partition('.')
  answer = _BY_NAME.get(name)
  if answer is None or (rest and answer.kind != 'alias'):
    return importlib.util.spec_from_loader(
        fullname, _ModuleLoader(_unavailable(fullname)))
  if answer.kind == 'alias':
    target = answer.targets[0] + ('.' + rest if rest else '')
    if importlib.util.find_spec(target) is None:
      return importlib.util.spec_from_loader(
          fullname, _ModuleLoader(_unavailable(fullname)))
    return importlib.util.spec_from_loader(fullname, alias_loader(target))
  return importlib.util.spec_from_loader(
      fullname, _ModuleLoader(lambda: _names_module(fullname, answer)))


def attach_to_compat_v1():
  """Sets `tf.contrib` on tensorflow.compat.v1, as TF1 code writes
  `slim = tf.contrib.slim`. The legacy launcher calls it."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  contrib = importlib.import_module(PACKAGE)
  # `tf.compat.v1` and the module that `import tensorflow.compat.v1` loads
  # (and then returns) are two objects: set it on both.
  for module in (tf.compat.v1, importlib.import_module('tensorflow.compat.v1')):
    module.contrib = contrib
  return contrib
