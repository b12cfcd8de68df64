"""`tensorflow.contrib.training.HParams`, as research/slim's NASNet uses it.

    hparams = HParams(num_cells=12, drop_path_keep_prob=0.6, use_aux_head=1)
    hparams.set_hparam('drop_path_keep_prob', 1.0)   # checked against its type
    hparams.parse('num_cells=6,use_aux_head=0')       # 'k=v,k2=[1,2]'
    copy.deepcopy(hparams).values()                    # {'num_cells': 6, ...}

TensorFlow 1.15's class (contrib/training/python/training/hparam.py), with
its methods and casting rules: each hyperparameter keeps the exact type of the
value it was added with; set_hparam, parse and override_from_dict cast to that
type where the cast loses nothing (int -> float, not float -> int, nothing to
or from bool or str) and raise ValueError otherwise. A list hyperparameter
keeps the type of its first element. str() is 'a=1,b=2', repr()
'HParams([('a', 1), ...])', as there. Not provided (research/slim uses none of
them): the HParamDef protocol buffer (`hparam_def=`, to_proto, from_proto),
set_from_map, parse's indexed assignments (`arr[1]=3`) and the exact wording
of its error messages.
"""
import json
import numbers
import re

# One 'name=value' of a parse() string: the value runs to the next comma
# outside brackets.
_ASSIGNMENT = re.compile(r'\s*(?P<name>[A-Za-z_]\w*)\s*=\s*'
                         r'(?P<value>\[[^\]]*\]|[^,\[]*)\s*(?:,|$)')


def _cast(name, param_type, value):
  """value as param_type, where that loses nothing; else ValueError."""
  fail = ("Could not cast hparam '%s' of type '%s' from value %r"
          % (name, param_type, value))
  if type(value) == param_type:  # pylint: disable=unidiomatic-typecheck
    return value  # (isinstance would let True through as an int.)
  if issubclass(param_type, type(None)):
    return value  # Added as None: nothing to check against.
  if issubclass(param_type, (str, bytes)) and not isinstance(value,
                                                             (str, bytes)):
    raise ValueError(fail)
  if issubclass(param_type, bool) != isinstance(value, bool):
    raise ValueError(fail)
  if issubclass(param_type, numbers.Integral) and not isinstance(
      value, numbers.Integral):
    raise ValueError(fail)
  if issubclass(param_type, numbers.Number) and not isinstance(
      value, numbers.Number):
    raise ValueError(fail)
  return param_type(value)


def _parse_scalar(name, param_type, text):
  text = text.strip()
  if param_type is bool:  # TF 1.15: true/True/false/False, else an integer.
    if text in ('true', 'True'):
      return True
    if text in ('false', 'False'):
      return False
    try:
      return bool(int(text))
    except ValueError:
      pass
  elif param_type is str:
    return text
  else:
    try:
      return param_type(text)
    except (TypeError, ValueError):
      pass
  raise ValueError("Could not parse hparam '%s' of type '%s' from %r"
                   % (name, param_type.__name__, text))


