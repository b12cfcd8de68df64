"""TF1-style tests in research/slim's manner (nets/resnet_v1_test.py):
tf.test.TestCase, tf.placeholder, self.test_session(), .eval(). They need
graph mode; run them with `slim-resnet run -m pytest tf1_style_checks.py` or
`pytest -p slim_resnet.compat.legacy tf1_style_checks.py`.
"""
import numpy as np
import tensorflow.compat.v1 as tf
from tensorflow.contrib import framework as contrib_framework
from tensorflow.contrib import layers as contrib_layers
import tf_slim as slim

from slim_resnet import resnet_utils
from slim_resnet import resnet_v1


class ResnetStyleTest(tf.test.TestCase):

  def testUnknownBatchSizeThroughASession(self):
    inputs = tf.placeholder(tf.float32, (None, 32, 32, 3))
    with slim.arg_scope(resnet_utils.resnet_arg_scope()):
      logits, end_points = resnet_v1.resnet_v1_50(
          inputs, 5, is_training=False)
    self.assertListEqual(logits.get_shape().as_list(), [None, 5])
    self.assertIn('resnet_v1_50/block4', end_points)
    with self.test_session() as sess:
      sess.run(tf.global_variables_initializer())
      output = sess.run(logits, {inputs: np.ones((2, 32, 32, 3))})
    self.assertEqual(output.shape, (2, 5))

  def testEvalOfAVariable(self):
    with contrib_framework.arg_scope([contrib_layers.conv2d],
                                     weights_initializer=tf.ones_initializer()):
      net = contrib_layers.conv2d(tf.ones([1, 3, 3, 1]), 1, [3, 3],
                                  padding='VALID', activation_fn=None,
                                  biases_initializer=None)
    with self.test_session():
      tf.global_variables_initializer().run()
      self.assertAllClose(net.eval(), [[[[9.0]]]])


if __name__ == '__main__':
  tf.test.main()
