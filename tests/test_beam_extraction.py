"""extract --beam on the DirectRunner (multi_processing, 2 workers) against
single-process `extract` on the same files, and against the TFRecords read
independently (protobuf and Pillow): same keys, each input once, the same
values, bad files listed, labels carried, a stopped run resumed."""
import io
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from slim_resnet import cli
from slim_resnet.data import image_folder
from slim_resnet.data import images as images_lib
from slim_resnet.inference import classifier as inference
from slim_resnet.inference import extraction

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIPPED = 'digits_resnet_v1_18'
WORKERS = ['--direct_num_workers=2', '--direct_running_mode=multi_processing']
END_POINTS = ['global_pool', 'predictions']
BAD = {'broken.png': b'\x89PNG not really', 'empty.jpg': b''}


@pytest.fixture(scope='module')
def folder(tmp_path_factory):
  """The 359 held-out digits, plus two files that do not decode."""
  root = str(tmp_path_factory.mktemp('beam') / 'digits')
  image_folder.write_sample_folder(root)
  for name, data in BAD.items():
    with open(os.path.join(root, name), 'wb') as f:
      f.write(data)
  return root


@pytest.fixture(scope='module')
def single(folder, tmp_path_factory):
  """Single-process extract of the same files."""
  out = str(tmp_path_factory.mktemp('single') / 'features')
  with inference.FeatureExtractor(SHIPPED, batch_size=32) as extractor:
    extraction.extract_to_files(extractor, images_lib.list_images(folder),
                                out, END_POINTS, pooling='avg',
                                progress=False)
  return extraction.load_features(out)


def _beam(args):
  return cli.main(['extract', '--beam', '--end-points', ','.join(END_POINTS),
                   '--pool', 'avg'] + args + WORKERS)


def _by_key(features):
  order = np.argsort(features['paths'])
  return {k: (v[order] if k != 'failed' else v) for k, v in features.items()}


def _assert_same(found, expected):
  found, expected = _by_key(found), _by_key(expected)
  assert len(set(found['paths'])) == len(found['paths'])  # Each once.
  assert list(found['paths']) == list(expected['paths'])
  for key in END_POINTS:
    scale = np.abs(expected[key]).max()
    # Batches differ (BatchElements), so float rounding may: 1e-6 of scale.
    np.testing.assert_allclose(found[key], expected[key], rtol=0,
                               atol=1e-6 * scale)


def test_features_equal_single_process_extract(folder, single, tmp_path,
                                               capsys):
  out = str(tmp_path / 'beam')
  assert _beam(['--images', folder, '--out', out, '--num-shards', '3']) == 1
  err = capsys.readouterr().err
  assert all('skipped %s' % os.path.join(folder, n) in err for n in BAD)
  found = extraction.load_features(out)
  _assert_same(found, single)
  assert len(found['paths']) == 359
  assert found['failed'] == single['failed'] and len(found['failed']) == 2
  index = json.load(open(os.path.join(out, extraction.INDEX)))
  assert sorted(s['file'] for s in index['shards']) == [
      'features-r0-%05d-of-00003.npz' % i for i in range(3)]
  assert sum(s['count'] for s in index['shards']) == 359
  # A second run into the same output: refused without --resume.
  assert _beam(['--images', folder, '--out', out]) == 2
  assert '--resume' in capsys.readouterr().err


def test_a_stopped_run_resumes_with_each_input_once(folder, single, tmp_path,
                                                    capsys):
  out = tmp_path / 'beam'
  assert _beam(['--images', folder, '--out', str(out), '--num-shards',
                '4']) == 1
  # As a run stopped while writing: two shards, the failures and the
  # index never written.
  for name in ('features-r0-00001-of-00004.npz',
               'features-r0-00003-of-00004.npz', 'failed-r0.json',
               extraction.INDEX):
    os.remove(out / name)
  assert _beam(['--images', folder, '--out', str(out), '--resume']) == 1
  capsys.readouterr()
  found = extraction.load_features(str(out))
  _assert_same(found, single)
  assert found['failed'] == single['failed']
  assert any(n.startswith('features-r1-') for n in os.listdir(out))


