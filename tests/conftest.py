"""Shared fixtures. Importing slim_resnet first makes tf_slim (and its
reference nets, used only here) importable on TensorFlow >= 2.16."""
import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import slim_resnet  # noqa: E402,F401  pylint: disable=unused-import
import tensorflow as tf  # noqa: E402

tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.ERROR)

import pytest  # noqa: E402


@pytest.fixture(scope='session')
def sample(tmp_path_factory):
  """The shipped checkpoint's 359 held-out digits as an image folder
  (root/<digit>/<images>), written once per run."""
  from slim_resnet.data import image_folder  # pylint: disable=g-import-not-at-top
  root = tmp_path_factory.mktemp('sample')
  image_folder.write_sample_folder(str(root))
  return str(root)
