"""Where the data files are: the top-level checkpoints/ folder.

setup.py installs checkpoints/ as the package slim_resnet.assets, so after a
wheel install it is slim_resnet/assets/; in a source tree (or an editable
install) it is <repo>/checkpoints/.
"""
import os
import pathlib

_PACKAGE_DIR = pathlib.Path(__file__).resolve().parent.parent  # slim_resnet/
_CANDIDATES = (_PACKAGE_DIR / 'assets', _PACKAGE_DIR.parent / 'checkpoints')


def asset_path(*parts):
  """The path of a data file, e.g. asset_path('manifest.json').

  Raises:
    FileNotFoundError: If it is in neither place; the message names both.
  """
  for root in _CANDIDATES:
    path = root.joinpath(*parts)
    if path.exists():
      return path
  raise FileNotFoundError('%s is in neither %s' % (
      os.path.join(*parts), ' nor '.join(str(r) for r in _CANDIDATES)))