def _records(directory):
  """{key: (label, uint8 image)} of research/slim TFRecords, read with
  protobuf and Pillow alone."""
  from tensorflow.core.example import example_pb2  # pylint: disable=g-import-not-at-top
  from tensorflow.python.lib.io import tf_record  # pylint: disable=g-import-not-at-top
  found = {}
  for name in sorted(os.listdir(directory)):
    if not name.endswith('.tfrecord'):
      continue
    path = os.path.join(directory, name)
    for i, record in enumerate(tf_record.tf_record_iterator(path)):
      feature = example_pb2.Example.FromString(record).features.feature
      image = np.asarray(Image.open(io.BytesIO(
          feature['image/encoded'].bytes_list.value[0])).convert('RGB'))
      found['%s:%d' % (path, i)] = (
          feature['image/class/label'].int64_list.value[0], image)
  return found


@pytest.mark.slow
def test_tfrecords_labels_come_through(folder, tmp_path):
  """TFRecords from `data convert`, written as .tfrecord shards and as .npz
  shards (the latter stopped part way and resumed): keys, labels and
  features as the records hold them."""
  digits = tmp_path / 'digits'
  image_folder.write_sample_folder(str(digits))
  records = str(tmp_path / 'records')
  assert cli.main(['data', 'convert', str(digits), records, '--name',
                   'digits']) == 0
  expected = _records(records)
  keys = sorted(expected)
  assert len(keys) == 359
  with inference.FeatureExtractor(SHIPPED, end_points=END_POINTS) as fx:
    reference = fx.extract([expected[k][1] for k in keys])
  out = tmp_path / 'npz'
  assert _beam(['--images', records, '--out', str(out), '--num-shards',
                '3']) == 0
  os.remove(out / 'features-r0-00001-of-00003.npz')  # A stopped run.
  os.remove(out / extraction.INDEX)
  assert _beam(['--images', records, '--out', str(out), '--resume']) == 0
  for output_format, directory in (('npz', out),
                                   ('tfrecord', tmp_path / 'tfrecord')):
    if output_format == 'tfrecord':
      assert _beam(['--images', records, '--out', str(directory),
                    '--output-format', 'tfrecord']) == 0
    found = extraction.load_features(str(directory))
    assert sorted(found['paths']) == keys
    labels = dict(zip(found['paths'], found['labels']))
    assert labels == {k: v[0] for k, v in expected.items()}
    order = np.argsort(found['paths'])
    for key in END_POINTS:
      pooled = extraction.pool(reference[key], 'avg')
      np.testing.assert_allclose(found[key][order], pooled, rtol=0,
                                 atol=1e-6 * np.abs(pooled).max())


def _descendants(pid):
  """Process ids below pid (from /proc)."""
  children = {}
  for entry in os.listdir('/proc'):
    if entry.isdigit():
      try:
        with open('/proc/%s/stat' % entry) as f:
          parent = int(f.read().rsplit(')', 1)[1].split()[1])
      except (OSError, IndexError, ValueError):
        continue
      children.setdefault(parent, []).append(int(entry))
  found, todo = [], [pid]
  while todo:
    for child in children.get(todo.pop(), []):
      found.append(child)
      todo.append(child)
  return found


def _python_worker_with_model(pid):
  """A Beam SDK worker below pid that has loaded TensorFlow, or None."""
  for child in _descendants(pid):
    try:
      command = open('/proc/%d/cmdline' % child, 'rb').read().split(b'\0')
      maps = open('/proc/%d/maps' % child).read()
    except OSError:
      continue
    if (command and command[0].endswith((b'python', b'python3')) and
        b'apache_beam.runners.worker.sdk_worker_main' in command and
        '_pywrap_tensorflow_internal' in maps):
      return child
  return None


