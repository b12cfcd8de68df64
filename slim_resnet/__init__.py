"""slim_resnet: TF-Slim's ResNets on current TensorFlow.

    from slim_resnet import resnet_v1   # instead of: from nets import resnet_v1
    with slim.arg_scope(resnet_v1.resnet_arg_scope()):
      net, end_points = resnet_v1.resnet_v1_50(images, 1000, is_training=False)
"""
# compat must run before anything imports tf_slim.
from slim_resnet import compat  # noqa: F401  pylint: disable=unused-import