class HParams(object):
  """A set of named hyperparameters, each an attribute of fixed type."""

  _HAS_DYNAMIC_ATTRIBUTES = True  # pytype: the attributes are the hparams.

  def __init__(self, hparam_def=None, model_structure=None, **kwargs):
    """Creates the hyperparameters from keyword arguments.

    Args:
      hparam_def: Not supported (TF 1.15's HParamDef proto); must be None.
      model_structure: Any object, returned by get_model_structure().
      **kwargs: name -> initial value; the value's type is the
        hyperparameter's type (for a list, its first element's).

    Raises:
      ValueError: hparam_def given, a name shadows a method, or a list is
        empty.
    """
    self._hparam_types = {}
    self._model_structure = model_structure
    if hparam_def is not None:
      raise ValueError('HParams(hparam_def=...) is not supported: the '
                       'HParamDef proto went with tensorflow.contrib; pass '
                       'the values as keyword arguments')
    for name, value in kwargs.items():
      self.add_hparam(name, value)

  def add_hparam(self, name, value):
    """Adds hyperparameter `name` with `value` (and value's type)."""
    if name.startswith('_') or getattr(self, name, None) is not None:
      raise ValueError('Hyperparameter name is reserved: %s' % name)
    if isinstance(value, (list, tuple)):
      if not value:
        raise ValueError('Multi-valued hyperparameters cannot be empty: %s'
                         % name)
      self._hparam_types[name] = (type(value[0]), True)
    else:
      self._hparam_types[name] = (type(value), False)
    setattr(self, name, value)

  def set_hparam(self, name, value):
    """Sets an existing hyperparameter, cast to its type.

    Raises:
      KeyError: no hyperparameter `name`.
      ValueError: a list for a single value (or the reverse), or a value that
        does not cast to the type without loss.
    """
    param_type, is_list = self._hparam_types[name]
    if isinstance(value, list):
      if not is_list:
        raise ValueError('Must not pass a list for single-valued parameter: '
                         '%s' % name)
      setattr(self, name, [_cast(name, param_type, v) for v in value])
    else:
      if is_list:
        raise ValueError('Must pass a list for multi-valued parameter: %s.'
                         % name)
      setattr(self, name, _cast(name, param_type, value))

  def del_hparam(self, name):
    """Removes hyperparameter `name` if it exists."""
    if hasattr(self, name):
      delattr(self, name)
      del self._hparam_types[name]

  def parse(self, values):
    """Overrides from a string 'name=value,name2=[v1,v2]'; returns self.

    Raises:
      ValueError: an unknown name, a malformed string or a value of the
        wrong type.
    """
    parsed = {}
    position = 0
    values = values.strip()
    while position < len(values):
      match = _ASSIGNMENT.match(values, position)
      if not match or match.end() == position:
        raise ValueError('Could not parse hparam string at %r: expected '
                         'name=value[,name=value...]' % values[position:])
      position = match.end()
      name, text = match.group('name'), match.group('value')
      if name in parsed:
        raise ValueError('Multiple assignments to variable \'%s\' in %s'
                         % (name, values))
      if name not in self._hparam_types:
        raise ValueError('Unknown hyperparameter type for %s' % name)
      param_type, is_list = self._hparam_types[name]
      if text.startswith('['):
        if not is_list:
          raise ValueError('Must not pass a list for single-valued '
                           'parameter: %s' % name)
        items = [t for t in re.split(r'[\s,]+', text[1:-1]) if t]
        parsed[name] = [_parse_scalar(name, param_type, t) for t in items]
      else:
        parsed[name] = _parse_scalar(name, param_type, text)
    return self.override_from_dict(parsed)

  def override_from_dict(self, values_dict):
    """set_hparam for each item of values_dict; returns self."""
    for name, value in values_dict.items():
      self.set_hparam(name, value)
    return self

  def set_model_structure(self, model_structure):
    self._model_structure = model_structure

  def get_model_structure(self):
    return self._model_structure

  def to_json(self, indent=None, separators=None, sort_keys=False):
    """The values as JSON (callables left out)."""
    def without_callables(x):
      if isinstance(x, dict):
        return {k: without_callables(v) for k, v in x.items()
                if not callable(v)}
      if isinstance(x, list):
        return [without_callables(v) for v in x if not callable(v)]
      return x
    return json.dumps(without_callables(self.values()), indent=indent,
                      separators=separators, sort_keys=sort_keys)

  def parse_json(self, values_json):
    """override_from_dict(json.loads(values_json)); returns self."""
    return self.override_from_dict(json.loads(values_json))

  def values(self):
    """{name: value} of every hyperparameter."""
    return {name: getattr(self, name) for name in self._hparam_types}

  def get(self, key, default=None):
    """The value of `key`, or `default` when there is no such
    hyperparameter; a default of another type raises ValueError."""
    if key not in self._hparam_types:
      return default
    if default is not None:
      param_type, is_list = self._hparam_types[key]
      fail = ("Hparam '%s' of type '%s' is incompatible with default=%s"
              % (key, param_type, default))
      if is_list != isinstance(default, (list, tuple)):
        raise ValueError(fail)
      try:
        for value in (default if is_list else [default]):
          _cast(key, param_type, value)
      except ValueError as e:
        raise ValueError('%s. %s' % (fail, e)) from None
    return getattr(self, key)

  def __contains__(self, key):
    return key in self._hparam_types

  def __str__(self):
    return ','.join('%s=%s' % item for item in self.values().items())

  def __repr__(self):
    return '%s(%s)' % (type(self).__name__, sorted(self.values().items()))
