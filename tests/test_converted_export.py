"""ONNX, OpenVINO and TFLite exports, float32 and int8, against independent
references: the shipped checkpoint's session graph (FeatureExtractor) on
real digit files, and tf-slim's own resnet_v1_50 (tf_slim.nets) on random
weights; the accuracy gate on a broken calibration; eval of the int8
exports against the held-out accuracy the training script measured."""
import json
import os
import sys

import numpy as np
import pytest
from PIL import Image

import ckptutil
from slim_resnet import cli
from slim_resnet.data import image_folder
from slim_resnet.data import images as images_lib
from slim_resnet.inference import classifier as inference
from slim_resnet.inference import export
from slim_resnet.inference import runtimes
from slim_resnet.train import evaluation

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'scripts'))
import train_shipped_checkpoint as shipped_training  # pylint: disable=g-import-not-at-top,wrong-import-position

SHIPPED = 'digits_resnet_v1_18'
FORMATS = ('onnx', 'openvino', 'tflite')
# The training script's figure for the shipped checkpoint (model_spec.json).
HELDOUT_TOP1 = 0.9777


@pytest.fixture(scope='module')
def digits(tmp_path_factory):
  """The shipped checkpoint's train split (as the training script split it)
  and its held-out split, as image folders."""
  root = tmp_path_factory.mktemp('digits')
  images, labels = shipped_training.load_digits_rgb()
  train, _ = shipped_training.split(labels)
  train_dir = root / 'train'
  for i in train[::4]:  # 360 of the 1438.
    os.makedirs(train_dir / str(labels[i]), exist_ok=True)
    Image.fromarray(images[i]).save(train_dir / str(labels[i]) /
                                    ('%04d.png' % i))
  heldout = str(root / 'heldout')
  image_folder.write_sample_folder(heldout)
  return str(train_dir), heldout


@pytest.fixture(scope='module')
def exports(tmp_path_factory, digits):
  """{(format, precision): ExportResult} of the shipped checkpoint with
  global_pool, calibrated on the train split, checked on held-out digits."""
  train, heldout = digits
  out = tmp_path_factory.mktemp('exports')
  results = {}
  for fmt in FORMATS:
    for precision in ('float32', 'int8'):
      results[fmt, precision] = export.export_model(
          SHIPPED, str(out / ('%s_%s' % (fmt, precision))),
          end_points=['global_pool'], format=fmt, precision=precision,
          calibration=train if precision == 'int8' else None,
          calibration_size=200, check_images=heldout, check_size=120)
  return results


@pytest.fixture(scope='module')
def session_features(digits):
  """The checkpoint's own session graph on the held-out files."""
  paths = images_lib.list_images(digits[1])
  with inference.FeatureExtractor(
      SHIPPED, end_points=['predictions', 'global_pool']) as extractor:
    return paths, extractor.extract(paths)


def _cosines(a, b):
  a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
  return np.sum(a * b, 1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b,
                                                                      axis=1)


def _export_features(result, paths):
  """(the precision that ran, features) of an export on files, through
  FeatureExtractor as classify/extract run it."""
  with inference.FeatureExtractor(
      result.export_dir, end_points=['predictions', 'global_pool']) as ex:
    return ex.precision.name, ex.extract(paths)


@pytest.mark.parametrize('fmt', FORMATS)
def test_float32_export_equals_the_session(exports, session_features, fmt):
  paths, expected = session_features
  precision, found = _export_features(exports[fmt, 'float32'], paths)
  assert precision == 'float32'
  for key in ('predictions', 'global_pool'):
    assert found[key].shape == expected[key].shape
    scale = np.abs(expected[key]).max()
    np.testing.assert_allclose(found[key], expected[key], rtol=0,
                               atol=1e-4 * scale)


@pytest.mark.parametrize('fmt', FORMATS)
def test_int8_export_agrees_with_the_session(exports, session_features, fmt):
  paths, expected = session_features
  precision, found = _export_features(exports[fmt, 'int8'], paths)
  assert precision == 'int8'
  agreement = np.mean(found['predictions'].argmax(1) ==
                      expected['predictions'].argmax(1))
  assert agreement >= 0.98
  assert found['global_pool'].shape == expected['global_pool'].shape
  assert np.mean(_cosines(found['global_pool'], expected['global_pool'])) > (
      0.97)
  # Quantized: not the float32 numbers (the int8 path really ran).
  assert np.abs(found['global_pool'] - expected['global_pool']).max() > 1e-3