@pytest.mark.slow
def test_a_killed_worker_then_resume_gives_each_input_once(folder, single,
                                                           tmp_path):
  """A worker killed mid-run: the DirectRunner retries no bundle, so the
  run stops with one line saying --resume; resumed, each input is in the
  output once."""
  out = str(tmp_path / 'beam')
  command = [sys.executable, '-m', 'slim_resnet.cli', 'extract', '--beam',
             '--images', folder, '--out', out, '--end-points',
             ','.join(END_POINTS), '--pool', 'avg', '--batch-size', '2',
             '--num-shards', '4'] + WORKERS
  env = dict(os.environ, PYTHONPATH=ROOT)
  proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
  killed = None
  deadline = time.time() + 300
  while killed is None and proc.poll() is None and time.time() < deadline:
    worker = _python_worker_with_model(proc.pid)
    if worker:
      time.sleep(1.0)  # Into its bundles.
      os.kill(worker, signal.SIGKILL)
      killed = worker
    time.sleep(0.2)
  _, err = proc.communicate(timeout=300)
  assert killed, 'no worker process seen'
  if proc.returncode == 2:
    lines = [l for l in err.splitlines() if 'error' in l]
    assert len(lines) == 1 and '--resume' in lines[0], err[-2000:]
    resumed = subprocess.run(command + ['--resume'], env=env,
                             capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 1, resumed.stderr[-2000:]
  else:  # The killed worker's bundles were done: nothing to resume.
    assert proc.returncode == 1, err[-2000:]
  found = extraction.load_features(out)
  _assert_same(found, single)
  assert found['failed'] == single['failed']


def test_missing_extra_and_bad_flags_are_one_line(monkeypatch, tmp_path,
                                                  capsys):
  for args, expected in (
      (['--beam', '--out', str(tmp_path / 'x.npz')], 'directory'),
      (['--beam', '--out', 'gs://bucket/features'], 'mounts'),
      # Beam drops (with a warning) what it cannot parse: a mistyped flag
      # of ours would have vanished, and predictions been written instead.
      (['--beam', '--out', str(tmp_path / 'w'), '--end_points', 'global_pool'],
       'unrecognized arguments: --end_points'),
      (['--output-format', 'tfrecord', '--out', str(tmp_path / 'y')],
       '--beam')):
    assert cli.main(['extract', '--images', ROOT + '/checkpoints'] +
                    args) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and expected in error[0], error
  import slim_resnet.inference  # pylint: disable=g-import-not-at-top
  monkeypatch.delitem(sys.modules, 'slim_resnet.inference.beam_extraction',
                      raising=False)
  monkeypatch.delattr(slim_resnet.inference, 'beam_extraction', raising=False)
  monkeypatch.setitem(sys.modules, 'apache_beam', None)
  assert cli.main(['extract', '--beam', '--images', ROOT, '--out',
                   str(tmp_path / 'z')]) == 2
  error = capsys.readouterr().err.strip().splitlines()
  assert len(error) == 1 and "pip install 'slim_resnet[beam]'" in error[0]


@pytest.mark.parametrize('output_format', ['npz', 'tfrecord'])
def test_a_retried_shard_write_writes_the_same_file(tmp_path, output_format):
  """What makes a runner's retries safe (Dataflow, Flink and Spark retry a
  failed bundle; the DirectRunner cannot be made to): the same shard from
  its rows in any order is the same file in the same place (the same bytes
  for TFRecords; for .npz, whose zip stamps the time, the same arrays)."""
  from slim_resnet.inference import beam_extraction  # pylint: disable=g-import-not-at-top
  rng = np.random.RandomState(0)
  rows = [('img%02d.png' % i, i % 3, {'global_pool': rng.rand(4).astype(
      np.float32)}) for i in range(10)]
  written = []
  for order in (rows, rows[::-1]):
    name = beam_extraction.write_shard(
        (2, order), str(tmp_path), 0, 5, output_format, ['global_pool'], True)
    if output_format == 'npz':
      with np.load(tmp_path / name) as data:
        content = {k: data[k].tolist() for k in data.files}
    else:
      content = open(tmp_path / name, 'rb').read()
    written.append((name, content))
  assert written[0] == written[1]
  assert os.listdir(tmp_path) == [written[0][0]]
  assert beam_extraction.shard_of('img03.png', 5) == (
      beam_extraction.shard_of('img03.png', 5))
