"""contrib.training.HParams: TF 1.15's behaviour, as its hparam_test.py and
docstrings give it (types kept, lossless casts only)."""
import copy
import json

import pytest

from slim_resnet.compat.hparams import HParams


def _hparams():
  return HParams(aaa=1, b=2.0, c_c='relu6', d=[3, 4], e=True, f=None)


def test_values_and_attributes():
  h = _hparams()
  assert h.values() == {'aaa': 1, 'b': 2.0, 'c_c': 'relu6', 'd': [3, 4],
                        'e': True, 'f': None}
  assert h.aaa == 1 and 'aaa' in h and 'zz' not in h
  # TF 1.15's __str__ and __repr__.
  assert str(h) == 'aaa=1,b=2.0,c_c=relu6,d=[3, 4],e=True,f=None'
  assert repr(h) == 'HParams(%s)' % sorted(h.values().items())


def test_parse_casts_to_each_type():
  h = _hparams().parse('aaa=12, b=3,c_c=relu4,d=[5 6],e=false')
  assert (h.aaa, h.b, h.c_c, h.d, h.e) == (12, 3.0, 'relu4', [5, 6], False)
  assert _hparams().parse('e=0').e is False and _hparams().parse('e=2').e
  assert isinstance(h.b, float)


@pytest.mark.parametrize('text', ['aaa=1.5', 'zz=1', 'aaa=[1]', 'd=5',
                                  'e=maybe', 'e=TRUE', 'aaa', 'aaa=1,aaa=2'])
def test_parse_refuses_what_tf_refused(text):
  with pytest.raises(ValueError):
    _hparams().parse(text)


@pytest.mark.parametrize('name,value', [('aaa', 1.5), ('aaa', True), ('e', 0),
                                        ('b', 'x'), ('c_c', 3), ('e', 1),
                                        ('d', 5), ('aaa', [1])])
def test_set_hparam_refuses_lossy_or_mixed_casts(name, value):
  with pytest.raises(ValueError):
    _hparams().set_hparam(name, value)


def test_set_hparam_int_to_float_and_none_typed():
  h = _hparams()
  h.set_hparam('b', 7)
  assert h.b == 7.0 and isinstance(h.b, float)
  h.set_hparam('f', 'anything')  # Added as None: not checked.
  assert h.f == 'anything'
  with pytest.raises(KeyError):
    h.set_hparam('zz', 1)


def test_add_del_get():
  h = _hparams()
  with pytest.raises(ValueError):
    h.add_hparam('aaa', 2)
  with pytest.raises(ValueError):
    h.add_hparam('values', 2)  # A method's name.
  with pytest.raises(ValueError):
    h.add_hparam('empty', [])
  with pytest.raises(ValueError):
    h.add_hparam('_private', 1)
  h.add_hparam('g', 0.5)
  assert h.get('g') == 0.5 and h.get('zz', 5) == 5
  with pytest.raises(ValueError):
    h.get('aaa', 'a string')
  h.del_hparam('g')
  assert 'g' not in h and not hasattr(h, 'g')


def test_json_round_trip_and_deepcopy_independence():
  h = _hparams()
  assert json.loads(h.to_json(sort_keys=True)) == h.values()
  other = copy.deepcopy(h).parse_json('{"aaa": 5, "d": [1, 2, 3]}')
  assert (other.aaa, other.d) == (5, [1, 2, 3])
  assert (h.aaa, h.d) == (1, [3, 4])
  assert HParams(x=1, fn=len).to_json() == '{"x": 1}'


def test_proto_form_is_refused_with_the_fix():
  with pytest.raises(ValueError, match='keyword arguments'):
    HParams(hparam_def=object())
