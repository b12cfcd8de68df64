"""The package's rooms import in one direction (README "Layout")."""
import ast
import os

PACKAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..',
                       'slim_resnet')
# Top to bottom: a module may import from its own room and the rooms above.
ROOMS = ('compat', '', 'preprocessing', 'checkpoints', 'data', 'inference', 'train',
         'commands', 'cli')


def _room(module):
  """'slim_resnet.train.loop' -> 'train'; root modules -> ''."""
  parts = module.split('.')[1:]
  if parts == ['cli']:
    return 'cli'
  if parts and os.path.isdir(os.path.join(PACKAGE, parts[0])):
    return parts[0]
  return ''


def _imports(path):
  for node in ast.walk(ast.parse(open(path, encoding='utf-8').read())):
    if isinstance(node, ast.ImportFrom) and node.module and (
        node.module.startswith('slim_resnet')):
      if node.module == 'slim_resnet':
        for alias in node.names:
          yield 'slim_resnet.' + alias.name
      else:
        yield node.module
    elif isinstance(node, ast.Import):
      for alias in node.names:
        if alias.name.startswith('slim_resnet.'):
          yield alias.name


def test_no_room_imports_from_a_room_below_it():
  upward = []
  for folder, _, files in os.walk(PACKAGE):
    for name in files:
      if not name.endswith('.py'):
        continue
      path = os.path.join(folder, name)
      module = 'slim_resnet.' + os.path.relpath(path, PACKAGE)[:-3].replace(
          os.sep, '.')
      source = _room(module)
      for imported in _imports(path):
        if ROOMS.index(_room(imported)) > ROOMS.index(source):
          upward.append('%s imports %s' % (module, imported))
  assert not upward, upward
