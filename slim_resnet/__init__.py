"""slim_resnet: TF-Slim's ResNets on current TensorFlow.

    from slim_resnet import resnet_v1   # instead of: from nets import resnet_v1
    with slim.arg_scope(resnet_v1.resnet_arg_scope()):
      net, end_points = resnet_v1.resnet_v1_50(images, 1000, is_training=False)

Importing the package installs the tf-slim compatibility hook (compat/) and
nothing else; TensorFlow is imported when a module that needs it is.
"""
import importlib

# compat must run before anything imports tf_slim; it does not import TF.
from slim_resnet import compat  # noqa: F401  pylint: disable=unused-import

__version__ = '0.1.0'

# Public names -> the module that defines them, imported on first use.
_LAZY = {
    'get_network': 'slim_resnet.nets_factory',
    'get_network_fn': 'slim_resnet.nets_factory',
    'list_networks': 'slim_resnet.nets_factory',
    'networks_map': 'slim_resnet.nets_factory',
}
_SUBMODULES = ('resnet_utils', 'resnet_v1', 'resnet_v2', 'configs',
               'nets_factory')


def lazy_names(package, names, submodules=()):
  """(__getattr__, __dir__) for a package whose public names load on use.

  Args:
    package: The package's __name__.
    names: {public name: defining module}; importing the package imports
      none of them (so `--help` and `import slim_resnet` load no TensorFlow).
    submodules: Names of submodules also reachable as attributes.
  """
  def getattr_(name):
    if name in names:
      return getattr(importlib.import_module(names[name]), name)
    if name in submodules:
      return importlib.import_module(package + '.' + name)
    raise AttributeError('module %r has no attribute %r' % (package, name))

  def dir_():
    module = importlib.import_module(package)
    return sorted(set(vars(module)) | set(names) | set(submodules))
  return getattr_, dir_


__getattr__, __dir__ = lazy_names(__name__, _LAZY, _SUBMODULES)
