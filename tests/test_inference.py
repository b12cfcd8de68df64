"""Classifier / FeatureExtractor on the shipped checkpoint, and the CLIs."""
import glob
import json
import os
import re

import numpy as np
import pytest
import tensorflow as tf
import tf_slim as slim
from PIL import Image

from slim_resnet import cli
from slim_resnet import resnet_v1
from slim_resnet.checkpoints import assets
from slim_resnet.checkpoints import restorer
from slim_resnet.inference import classifier as inference
from slim_resnet.inference import extraction
from slim_resnet.preprocessing import vgg_preprocessing

SHIPPED = assets.asset_path('digits_resnet_v1_18')
KEYS = ['resnet_v1_18/block3', 'global_pool']


@pytest.fixture(scope='module')
def extractor():
  with inference.FeatureExtractor(end_points=KEYS, batch_size=8) as fx:
    yield fx


@pytest.fixture(scope='module')
def heldout():
  with np.load(SHIPPED / 'heldout.npz') as data:
    return data['images'], data['labels']


@pytest.fixture(scope='module')
def image_dir(tmp_path_factory, heldout):
  """20 held-out digits as PNG files, in every colour mode, and a bad file."""
  images, labels = heldout
  root = tmp_path_factory.mktemp('images')
  for i in range(20):
    gray = images[i]
    mode = i % 4
    if mode == 0:
      Image.fromarray(gray).save(root / ('%02d_gray.png' % i))
    elif mode == 1:
      Image.fromarray(np.stack([gray] * 3, -1)).save(root / ('%02d_rgb.png' % i))
    elif mode == 2:
      rgba = np.stack([gray] * 3 + [np.full_like(gray, 255)], -1)
      Image.fromarray(rgba).save(root / ('%02d_rgba.png' % i))
    else:
      Image.fromarray(gray).save(root / ('%02d_q.jpg' % i), quality=100)
  (root / 'corrupt.png').write_bytes(b'\x89PNG\r\n\x1a\n broken')
  return root, labels[:20]


def test_shipped_checkpoint_accuracy(heldout):
  images, labels = heldout
  recorded = json.load(open(SHIPPED / 'model_spec.json'))['provenance'][
      'heldout_accuracy']
  with inference.Classifier(batch_size=64) as classifier:
    top = classifier.classify(list(images), top_k=1)
  accuracy = np.mean([int(t[0][0]) == l for t, l in zip(top, labels)])
  assert accuracy == pytest.approx(recorded, abs=0.003)
  assert accuracy > 0.95


def test_extract_equals_a_direct_session_run(extractor, image_dir):
  root, _ = image_dir
  paths = sorted(glob.glob(str(root / '*.png')))[:6]
  from_memory = extractor.extract(paths)
  batches = list(extractor.iter_files(paths))
  from_files = {k: np.concatenate([b.outputs[k] for b in batches])
                for k in KEYS}
  # A graph built by hand: preprocessing, net, restore.
  with tf.Graph().as_default():
    raw = tf.compat.v1.placeholder(tf.uint8, [None, None, 3])
    image = vgg_preprocessing.preprocess_image(raw, 32, 32,
                                               resize_side_min=32)
    with slim.arg_scope(resnet_v1.resnet_arg_scope()):
      _, end_points = resnet_v1.resnet_v1_18(
          tf.expand_dims(image, 0), 10, is_training=False,
          depth_multiplier=0.125)
    with tf.compat.v1.Session() as sess:
      restorer.restore(sess, str(SHIPPED / 'model.ckpt'))
      for i, path in enumerate(paths):
        rgb = np.asarray(Image.open(path).convert('RGB'))
        direct = sess.run([end_points[k] for k in KEYS], {raw: rgb})
        for key, value in zip(KEYS, direct):
          np.testing.assert_allclose(from_memory[key][i], value[0], atol=1e-4)
          np.testing.assert_allclose(from_files[key][i], value[0], atol=1e-4)
  assert from_memory['resnet_v1_18/block3'].shape == (6, 1, 1, 32)


