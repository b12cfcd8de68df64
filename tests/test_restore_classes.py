"""Background classes by meaning, not by arithmetic (checkpoints.restorer).

A class is dropped or added only for the ImageNet 1001 <-> 1000 convention or
where the checkpoint's own metadata says class 0 is background; any other
class-count difference fails naming both counts. Tiny graphs: only the logits.
"""
import json
import os

import numpy as np
import pytest
import tensorflow as tf

import ckptutil
from slim_resnet import checkpoints
from slim_resnet import cli

DEPTH = 8


def logits_values(num_classes, seed=0):
  rng = np.random.RandomState(seed)
  return {'resnet_v1_50/logits/weights':
              rng.randn(1, 1, DEPTH, num_classes).astype(np.float32),
          'resnet_v1_50/logits/biases':
              rng.randn(num_classes).astype(np.float32)}


def save(tmp_path, num_classes, label_offset=None, labels=None):
  folder = tmp_path / ('c%d_%s_%s' % (num_classes, label_offset,
                                      bool(labels)))
  values = logits_values(num_classes)
  path = ckptutil.save(values, str(folder / 'model.ckpt'))
  if label_offset is not None:
    (folder / 'model_spec.json').write_text(json.dumps({
        'model': 'resnet_v1_50', 'num_classes': num_classes,
        'image_size': 224, 'preprocessing': 'vgg',
        'label_offset': label_offset}))
  if labels is not None:
    (folder / 'labels.txt').write_text(''.join(l + '\n' for l in labels))
    spec = json.loads((folder / 'model_spec.json').read_text()) \
        if (folder / 'model_spec.json').exists() else None
    if spec is None:
      (folder / 'model_spec.json').write_text(json.dumps({
          'model': 'resnet_v1_50', 'num_classes': num_classes,
          'image_size': 224, 'preprocessing': 'vgg', 'labels': 'labels.txt'}))
  return path, values


def restore(path, num_classes, **kwargs):
  """Restores into a graph holding only resnet_v1_50's logits; its values."""
  with tf.Graph().as_default():
    with tf.compat.v1.variable_scope('resnet_v1_50/logits'):
      weights = tf.compat.v1.get_variable('weights',
                                          [1, 1, DEPTH, num_classes])
      biases = tf.compat.v1.get_variable('biases', [num_classes])
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      checkpoints.restore(sess, path, var_list=[weights, biases], **kwargs)
      return sess.run([weights, biases])


@pytest.mark.parametrize('graph_classes', [9, 11])
def test_ten_classes_into_nine_or_eleven_fails_naming_both(tmp_path,
                                                           graph_classes):
  path, _ = save(tmp_path, 10)
  with pytest.raises(checkpoints.CheckpointMismatchError) as raised:
    restore(path, graph_classes)
  message = str(raised.value)
  assert 'the checkpoint has 10 classes and the graph %d' % graph_classes \
      in message
  assert '--checkpoint-exclude-scopes resnet_v1_50/logits' in message
  assert 'labels_offset_mode="%s"' % (
      'drop_background' if graph_classes == 9 else 'add_background') in message


def test_1001_into_1000_drops_class_0_and_says_so(tmp_path, capsys):
  path, values = save(tmp_path, 1001)
  weights, biases = restore(path, 1000)
  np.testing.assert_array_equal(
      weights, values['resnet_v1_50/logits/weights'][..., 1:])
  np.testing.assert_array_equal(biases,
                                values['resnet_v1_50/logits/biases'][1:])
  said = capsys.readouterr().err
  assert 'restoring 1001 classes into 1000 by dropping its class 0' in said
  assert 'ImageNet convention' in said


def test_1000_into_1001_adds_a_background_and_says_so(tmp_path, capsys):
  path, values = save(tmp_path, 1000)
  weights, biases = restore(path, 1001)
  np.testing.assert_array_equal(weights[..., 1:],
                                values['resnet_v1_50/logits/weights'])
  np.testing.assert_array_equal(weights[..., 0], 0)
  assert biases[0] == -1e4
  assert 'by adding a background class 0' in capsys.readouterr().err


def test_1001_whose_metadata_says_no_background_is_not_trimmed(tmp_path):
  path, _ = save(tmp_path, 1001, label_offset=0)
  with pytest.raises(checkpoints.CheckpointMismatchError,
                     match='metadata says class 0 is a real class'):
    restore(path, 1000)


@pytest.mark.parametrize('how', ['model_spec', 'labels_file'])
def test_metadata_background_is_dropped_for_any_count(tmp_path, capsys, how):
  if how == 'model_spec':
    path, values = save(tmp_path, 11, label_offset=1)
  else:
    path, values = save(tmp_path, 11, labels=['background'] + list('abcdefghij'))
  weights, _ = restore(path, 10)
  np.testing.assert_array_equal(
      weights, values['resnet_v1_50/logits/weights'][..., 1:])
  assert "metadata says its class 0 is background" in capsys.readouterr().err


def test_explicit_mode_forces_the_fix(tmp_path):
  path, values = save(tmp_path, 10)
  weights, _ = restore(path, 9, labels_offset_mode='drop_background')
  np.testing.assert_array_equal(
      weights, values['resnet_v1_50/logits/weights'][..., 1:])


def test_ckpt_check_fails_on_a_guessed_class_count(tmp_path, capsys):
  shipped = checkpoints.fetch_checkpoint('digits_resnet_v1_18')
  assert cli.main(['ckpt', 'check', shipped, '--model', 'resnet_v1_18',
                   '--depth-multiplier', '0.125', '--num-classes', '11']) == 2
  out = capsys.readouterr().out
  assert 'the checkpoint has 10 classes and the graph 11' in out
  assert 'ok:' not in out
