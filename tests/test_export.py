"""Exported frozen graphs and SavedModels give the session graph's outputs:
the export's own check, and independently the Classifier on real files."""
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from slim_resnet import cli
from slim_resnet.checkpoints import errors
from slim_resnet.inference import classifier as inference
from slim_resnet.inference import export

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIPPED = 'digits_resnet_v1_18'
SAMPLES = os.path.join(ROOT, 'checkpoints', SHIPPED, 'samples')


def sample_files():
  return sorted(os.path.join(SAMPLES, f) for f in os.listdir(SAMPLES))


@pytest.fixture(scope='module')
def bytes_export(tmp_path_factory):
  out = tmp_path_factory.mktemp('exports') / 'bytes'
  result = export.export_model(SHIPPED, str(out), input_type='image_bytes',
                               end_points=['global_pool'])
  return result


@pytest.fixture(scope='module')
def classifier_outputs():
  with inference.FeatureExtractor(
      SHIPPED, end_points=['predictions', 'global_pool']) as extractor:
    return extractor.extract(sample_files())


def run_frozen(path, input_name, fetches, feed):
  graph_def = tf.compat.v1.GraphDef()
  with open(path, 'rb') as f:
    graph_def.ParseFromString(f.read())
  assert not [n.name for n in graph_def.node
              if n.op in ('VariableV2', 'VarHandleOp')]
  with tf.Graph().as_default() as graph:
    tf.graph_util.import_graph_def(graph_def, name='')
    with tf.compat.v1.Session() as sess:
      return sess.run([graph.get_tensor_by_name(n) for n in fetches],
                      {graph.get_tensor_by_name(input_name): feed})


def test_files_written(bytes_export):
  out = bytes_export.export_dir
  assert sorted(os.listdir(out)) == ['export.json', 'frozen_graph.pb',
                                     'labels.txt', 'model_spec.json',
                                     'saved_model']
  info = json.load(open(os.path.join(out, 'export.json')))
  assert info['input_name'] == 'image_bytes:0'
  assert info['outputs'] == {'logits': 'logits:0',
                             'predictions': 'predictions:0',
                             'classes': 'classes:0',
                             'global_pool': 'end_points/global_pool:0'}
  assert info['max_abs_diff']['frozen'] <= 1e-4
  assert not [f for f in os.listdir(os.path.dirname(out))
              if f.startswith('.')]  # No temporary directory left.


def test_frozen_graph_equals_the_classifier(bytes_export, classifier_outputs):
  encoded = np.array([open(f, 'rb').read() for f in sample_files()],
                     dtype=object)
  predictions, pool, classes = run_frozen(
      bytes_export.frozen_graph, 'image_bytes:0',
      ['predictions:0', 'end_points/global_pool:0', 'classes:0'], encoded)
  np.testing.assert_allclose(predictions, classifier_outputs['predictions'],
                             atol=1e-5)
  np.testing.assert_allclose(pool, classifier_outputs['global_pool'],
                             atol=1e-4, rtol=1e-4)
  np.testing.assert_array_equal(
      classes, np.argmax(classifier_outputs['predictions'], 1))
  assert list(classes) == list(range(10))  # digit_0.png ... digit_9.png


def test_saved_model_equals_the_classifier_in_tf2(bytes_export,
                                                  classifier_outputs):
  """The SavedModel's serving signature, loaded the TF2 way (eager)."""
  loaded = tf.saved_model.load(bytes_export.saved_model)
  serve = loaded.signatures['serving_default']
  encoded = tf.constant([open(f, 'rb').read() for f in sample_files()])
  outputs = serve(image_bytes=encoded)
  assert set(outputs) == {'logits', 'predictions', 'classes', 'global_pool'}
  np.testing.assert_allclose(outputs['predictions'].numpy(),
                             classifier_outputs['predictions'], atol=1e-5)


def test_folded_export_equals_the_unfolded(tmp_path):
  plain = export.export_model(SHIPPED, str(tmp_path / 'plain'))
  folded = export.export_model(SHIPPED, str(tmp_path / 'folded'),
                               fold_batch_norms=True)
  batch = np.random.RandomState(3).uniform(-100, 150, [4, 32, 32, 3]).astype(
      np.float32)
  want, = run_frozen(plain.frozen_graph, 'images:0', ['logits:0'], batch)
  got, = run_frozen(folded.frozen_graph, 'images:0', ['logits:0'], batch)
  np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-4)
  assert not np.array_equal(got, want)  # Really another graph.
  graph_def = tf.compat.v1.GraphDef()
  with open(folded.frozen_graph, 'rb') as f:
    graph_def.ParseFromString(f.read())
  assert not [n for n in graph_def.node if 'BatchNorm' in n.op]