@pytest.mark.parametrize('fmt', FORMATS)
def test_export_json_describes_the_files(exports, fmt):
  for precision in ('float32', 'int8'):
    result = exports[fmt, precision]
    info = json.load(open(os.path.join(result.export_dir, 'export.json')))
    names = sorted(os.listdir(result.export_dir))
    assert info['format'] == fmt and info['precision'] == precision
    assert info['model_file'] in names
    assert info['runtime'] == runtimes.FORMATS[fmt][2]
    assert not [n for n in names if n.startswith('.')]  # No frozen leftover.
    assert set(info['outputs']) == {'logits', 'predictions', 'classes',
                                    'global_pool'}
    accuracy = info['accuracy']
    assert accuracy['images'] == 120 and accuracy['check_images'] == 'held back'
    assert accuracy['failures'] == []
    assert set(accuracy['outputs']) == {'logits', 'global_pool'}
    if precision == 'int8':
      assert info['calibration']['calibration_images'] == 200
      assert accuracy['bounds'] == {'top1_agreement': 0.99,
                                    'mean_cosine': 0.99}
    # Labels and preprocessing as the checkpoint's.
    assert open(os.path.join(result.export_dir, 'labels.txt')).read() == (
        open(os.path.join(ROOT, 'checkpoints', SHIPPED, 'labels.txt')).read())


@pytest.fixture(scope='module')
def checkpoint_eval(digits):
  return evaluation.evaluate(SHIPPED, digits[1], split='all', batch_size=50,
                             progress=False)


@pytest.mark.parametrize('fmt', FORMATS)
def test_eval_of_the_int8_export_keeps_the_heldout_accuracy(
    exports, digits, checkpoint_eval, fmt):
  result = evaluation.evaluate(exports[fmt, 'int8'].export_dir, digits[1],
                               split='all', batch_size=50, progress=False)
  assert result.num_examples == 359
  assert result.precision == 'int8'
  assert abs(result.top1 - HELDOUT_TOP1) <= 0.005
  # The loss from its logits, near the checkpoint's own.
  assert abs(result.loss - checkpoint_eval.loss) < 0.02
  assert result.class_counts == checkpoint_eval.class_counts


def test_classify_on_another_runtime(exports, digits, capsys):
  """An onnx export run by onnxruntime and by OpenVINO prints the table the
  checkpoint prints."""
  onnx_dir = exports['onnx', 'float32'].export_dir
  paths = images_lib.list_images(digits[1])[::20]
  tables = []
  for extra in (['--checkpoint', onnx_dir, '--runtime', 'onnxruntime'],
                ['--checkpoint', onnx_dir, '--runtime', 'openvino'],
                ['--checkpoint', SHIPPED]):
    assert cli.main(['classify'] + paths + ['--top-k', '2'] + extra) == 0
    tables.append([line.split()[:3] for line in
                   capsys.readouterr().out.splitlines()])
  assert len(tables[2]) == 2 * len(paths) + 1
  assert tables[0] == tables[2] and tables[1] == tables[2]


def test_extract_keys_and_values_from_an_export(exports, digits, tmp_path):
  tflite_dir = exports['tflite', 'float32'].export_dir
  for checkpoint, out in ((tflite_dir, 'a.npz'), (SHIPPED, 'b.npz')):
    assert cli.main(['extract', '--checkpoint', checkpoint, '--images',
                     digits[1], '--end-points', 'global_pool', '--pool', 'avg',
                     '--out', str(tmp_path / out), '--no-progress']) == 0
  a, b = (np.load(tmp_path / n) for n in ('a.npz', 'b.npz'))
  assert sorted(a.files) == sorted(b.files)
  assert list(a['paths']) == list(b['paths'])
  np.testing.assert_allclose(a['global_pool'], b['global_pool'], rtol=0,
                             atol=1e-4 * np.abs(b['global_pool']).max())


def test_the_gate_fails_on_a_black_calibration(digits, tmp_path, capsys):
  black = tmp_path / 'black'
  os.makedirs(black)
  for i in range(40):
    Image.fromarray(np.zeros([32, 32, 3], np.uint8)).save(black /
                                                          ('%d.png' % i))
  out = tmp_path / 'int8'
  args = ['export', '--out', str(out), '--format', 'tflite', '--precision',
          'int8', '--calibration', str(black), '--check-images', digits[1],
          '--check-size', '100']
  assert cli.main(args) == 2
  error = capsys.readouterr().err
  assert 'top-1 agreement' in error and '--accept-accuracy-drop' in error
  assert not os.path.exists(out)
  assert not [n for n in os.listdir(tmp_path) if n.startswith('.')]
  # Accepted, it is written with its failures on record.
  assert cli.main(args + ['--accept-accuracy-drop']) == 0
  info = json.load(open(out / 'export.json'))
  assert info['accuracy']['failures']
  assert info['accuracy']['top1_agreement'] < 0.99


