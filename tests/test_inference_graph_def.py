"""`slim-resnet export --output_file`: research/slim's export_inference_graph.py
output (the inference GraphDef without weights), frozen by TensorFlow's own
freeze_graph and checked against a numpy forward pass of the checkpoint."""
import os

import numpy as np
import pytest
import tensorflow as tf
from google.protobuf import text_format
from tensorflow.python.tools import freeze_graph  # pylint: disable=g-direct-tensorflow-import

from test_shipped_numpy import MEAN_RGB
from test_shipped_numpy import np_resnet_v1_18
from slim_resnet import cli
from slim_resnet.checkpoints import fetch
from slim_resnet.data import image_folder

SHIPPED = 'digits_resnet_v1_18'


def _graph_def(path, as_text=False):
  graph_def = tf.compat.v1.GraphDef()
  if as_text:
    text_format.Parse(open(path).read(), graph_def)
  else:
    with open(path, 'rb') as f:
      graph_def.ParseFromString(f.read())
  return graph_def


def _nodes(graph_def):
  return {node.name: node for node in graph_def.node}


def test_frozen_by_freeze_graph_it_gives_the_numpy_forward_pass(tmp_path,
                                                                capsys):
  graph_file = str(tmp_path / 'inf_graph.pb')
  assert cli.main(['export', '--checkpoint', SHIPPED,
                   '--output_file=%s' % graph_file]) == 0
  out = capsys.readouterr().out
  assert 'output resnet_v1_18/predictions/Reshape_1:0' in out
  assert '10 classes (from the checkpoint %s)' % SHIPPED in out
  nodes = _nodes(_graph_def(graph_file))
  assert nodes['input'].op == 'Placeholder'
  assert not any(n.op == 'Const' and n.attr['value'].tensor.tensor_content
                 and len(n.attr['value'].tensor.tensor_content) > 4096
                 for n in nodes.values())  # No weights in the file.

  checkpoint = fetch.fetch_checkpoint(SHIPPED)
  frozen_file = str(tmp_path / 'frozen.pb')
  freeze_graph.freeze_graph(
      input_graph=graph_file, input_saver='', input_binary=True,
      input_checkpoint=checkpoint,
      output_node_names='resnet_v1_18/predictions/Reshape_1',
      restore_op_name=None, filename_tensor_name=None,
      output_graph=frozen_file, clear_devices=True, initializer_nodes='')

  images, _ = image_folder.load_sample_digits()
  x = np.repeat(images[:16, ..., None].astype(np.float64), 3, axis=-1)
  x -= MEAN_RGB  # research/slim's vgg eval preprocessing at 32 px.
  with tf.Graph().as_default() as graph:
    tf.compat.v1.import_graph_def(_graph_def(frozen_file), name='')
    with tf.compat.v1.Session(graph=graph) as sess:
      predictions = sess.run('resnet_v1_18/predictions/Reshape_1:0',
                             {'input:0': x.astype(np.float32)})
  reader = tf.train.load_checkpoint(checkpoint)
  values = {n: reader.get_tensor(n).astype(np.float64)
            for n in reader.get_variable_to_shape_map()}
  logits = np_resnet_v1_18(x, values)
  expected = np.exp(logits - logits.max(1, keepdims=True))
  expected /= expected.sum(1, keepdims=True)
  np.testing.assert_allclose(predictions, expected, atol=1e-4)