def test_errors_leave_nothing_behind(bytes_export, tmp_path):
  with pytest.raises(export.ExportError, match='exists; choose another'):
    export.export_model(SHIPPED, bytes_export.export_dir)
  with pytest.raises(export.ExportError, match='unknown end_points nope'):
    export.export_model(SHIPPED, str(tmp_path / 'x'), end_points=['nope'])
  with pytest.raises(export.ExportError, match="formats must be"):
    export.export_model(SHIPPED, str(tmp_path / 'y'), formats=['onnx'])
  with pytest.raises(errors.CheckpointError):
    export.export_model(str(tmp_path / 'no_ckpt'), str(tmp_path / 'z'))
  assert sorted(os.listdir(tmp_path)) == []


def test_overwrite_replaces_only_when_done(tmp_path, capsys):
  out = str(tmp_path / 'model')
  assert cli.main(['export', '--out', out, '--formats', 'frozen']) == 0
  assert 'matches the session graph' in capsys.readouterr().out
  assert not os.path.exists(os.path.join(out, 'saved_model'))
  assert cli.main(['export', '--out', out, '--end-points', 'nope',
                   '--overwrite']) == 2
  assert 'unknown end_points nope' in capsys.readouterr().err
  assert os.listdir(out)  # The old export is untouched.
  assert cli.main(['export', '--out', out, '--overwrite']) == 0
  assert os.path.isdir(os.path.join(out, 'saved_model'))
  assert sorted(os.listdir(tmp_path)) == ['model']


def _export_ids(path):
  with open(os.path.join(path, 'export.json')) as f:
    return json.load(f)['end_points']


def test_a_swap_failing_midway_keeps_or_recovers_the_old_export(
    tmp_path, monkeypatch):
  """os.rename fails at the swap's second step (new export into place).

  Once: the old export is put back at once. Always (as if the process died
  between the renames): only <dir>.old is left, and the next export recovers
  it before replacing it. Catches the old swap, which moved the old export
  away first and left neither."""
  out = str(tmp_path / 'model')
  export.export_model(SHIPPED, out, formats=['frozen'])
  assert _export_ids(out) == []
  real_rename, calls = os.rename, []

  def failing(fail_from, forever):
    def rename(src, dst):
      calls.append((src, dst))
      if len(calls) >= fail_from and (forever or len(calls) == fail_from):
        raise OSError('disk gone (test)')
      return real_rename(src, dst)
    return rename
  monkeypatch.setattr(os, 'rename', failing(2, forever=False))
  with pytest.raises(OSError, match='disk gone'):
    export.export_model(SHIPPED, out, formats=['frozen'],
                        end_points=['global_pool'], overwrite=True)
  assert _export_ids(out) == []  # The old one, intact.
  assert sorted(os.listdir(tmp_path)) == ['model']
  calls.clear()
  monkeypatch.setattr(os, 'rename', failing(2, forever=True))
  with pytest.raises(OSError, match='disk gone'):
    export.export_model(SHIPPED, out, formats=['frozen'],
                        end_points=['global_pool'], overwrite=True)
  monkeypatch.setattr(os, 'rename', real_rename)
  assert sorted(os.listdir(tmp_path)) == ['model.old']  # The crash's state.
  assert _export_ids(out + '.old') == []
  with pytest.raises(export.ExportError, match='exists'):
    export.export_model(SHIPPED, out, formats=['frozen'])  # Recovered first.
  assert sorted(os.listdir(tmp_path)) == ['model'] and _export_ids(out) == []
  export.export_model(SHIPPED, out, formats=['frozen'],
                      end_points=['global_pool'], overwrite=True)
  assert sorted(os.listdir(tmp_path)) == ['model']
  assert _export_ids(out) == ['global_pool']


def test_frozen_graph_on_jpeg_equals_the_classifier(bytes_export, tmp_path):
  """JPEG through image_bytes (TF's decoder in the graph) vs the Classifier
  reading the same files (Pillow), an independently built session graph.
  Catches a JPEG decode in the export that is not the Classifier's (e.g.
  another DCT method or no RGB conversion), which PNG inputs cannot show."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  paths = []
  for i, f in enumerate(sample_files()):
    image = Image.open(f).convert('RGB')
    if i % 2:
      image = image.convert('L')  # Grayscale JPEGs too.
    paths.append(str(tmp_path / (os.path.basename(f)[:-4] + '.jpg')))
    image.save(paths[-1], quality=90)
  encoded = np.array([open(p, 'rb').read() for p in paths], dtype=object)
  predictions, pool = run_frozen(
      bytes_export.frozen_graph, 'image_bytes:0',
      ['predictions:0', 'end_points/global_pool:0'], encoded)
  with inference.FeatureExtractor(
      SHIPPED, end_points=['predictions', 'global_pool']) as extractor:
    expected = extractor.extract(paths)
  np.testing.assert_allclose(predictions, expected['predictions'], atol=1e-5)
  np.testing.assert_allclose(pool, expected['global_pool'], atol=1e-4,
                             rtol=1e-4)