def test_every_colour_mode_classifies(image_dir):
  root, labels = image_dir
  with inference.Classifier() as classifier:
    results = {os.path.basename(p): (top, err) for p, top, err in
               classifier.classify_files(sorted(glob.glob(str(root / '*'))),
                                         top_k=1)}
  assert results['corrupt.png'][0] is None
  assert re.search('corrupt|not an image', results['corrupt.png'][1])
  good = [(name, top) for name, (top, _) in results.items() if top]
  assert len(good) == 20
  correct = sum(int(top[0][0]) == labels[int(name[:2])] for name, top in good)
  assert correct >= 19


def test_unknown_end_point(extractor):
  with pytest.raises(KeyError, match='unknown end_points nope.*resnet_v1_18/'
                     'conv1'):
    extractor.extract([np.zeros((8, 8), np.uint8)], ['nope'])


def test_cli_classify_shipped_samples(capsys):
  samples = sorted(glob.glob(str(SHIPPED / 'samples' / '*.png')))
  assert cli.main(['classify'] + samples + ['--top-k', '1']) == 0
  lines = capsys.readouterr().out.strip().splitlines()[1:]
  assert len(lines) == 10
  for line in lines:
    name, rank, label, probability = line.split()
    assert name.endswith('digit_%s.png' % label) and rank == '1'
    assert 0.5 < float(probability) <= 1.0


def test_cli_extract_npz_with_bad_file(image_dir, tmp_path, capsys):
  root, _ = image_dir
  out = str(tmp_path / 'features.npz')
  assert cli.main(['extract', '--images', str(root), '--end-points',
                   ','.join(KEYS), '--out', out, '--pool', 'avg',
                   '--batch-size', '8', '--shard-size', '8',
                   '--no-progress']) == 1  # 1: done, with skipped files
  captured = capsys.readouterr()
  assert 'wrote 20 images' in captured.out
  assert 'skipped %s' % (root / 'corrupt.png') in captured.err
  features = extraction.load_features(out)
  assert features['resnet_v1_18/block3'].shape == (20, 32)
  assert features['global_pool'].shape == (20, 64)
  assert len(set(features['paths'])) == 20
  assert list(features['failed']) == [str(root / 'corrupt.png')]
  assert not os.path.exists(out + '.parts')


def test_resume_after_an_interrupted_run(extractor, image_dir, tmp_path):
  root, _ = image_dir
  paths = sorted(glob.glob(str(root / '*')))
  out = str(tmp_path / 'shards')
  real_iter = extractor.iter_files
  calls = []

  def dying_iter(*args, **kwargs):
    for batch in real_iter(*args, **kwargs):
      calls.append(1)
      if len(calls) == 3:  # The third batch: the process is "killed".
        raise KeyboardInterrupt
      yield batch

  extractor.iter_files = dying_iter
  try:
    with pytest.raises(KeyboardInterrupt):
      extraction.extract_to_files(extractor, paths, out, KEYS,
                                  shard_size=8, progress=False)
  finally:
    extractor.iter_files = real_iter
  partial = extraction.load_features(out)
  assert 0 < len(partial['paths']) < 20
  with pytest.raises(extraction.ExtractionError, match='resume=True'):
    extraction.extract_to_files(extractor, paths, out, KEYS, shard_size=8,
                                progress=False)
  summary = extraction.extract_to_files(extractor, paths, out, KEYS,
                                        shard_size=8, resume=True,
                                        progress=False)
  assert summary['done'] == 20
  features = extraction.load_features(out)
  assert sorted(features['paths']) == sorted(p for p in paths
                                             if 'corrupt' not in p)
  assert len(features['paths']) == 20
  direct = extractor.extract(list(features['paths'][:4]))
  np.testing.assert_allclose(features['global_pool'][:4],
                             direct['global_pool'], atol=1e-5)


