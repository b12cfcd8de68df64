"""Name -> network function, as research/slim's nets/nets_factory.py.

    network_fn = slim_resnet.get_network_fn('resnet_v2_101', num_classes=1001)
    logits, end_points = network_fn(images)   # under resnet_arg_scope

Names are generated from configs.ARCHITECTURES: resnet_v1_{18,34,50,101,152,200}
and resnet_v2_{18,34,50,101,152,200}.
"""
import functools

from slim_resnet import configs
from slim_resnet import errors
from slim_resnet import resnet_v1
from slim_resnet import resnet_v2
import tf_slim as slim

_FAMILIES = {'resnet_v1': resnet_v1, 'resnet_v2': resnet_v2}

networks_map = {
    name: getattr(_FAMILIES[name.rsplit('_', 1)[0]], name)
    for name in configs.MODEL_NAMES
}

arg_scopes_map = {
    name: _FAMILIES[name.rsplit('_', 1)[0]].resnet_arg_scope
    for name in networks_map
}


class UnknownNetworkError(errors.UserError):
  """A network name that is not in networks_map."""


def list_networks():
  """The known network names, sorted by family then depth."""
  return list(networks_map)


def unknown_model_message(name):
  """'Name of network unknown: ...', with the closest names first."""
  close = configs.close_model_names(name)
  return 'Name of network unknown: %r.%s Known networks: %s.' % (
      name, ' Did you mean %s?' % ' or '.join(close) if close else '',
      ', '.join(configs.MODEL_NAMES))


def get_network(name):
  """The builder registered under `name`, e.g. resnet_v1.resnet_v1_50.

  Raises:
    UnknownNetworkError: If the name is unknown; the message lists the names.
  """
  try:
    return networks_map[name]
  except KeyError:
    raise UnknownNetworkError(unknown_model_message(name)) from None


def get_network_fn(name, num_classes, weight_decay=0.0, is_training=False):
  """Returns a network_fn such as `logits, end_points = network_fn(images)`.

  Args:
    name: The name of the network, e.g. 'resnet_v1_50'.
    num_classes: The number of classes to use for classification. If 0 or
      None, the logits layer is omitted and its input features are returned.
    weight_decay: The l2 coefficient for the model weights.
    is_training: `True` if the model is being used for training.

  Returns:
    network_fn: A function that applies the model to a batch of images
      [batch, height, width, 3] under its arg_scope, with keyword arguments
      passed on to the builder (e.g. global_pool, output_stride). It has the
      attribute default_image_size.

  Raises:
    UnknownNetworkError: If network `name` is not recognized.
  """
  func = get_network(name)
  arg_scope_fn = arg_scopes_map[name]

  @functools.wraps(func)
  def network_fn(images, **kwargs):
    with slim.arg_scope(arg_scope_fn(weight_decay=weight_decay)):
      return func(images, num_classes=num_classes, is_training=is_training,
                  **kwargs)

  network_fn.default_image_size = func.default_image_size
  return network_fn