@pytest.fixture(scope='module')
def random_resnet_v1_50(tmp_path_factory):
  """tf-slim's resnet_v1_50 (5 classes, 64 px) with random weights and
  batch norm, saved; the reference session on two structured images."""
  built, values = ckptutil.reference('resnet_v1_50', 5)
  prefix = ckptutil.save(values, str(tmp_path_factory.mktemp('r50') /
                                     'model.ckpt'))
  images = np.random.RandomState(3).uniform(
      -100, 100, ckptutil.SHAPE).astype(np.float32)
  expected = built.session.run(
      {'logits': built.net,
       'block3': built.end_points['resnet_v1_50/block3']},
      {built.inputs: images})
  built.session.close()
  expected['logits'] = expected['logits'].reshape(-1, 5)  # [2, 1, 1, 5].
  return prefix, images, expected


@pytest.mark.slow
@pytest.mark.parametrize('fmt', FORMATS)
@pytest.mark.parametrize('precision', ['float32', 'int8'])
def test_random_resnet_v1_50_against_tf_slim(random_resnet_v1_50, tmp_path,
                                             fmt, precision):
  """float32 equals tf-slim's net within 1e-4 of scale; int8 (random
  weights: near-tied logits, so the gate is waived) keeps the features'
  direction."""
  prefix, images, expected = random_resnet_v1_50
  calibration = None
  if precision == 'int8':
    calibration = tmp_path / 'calibration'
    os.makedirs(calibration)
    rng = np.random.RandomState(1)
    for i in range(12):
      Image.fromarray(rng.randint(0, 256, [80, 80, 3]).astype(np.uint8)).save(
          calibration / ('%d.png' % i))
  result = export.export_model(
      prefix, str(tmp_path / fmt), end_points=['resnet_v1_50/block3'],
      format=fmt, precision=precision, model='resnet_v1_50', num_classes=5,
      image_size=64, preprocessing='vgg',
      batch_size=2 if fmt == 'onnx' else None,
      calibration=calibration and str(calibration),
      accept_accuracy_drop=precision == 'int8')
  assert result.accuracy['images'] == (
      3 if precision == 'int8' else 2 if fmt == 'onnx' else 8)
  model = runtimes.load(result.export_dir)
  try:
    found = model.run(images[:1])  # One image through a fixed batch of 2.
    assert found['logits'].shape == (1, 5)
    found = model.run(images)
  finally:
    model.close()
  assert found['resnet_v1_50/block3'].shape == (2, 2, 2, 1024)
  if precision == 'int8':
    assert np.all(_cosines(found['resnet_v1_50/block3'],
                           expected['block3']) > 0.9)
    return
  for key, name in (('logits', 'logits'), ('block3', 'resnet_v1_50/block3')):
    scale = np.abs(expected[key]).max()
    np.testing.assert_allclose(found[name], expected[key], rtol=0,
                               atol=1e-4 * scale)


def test_tensorflow_exports_run_as_checkpoints(session_features, tmp_path,
                                               capsys):
  """The frozen graph and the SavedModel as --checkpoint (the tensorflow
  runtime) give the checkpoint's numbers; an image_bytes export is refused
  in one line."""
  paths, expected = session_features
  for fmt, batch_size in (('frozen', 2), ('savedmodel', None)):
    out = str(tmp_path / fmt)  # 359 images through a fixed batch of 2.
    export.export_model(SHIPPED, out, end_points=['global_pool'], format=fmt,
                        batch_size=batch_size)
    with inference.FeatureExtractor(
        out, end_points=['predictions', 'global_pool']) as ex:
      found = ex.extract(paths)
    for key in ('predictions', 'global_pool'):
      np.testing.assert_allclose(found[key], expected[key], rtol=0,
                                 atol=1e-4 * np.abs(expected[key]).max())
  out = str(tmp_path / 'bytes')
  export.export_model(SHIPPED, out, input_type='image_bytes', format='frozen')
  assert cli.main(['classify', paths[0], '--checkpoint', out]) == 2
  error = capsys.readouterr().err.strip().splitlines()
  assert len(error) == 1 and '--input-type images' in error[0]


