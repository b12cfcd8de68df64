"""The shipped checkpoint's golden numbers, checked independently.

Its held-out top-1 (0.9777 in the manifest, the README and model_spec.json)
was measured by our own code when it was trained. Here a forward pass
written in numpy from research/slim's formulas (conv2d_same, inference batch
norm with epsilon 1e-5, max pool 3x3/2 SAME, basic v1 units with the stride
on the last unit's second conv, global average pool, 1x1 logits) and the
checkpoint's raw tensors computes the logits and the top-1 on its own; ours
must give the same logits and the published figure.
"""
import json

import numpy as np
import tensorflow as tf

from test_blind_spots import np_basic_v1
from test_blind_spots import np_bn
from test_blind_spots import np_conv
from test_blind_spots import relu
from slim_resnet.checkpoints import assets
from slim_resnet.checkpoints import fetch
from slim_resnet.data import image_folder
from slim_resnet.inference import classifier as inference

SHIPPED = 'digits_resnet_v1_18'
MEAN_RGB = np.array([123.68, 116.78, 103.94])  # research/slim vgg means


def np_max_pool_same(x, k=3, stride=2):
  """TF's max_pool2d, SAME padding (pads with -inf, extra at the end)."""
  out_h, out_w = -(-x.shape[1] // stride), -(-x.shape[2] // stride)
  pad_h = max((out_h - 1) * stride + k - x.shape[1], 0)
  pad_w = max((out_w - 1) * stride + k - x.shape[2], 0)
  xp = np.pad(x, [(0, 0), (pad_h // 2, pad_h - pad_h // 2),
                  (pad_w // 2, pad_w - pad_w // 2), (0, 0)],
              constant_values=-np.inf)
  out = np.full([x.shape[0], out_h, out_w, x.shape[3]], -np.inf)
  for i in range(k):
    for j in range(k):
      out = np.maximum(out, xp[:, i:i + stride * out_h:stride,
                               j:j + stride * out_w:stride])
  return out


def np_resnet_v1_18(x, v, depths=(8, 16, 32, 64), strides=(2, 2, 2, 1)):
  s = 'resnet_v1_18/'
  net = relu(np_bn(np_conv(x, v[s + 'conv1/weights'], 2), v,
                   s + 'conv1/BatchNorm'))
  net = np_max_pool_same(net)
  for b, (depth, stride) in enumerate(zip(depths, strides), 1):
    for u, unit_stride in ((1, 1), (2, stride)):  # the stride: last unit
      net = np_basic_v1(net, v, s + 'block%d/unit_%d/basic_v1/' % (b, u),
                        depth, unit_stride)
  net = net.mean(axis=(1, 2), keepdims=True)
  return np_conv(net, v[s + 'logits/weights'], 1,
                 v[s + 'logits/biases'])[:, 0, 0]


def test_shipped_checkpoint_against_a_numpy_forward_pass():
  images, labels = image_folder.load_sample_digits()
  path = fetch.fetch_checkpoint(SHIPPED)
  reader = tf.train.load_checkpoint(path)
  values = {n: reader.get_tensor(n).astype(np.float64)
            for n in reader.get_variable_to_shape_map()}
  # vgg eval preprocessing at 32 px with resize_side_min 32 on 32x32 images:
  # the resize and the central crop keep the image; gray -> 3 channels.
  x = np.repeat(images[..., None].astype(np.float64), 3, axis=-1) - MEAN_RGB
  expected = np_resnet_v1_18(x, values)
  with inference.FeatureExtractor(SHIPPED, batch_size=120) as extractor:
    ours = extractor.extract(list(images[..., None]),
                             ['resnet_v1_18/spatial_squeeze'])[
                                 'resnet_v1_18/spatial_squeeze']
  np.testing.assert_allclose(ours, expected, rtol=1e-3, atol=1e-3)
  top1 = float(np.mean(expected.argmax(1) == labels))
  with open(str(assets.asset_path(SHIPPED, 'model_spec.json'))) as f:
    published = json.load(f)['provenance']['heldout_accuracy']
  assert round(top1, 4) == published
  assert len(labels) == 359