def test_research_slim_rules_without_a_checkpoint(tmp_path):
  text_file = str(tmp_path / 'r50.pbtxt')
  binary_file = str(tmp_path / 'r50.pb')
  flags = ['--model_name=resnet_v1_50', '--labels_offset=1',
           '--image_size=64', '--batch_size=2', '--use_grayscale']
  assert cli.main(['export', '--output_file=%s' % binary_file] + flags) == 0
  assert cli.main(['export', '--output_file=%s' % text_file,
                   '--write_text_graphdef'] + flags) == 0
  graph_def = _graph_def(binary_file)
  assert _graph_def(text_file, as_text=True) == graph_def
  nodes = _nodes(graph_def)
  shape = [d.size for d in nodes['input'].attr['shape'].shape.dim]
  assert shape == [2, 64, 64, 1]  # --batch_size, --image_size, gray.
  # imagenet's 1001 classes less --labels_offset (research/slim's rule).
  logits = nodes['resnet_v1_50/logits/weights']
  assert [d.size for d in logits.attr['shape'].shape.dim] == [1, 1, 2048, 1000]
  # TF1 variables, as research/slim's file has them for freeze_graph.
  assert logits.op == 'VariableV2'
  assert 'resnet_v1_50/logits/weights/read' in nodes
  assert 'resnet_v1_50/predictions/Reshape_1' in nodes
  # The process keeps TF2's resource variables afterwards.
  with tf.Graph().as_default():
    assert tf.compat.v1.get_variable('v', []).op.type == 'VarHandleOp'


@pytest.mark.parametrize('dataset,zeros', [(None, None), ('imagenet', None),
                                           ('flowers', []), ('mnist', [1])])
def test_the_dataset_modules_constant_is_there_as_in_research_slims(
    tmp_path, dataset, zeros):
  # research/slim's datasets/{flowers,cifar10,mnist}.py decode the label with
  # default_value=tf.zeros(shape, tf.int64); imagenet's default is -1.
  graph_file = str(tmp_path / 'g.pb')
  argv = ['export', '--model_name=resnet_v1_18', '--output_file=' + graph_file]
  assert cli.main(argv + (['--dataset_name=' + dataset] if dataset else [])) == 0
  nodes = _nodes(_graph_def(graph_file))
  if zeros is None:
    assert 'zeros' not in nodes
  else:
    shape = nodes['zeros'].attr['value'].tensor.tensor_shape
    assert [d.size for d in shape.dim] == zeros
    assert list(nodes).index('zeros') < list(nodes).index('input')


def test_a_url_is_written_through_gfile_and_a_folder_is_refused(tmp_path,
                                                                 capsys):
  url = 'ram://export_test/inf_graph.pb'
  assert cli.main(['export', '--model_name=resnet_v1_18',
                   '--output_file=' + url]) == 0
  graph_def = tf.compat.v1.GraphDef()
  with tf.io.gfile.GFile(url, 'rb') as f:
    graph_def.ParseFromString(f.read())
  assert 'resnet_v1_18/predictions/Reshape_1' in _nodes(graph_def)
  assert not tf.io.gfile.exists(url + '.tmp')
  capsys.readouterr()
  assert cli.main(['export', '--model_name=resnet_v1_18',
                   '--output_file=%s' % tmp_path]) == 2
  assert 'is a directory' in capsys.readouterr().err


@pytest.mark.parametrize('argv,expected', [
    (['--model_name=resnet_v1_50', '--quantize'], '--quantize'),
    (['--model_name=resnet_v1_50', '--is_video_model'], '--is_video_model'),
    (['--model_name=resnet_v1_50', '--fold-batch-norms'], '--fold-batch-norms'),
    (['--model_name=resnet_v1_50', '--dataset_name=coco'], "no dataset 'coco'"),
    (['--dataset_name=flowers'], '--model_name is needed'),
    (['--model_name=resnet_v1_50', '--dataset_name=flowers',
      '--labels_offset=5'], 'leaves no classes'),
    (['--model_name=resnet_v1_50', '--out=DIR'], 'give one of --out'),
])
def test_bad_research_slim_flags_are_one_line(tmp_path, capsys, argv,
                                              expected):
  graph_file = str(tmp_path / 'g.pb')
  argv = [a.replace('DIR', str(tmp_path / 'd')) for a in argv]
  assert cli.main(['export', '--output_file=%s' % graph_file] + argv) == 2
  err = capsys.readouterr().err.strip().splitlines()
  assert len(err) == 1 and expected in err[0], err
  assert not os.listdir(str(tmp_path))


def test_out_refuses_the_output_file_only_flags(tmp_path, capsys):
  assert cli.main(['export', '--out', str(tmp_path / 'd'),
                   '--write_text_graphdef']) == 2
  assert 'use --output_file' in capsys.readouterr().err