def test_openvino_bfloat16_falls_back_without_native_bf16(monkeypatch,
                                                          tmp_path, capsys):
  from slim_resnet.inference.runtimes import openvino_runtime  # pylint: disable=g-import-not-at-top
  monkeypatch.setattr(openvino_runtime, 'bfloat16_support', lambda: False)
  out = tmp_path / 'bf16'
  assert cli.main(['export', '--out', str(out), '--format', 'openvino',
                   '--precision', 'bfloat16', '--precision-strict']) == 2
  assert 'not supported here' in capsys.readouterr().err
  assert cli.main(['export', '--out', str(out), '--format', 'openvino',
                   '--precision', 'bfloat16']) == 0
  assert 'writing float32' in capsys.readouterr().err
  info = json.load(open(out / 'export.json'))
  assert info['precision'] == 'float32'
  assert info['precision_requested'] == 'bfloat16'
  assert 'no native bf16' in info['precision_reason']


def test_bad_combinations_are_one_line(tmp_path, capsys):
  for args, expected in (
      (['--format', 'tflite', '--precision', 'int8'], '--calibration'),
      (['--format', 'onnx', '--precision', 'bfloat16'], 'openvino'),
      (['--precision', 'int8'], '--format onnx, openvino or tflite'),
      (['--format', 'onnx', '--input-type', 'image_bytes'], 'image_bytes'),
      (['--format', 'frozen', '--calibration', str(tmp_path)],
       '--calibration and --check-images are for')):
    assert cli.main(['export', '--out', str(tmp_path / 'x')] + args) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and expected in error[0], (args, error)
  assert not os.path.exists(tmp_path / 'x')


def test_a_missing_extra_names_the_install(monkeypatch, tmp_path, capsys):
  for module in ('onnxruntime', 'slim_resnet.inference.runtimes.onnx_runtime',
                 'openvino', 'slim_resnet.inference.runtimes.openvino_runtime'):
    monkeypatch.delitem(sys.modules, module, raising=False)
  monkeypatch.setitem(sys.modules, 'onnxruntime', None)  # ImportError.
  monkeypatch.setitem(sys.modules, 'openvino', None)
  for fmt, extra in (('onnx', 'onnx'), ('openvino', 'openvino')):
    assert cli.main(['export', '--out', str(tmp_path / fmt), '--format',
                     fmt]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1
    assert "pip install 'slim_resnet[%s]'" % extra in error[0], error


def test_calibration_and_check_images_never_overlap(tmp_path):
  """Each file a distinct gray level: the two sets share none, have the
  sizes asked, and are the files' pixels through vgg preprocessing
  (minus the channel means)."""
  from slim_resnet.checkpoints import model_spec  # pylint: disable=g-import-not-at-top
  from slim_resnet.inference import calibration  # pylint: disable=g-import-not-at-top
  for level in range(60):
    Image.fromarray(np.full([40, 36, 3], 3 * level, np.uint8)).save(
        tmp_path / ('%02d.png' % level))
  spec = model_spec.resolve_model(SHIPPED)
  sets = calibration.calibration_sets(spec, str(tmp_path), calibration_size=30,
                                      check_size=20)
  assert sets.calibration.shape == (30, 32, 32, 3)
  assert sets.check.shape == (20, 32, 32, 3)
  red_mean = 123.68  # vgg_preprocessing's _R_MEAN.
  levels = lambda images: {round(float(v)) for v in images[:, 0, 0, 0] +
                           red_mean}
  assert not levels(sets.calibration) & levels(sets.check)
  assert levels(sets.calibration) | levels(sets.check) <= {
      3 * level for level in range(60)}
  assert len(levels(sets.calibration)) == 30
  # Fewer images than both: a quarter is held back.
  few = calibration.calibration_sets(spec, str(tmp_path), calibration_size=100,
                                     check_size=100)
  assert (len(few.calibration), len(few.check)) == (45, 15)
  # A check source of its own: its files are left out of calibration.
  own = calibration.calibration_sets(
      spec, str(tmp_path), calibration_size=100,
      check_source=[str(tmp_path / '00.png'), str(tmp_path / '01.png')])
  assert len(own.check) == 2 and len(own.calibration) == 58
  assert not levels(own.calibration) & {0, 3}


def test_the_gate_fails_on_non_finite_outputs():
  """NaN logits give argmax 0 everywhere: top-1 alone could pass them."""
  from slim_resnet.inference import export_check  # pylint: disable=g-import-not-at-top
  expected = {'logits': np.array([[2.0, 1.0], [3.0, 0.0]]),
              'classes': np.array([0, 0])}
  found = {'logits': np.array([[np.nan, np.nan], [np.nan, np.nan]]),
           'classes': np.array([0, 0])}
  figures = export_check.agreement(expected, found)
  assert figures['top1_agreement'] == 1.0
  for precision in ('int8', 'float32', 'bfloat16'):
    assert any('NaN' in f for f in export_check.failures(figures, precision))
