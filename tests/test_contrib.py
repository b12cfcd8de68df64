"""tensorflow.contrib as research/slim imports it (compat.contrib): each
module answers with what it became in tf_slim, the rest fails clearly."""
import importlib

import pytest
import tf_slim

import slim_resnet  # noqa: F401  pylint: disable=unused-import
from slim_resnet.compat import contrib
from slim_resnet.compat import hparams
from slim_resnet.compat import tf_slim_fixes


def test_slim_and_layers_are_tf_slims_modules():
  from tensorflow.contrib import layers  # pylint: disable=g-import-not-at-top
  from tensorflow.contrib import slim  # pylint: disable=g-import-not-at-top
  assert slim is tf_slim
  # (tf_slim.layers, the attribute, is the layers.py module: a star import.)
  assert layers is importlib.import_module('tf_slim.layers')
  for name in ('batch_norm', 'layer_norm', 'conv2d', 'xavier_initializer',
               'l2_regularizer', 'optimize_loss'):
    assert getattr(layers, name) is getattr(tf_slim, name), name
  resnet = importlib.import_module('tensorflow.contrib.slim.nets.resnet_v1')
  assert resnet is importlib.import_module('tf_slim.nets.resnet_v1')


def test_framework_is_tf_slims_arg_scope_and_variables():
  from tensorflow.contrib import framework  # pylint: disable=g-import-not-at-top
  assert framework.arg_scope is tf_slim.arg_scope
  assert framework.add_arg_scope is tf_slim.add_arg_scope
  assert framework.get_variables is tf_slim.get_variables
  assert framework.get_name_scope is importlib.import_module(
      'tf_slim.ops.framework_ops').get_name_scope
  # The fixed tf-slim function, not the original.
  assert (framework.assign_from_checkpoint is
          tf_slim_fixes.assign_from_checkpoint)
  with pytest.raises(ImportError, match='answers only .*arg_scope'):
    framework.no_such_name  # pylint: disable=pointless-statement
  names = {}
  exec('from tensorflow.contrib.framework import *', names)  # pylint: disable=exec-used
  assert names['arg_scope'] is tf_slim.arg_scope


def test_training_has_hparams_only():
  from tensorflow.contrib import training  # pylint: disable=g-import-not-at-top
  assert training.HParams is hparams.HParams
  with pytest.raises(ImportError, match='answers only HParams'):
    exec('from tensorflow.contrib.training import GreedyLoadBalancingStrategy')  # pylint: disable=exec-used
  del training


@pytest.mark.parametrize('name', ['create_training_graph', 'create_eval_graph',
                                  'experimental_create_training_graph',
                                  'experimental_create_eval_graph'])
def test_quantize_imports_and_its_rewriters_say_what_to_use(name):
  from tensorflow.contrib import quantize  # pylint: disable=g-import-not-at-top
  with pytest.raises(NotImplementedError) as raised:
    getattr(quantize, name)(quant_delay=0)
  message = str(raised.value)
  assert message.startswith('tensorflow.contrib.quantize.%s: ' % name)
  assert 'quantization-aware training is not available' in message
  assert 'post-training int8' in message and '\n' not in message


@pytest.mark.parametrize('module', ['tensorflow.contrib.rnn',
                                    'tensorflow.contrib.learn',
                                    'tensorflow.contrib.training.Foo',
                                    'tensorflow.contrib.slim.no_such_module'])
def test_anything_else_is_module_not_found_with_the_reason(module):
  parent, _, name = module.rpartition('.')
  # (`import` needs a package above; `from tf_slim`, an alias, gives
  # Python's own "cannot import name", which is right.)
  statements = {'tensorflow.contrib': ['import %s' % module,
                                       'from %s import %s' % (parent, name)],
                'tensorflow.contrib.training': ['from %s import %s' % (
                    parent, name)],
                'tensorflow.contrib.slim': ['import %s' % module]}[parent]
  for statement in statements:
    with pytest.raises(ModuleNotFoundError) as raised:
      exec(statement, {})  # pylint: disable=exec-used
    assert raised.value.name == module, statement
    assert 'slim_resnet answers only' in str(raised.value), statement
    assert ('HParams' if 'training' in parent else
            'tensorflow.contrib.quantize') in str(raised.value), statement


def test_every_row_of_the_table_resolves():
  for answer in contrib.CONTRIB:
    module = importlib.import_module('tensorflow.contrib.' + answer.name)
    assert answer.used_by
    if answer.kind == 'alias':
      assert module is importlib.import_module(answer.targets[0])
    else:
      for target in answer.targets:
        module_name, _, name = target.partition(':')
        if name:
          assert getattr(module, name) is getattr(
              importlib.import_module(module_name), name)
      assert dir(module)


def test_readme_table_lists_exactly_the_answered_modules():
  import os  # pylint: disable=g-import-not-at-top
  import re  # pylint: disable=g-import-not-at-top
  readme = open(os.path.join(os.path.dirname(__file__), '..',
                             'README.md')).read()
  section = readme.split('## Run research/slim unchanged', 1)[1].split(
      '\n## ', 1)[0]
  rows = re.findall(r'^\| `tensorflow\.contrib\.(\w+)` \|', section, re.M)
  assert sorted(rows) == sorted(a.name for a in contrib.CONTRIB)