def test_cli_ckpt_commands(capsys):
  assert cli.main(['ckpt', 'list']) == 0
  out = capsys.readouterr().out
  assert 'resnet_v2_50' in out and 'shipped' in out
  assert cli.main(['ckpt', 'inspect', str(SHIPPED)]) == 0
  assert 'model: resnet_v1_18' in capsys.readouterr().out
  assert cli.main(['ckpt', 'inspect', 'digits_resnet_v1_18']) == 0
  assert 'depth_multiplier: 0.125' in capsys.readouterr().out
  assert cli.main(['ckpt', 'check', str(SHIPPED), '--model', 'resnet_v1_18',
                   '--num-classes', '10', '--depth-multiplier', '0.125']) == 0
  assert 'ok: ' in capsys.readouterr().out
  assert cli.main(['ckpt', 'check', str(SHIPPED), '--model', 'resnet_v1_18',
                   '--num-classes', '10', '--depth-multiplier', '1']) == 2
  captured = capsys.readouterr()  # The report, then the one error line.
  assert 'depth_multiplier=0.125' in captured.out
  assert len(captured.err.strip().splitlines()) == 1
  assert 'does not restore into resnet_v1_18' in captured.err
  assert cli.main(['ckpt', 'inspect', '/no/such/ckpt']) == 2
  assert 'not a known checkpoint name' in capsys.readouterr().err


def test_cli_extract_resumes_after_sigkill(image_dir, tmp_path):
  """A real kill -9 between shards; the resumed run writes each image once."""
  import signal  # pylint: disable=g-import-not-at-top
  import subprocess  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top
  import time  # pylint: disable=g-import-not-at-top
  root, _ = image_dir
  images = tmp_path / 'many'
  images.mkdir()
  good = [p for p in sorted(root.glob('*.png')) if 'corrupt' not in p.name]
  for i, path in enumerate(good * 4):
    (images / ('%03d_%s' % (i, path.name))).write_bytes(path.read_bytes())
  out = tmp_path / 'out'
  command = [sys.executable, '-m', 'slim_resnet.cli', 'extract', '--images',
             str(images), '--end-points', 'global_pool', '--out', str(out),
             '--batch-size', '2', '--shard-size', '2', '--no-progress']
  env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(
      os.path.abspath(__file__))))
  proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
  deadline = time.time() + 120
  index = out / 'index.json'
  while time.time() < deadline and proc.poll() is None:
    if index.exists() and len(json.load(open(index))['shards']) >= 2:
      break
    time.sleep(0.05)
  proc.send_signal(signal.SIGKILL)
  proc.wait(timeout=30)
  done_before = len(json.load(open(index))['done'])
  total = len(list(images.iterdir()))
  assert 0 < done_before < total
  subprocess.run(command + ['--resume'], env=env, check=True, timeout=300,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  features = extraction.load_features(str(out))
  names = sorted(os.path.basename(p) for p in features['paths'])
  assert names == sorted(p.name for p in images.iterdir())
  assert features['global_pool'].shape[0] == total


def test_list_end_points_downloads_nothing(monkeypatch, capsys):
  """issue 26 item 14: it downloaded resnet_v1_50 to list names the model
  alone defines."""
  from slim_resnet.checkpoints import fetch  # pylint: disable=g-import-not-at-top
  fetched = []
  real = fetch.fetch_checkpoint
  monkeypatch.setattr(fetch, 'fetch_checkpoint', lambda name, *a, **k: (
      fetched.append(name), real(name, *a, **k))[1])
  assert cli.main(['extract', '--list-end-points', '--checkpoint',
                   'resnet_v1_50']) == 0
  out = capsys.readouterr().out
  assert 'resnet_v1_50/block4' in out and '(None, 7, 7, 2048)' in out
  assert fetched == []
  # The same keys and shapes as the extractor that restores the checkpoint.
  assert cli.main(['extract', '--list-end-points']) == 0
  listed = capsys.readouterr().out.splitlines()
  with inference.FeatureExtractor() as extractor:
    assert listed == ['%-60s %s' % (k, t.shape)
                      for k, t in extractor.end_points.items()]
