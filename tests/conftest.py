"""Shared fixtures. Importing slim_resnet first makes tf_slim (and its
reference nets, used only here) importable on TensorFlow >= 2.16."""
import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import slim_resnet  # noqa: E402,F401  pylint: disable=unused-import
import tensorflow as tf  # noqa: E402

tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.ERROR)
