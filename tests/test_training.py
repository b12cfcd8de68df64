"""Fine-tuning on real images (scikit-learn's digits as PNG files): a new
5-class head learns, only trainable scopes change, UPDATE_OPS run where batch
norm trains, a SIGKILLed run resumes, and bad setups fail clearly."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

import digitsutil
from slim_resnet import train as training
from slim_resnet.checkpoints import errors
from slim_resnet.checkpoints import fetch
from slim_resnet.data import datasets
from slim_resnet.data import tfrecords
from slim_resnet.train import evaluation

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIPPED = 'digits_resnet_v1_18'
SCOPE = 'resnet_v1_18'


def values(checkpoint):
  reader = tf.compat.v1.train.NewCheckpointReader(checkpoint)
  return {n: reader.get_tensor(n) for n in reader.get_variable_to_shape_map()}


@pytest.fixture(scope='module')
def folder(tmp_path_factory):
  root = tmp_path_factory.mktemp('digits5')
  digitsutil.write_folder(root, per_class=100)
  return str(root)


@pytest.fixture(scope='module')
def records(folder, tmp_path_factory):
  out = tmp_path_factory.mktemp('records')
  tfrecords.convert_image_folder(folder, str(out), name='digits')
  return str(out)


def config(train_dir, dataset, **kwargs):
  options = dict(
      train_dir=str(train_dir), dataset=dataset, checkpoint=SHIPPED,
      checkpoint_exclude_scopes=[SCOPE + '/logits'], batch_size=32,
      learning_rate=0.1, save_checkpoint_steps=50, progress=False)
  options.update(kwargs)
  return training.TrainConfig(**options)


@pytest.fixture(scope='module')
def head_run(folder, tmp_path_factory):
  """The logits only, batch norm frozen, 150 steps from the shipped model."""
  train_dir = tmp_path_factory.mktemp('head')
  result = training.train(config(
      train_dir, folder, trainable_scopes=[SCOPE + '/logits'],
      freeze_batch_norm=True, max_steps=150))
  return str(train_dir), result


def test_new_head_learns_the_new_classes(head_run, folder):
  train_dir, result = head_run
  assert (result.start_step, result.global_step) == (0, 150)
  assert not result.resumed
  assert result.checkpoint_path == os.path.join(train_dir, 'model.ckpt-150')
  found = evaluation.evaluate(train_dir, folder, progress=False)
  assert found.num_examples == 100  # 20% of each class held out.
  assert found.top1 > 0.7, found  # Chance is 0.2.


def test_only_the_trainable_scope_changed(head_run):
  train_dir, result = head_run
  before = values(fetch.fetch_checkpoint(SHIPPED))
  after = values(result.checkpoint_path)
  body = [n for n in before if not n.startswith(SCOPE + '/logits')]
  assert len(body) > 50
  for name in body:
    assert after[name].tobytes() == before[name].tobytes(), name
  assert after[SCOPE + '/logits/weights'].shape == (1, 1, 64, 5)
  assert before[SCOPE + '/logits/weights'].shape == (1, 1, 64, 10)
  assert int(after['global_step']) == 150
  # Momentum slots only for the trained variables.
  slots = sorted(n for n in after if n.endswith('/Momentum'))
  assert slots == [SCOPE + '/logits/biases/Momentum',
                   SCOPE + '/logits/weights/Momentum']


def test_train_dir_describes_its_model(head_run):
  train_dir, _ = head_run
  from slim_resnet.checkpoints import model_spec  # pylint: disable=g-import-not-at-top
  spec = model_spec.resolve_model(train_dir)
  assert (spec.model, spec.num_classes, spec.image_size) == (SCOPE, 5, 32)
  assert spec.model_options == {'depth_multiplier': 0.125}
  assert spec.labels() == ['d0', 'd1', 'd2', 'd3', 'd4']


def test_summaries_are_written(head_run):
  train_dir, _ = head_run
  tags = set()
  for name in os.listdir(train_dir):
    if name.startswith('events.out.tfevents'):
      for event in tf.compat.v1.train.summary_iterator(
          os.path.join(train_dir, name)):
        tags.update(v.tag for v in event.summary.value)
  assert {'train/total_loss', 'train/cross_entropy', 'train/accuracy',
          'train/learning_rate', 'global_step/sec'} <= tags


def test_batch_norm_statistics_update_only_where_trained(records, tmp_path):
  """Batch norm trains: UPDATE_OPS under the trainable scopes run."""
  trained = [SCOPE + '/block4', SCOPE + '/logits']
  result = training.train(config(tmp_path, records, trainable_scopes=trained,
                                 max_steps=4, optimizer='adam',
                                 learning_rate_schedule='cosine',
                                 warmup_steps=2, label_smoothing=0.1))
  before = values(fetch.fetch_checkpoint(SHIPPED))
  after = values(result.checkpoint_path)
  mean = '/unit_2/basic_v1/conv1/BatchNorm/moving_mean'
  assert not np.array_equal(after[SCOPE + '/block4' + mean],
                            before[SCOPE + '/block4' + mean])
  assert np.array_equal(after[SCOPE + '/block1' + mean],
                        before[SCOPE + '/block1' + mean])
  assert np.array_equal(after[SCOPE + '/conv1/BatchNorm/moving_mean'],
                        before[SCOPE + '/conv1/BatchNorm/moving_mean'])
  assert any(n.endswith('/Adam') for n in after)


@pytest.mark.parametrize('optimizer', ['rmsprop', 'sgd'])
def test_every_variable_trains_by_default(records, tmp_path, optimizer):
  result = training.train(config(tmp_path, records, max_steps=2,
                                 optimizer=optimizer,
                                 learning_rate_schedule='polynomial'))
  before = values(fetch.fetch_checkpoint(SHIPPED))
  after = values(result.checkpoint_path)
  for name in (SCOPE + '/conv1/weights',
               SCOPE + '/conv1/BatchNorm/moving_mean',
               SCOPE + '/block1/unit_1/basic_v1/conv1/weights'):
    assert not np.array_equal(after[name], before[name]), name


def test_the_old_head_needs_excluding(folder, tmp_path):
  with pytest.raises(errors.CheckpointMismatchError) as raised:
    training.train(config(tmp_path, folder, checkpoint_exclude_scopes=[],
                          max_steps=1))
  message = str(raised.value)
  assert SCOPE + '/logits/weights' in message
  assert '--checkpoint-exclude-scopes %s/logits' % SCOPE in message
  assert 'trains 5 classes' in message
  assert not os.path.exists(os.path.join(tmp_path, 'checkpoint'))


def test_unknown_trainable_scope(folder, tmp_path):
  with pytest.raises(training.TrainingError,
                     match='resnet_v1_18/head match no variable; the model '
                     'has: .*resnet_v1_18/logits'):
    training.train(config(tmp_path, folder, max_steps=1,
                          trainable_scopes=[SCOPE + '/head']))


def test_a_train_dir_of_another_model(head_run, records):
  train_dir, _ = head_run
  with pytest.raises(training.TrainingError, match='num_classes=5 model'):
    training.train(config(train_dir, records, labels_offset=1, max_steps=1))


def test_from_scratch_needs_a_model(folder, tmp_path):
  with pytest.raises(training.TrainingError, match='or a model to train'):
    training.train(config(tmp_path, folder, checkpoint=None))


def test_labels_outside_the_classes(tmp_path):
  """A TFRecord label with no name in labels.txt fails with DatasetError."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  images = tmp_path / 'images'
  for name in ('a', 'b'):
    (images / name).mkdir(parents=True)
    for i in range(3):
      Image.fromarray(np.full([32, 32, 3], 40 * i, np.uint8)).save(
          images / name / ('%d.png' % i))
  out = tmp_path / 'records'
  tfrecords.convert_image_folder(str(images), str(out), labels_offset=1)
  tfrecords.write_label_file(['background', 'a'], str(out))  # 'b' lost
  with pytest.raises(datasets.DatasetError,
                     match='labels that are not classes'):
    training.train(config(tmp_path / 'run', str(out), labels_offset=1,
                          max_steps=3, batch_size=2, checkpoint=None,
                          model=SCOPE, image_size=32))


def test_resumes_after_sigkill(records, tmp_path):
  """kill -9 mid-run; the next run resumes within one save interval."""
  train_dir = tmp_path / 'run'
  command = [sys.executable, '-m', 'slim_resnet.cli', 'train',
             '--checkpoint', SHIPPED, '--dataset', records,
             '--train-dir', str(train_dir),
             '--checkpoint-exclude-scopes', SCOPE + '/logits',
             '--batch-size', '8', '--save-checkpoint-steps', '10',
             '--log-every-n-steps', '1', '--no-progress']
  env = dict(os.environ, PYTHONPATH=ROOT)
  log = tmp_path / 'train.log'
  with open(log, 'w') as out:
    proc = subprocess.Popen(command + ['--max-steps', '100000'], env=env,
                            stdout=out, stderr=subprocess.DEVNULL, text=True)
  seen, deadline = 0, time.time() + 120
  try:
    # Polls a file: a read of the pipe would block forever on a silent hang.
    while seen < 35 and time.time() < deadline and proc.poll() is None:
      steps = [l for l in log.read_text().splitlines()
               if l.startswith('step ')]
      seen = int(steps[-1].split()[1]) if steps else 0
      time.sleep(0.2)
  finally:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
  assert seen >= 35
  saved = tf.train.latest_checkpoint(str(train_dir))
  saved_step = int(saved.rsplit('-', 1)[1])
  assert seen - 10 <= saved_step <= seen + 10  # At most one interval lost.
  out = subprocess.run(command + ['--max-steps', str(saved_step + 5)],
                       env=env, capture_output=True, text=True, timeout=300)
  assert out.returncode == 0, out.stderr[-2000:]
  assert 'resuming from step %d to %d' % (saved_step, saved_step + 5) \
      in out.stdout
  assert 'resumed and trained at step %d (from step %d)' % (
      saved_step + 5, saved_step) in out.stdout
  assert values(tf.train.latest_checkpoint(str(train_dir)))[
      'global_step'] == saved_step + 5


def test_moving_averages_are_kept_and_evaluated(folder, tmp_path):
  result = training.train(config(tmp_path, folder, max_steps=3,
                                 moving_average_decay=0.5))
  after = values(result.checkpoint_path)
  name = SCOPE + '/block1/unit_1/basic_v1/conv1/weights'
  shadow = after[name + '/ExponentialMovingAverage']
  assert shadow.shape == after[name].shape
  assert not np.array_equal(shadow, after[name])  # Lags the weights.
  plain = evaluation.evaluate(str(tmp_path), folder, progress=False)
  averaged = evaluation.evaluate(str(tmp_path), folder, progress=False,
                                 restore_moving_averages=True)
  assert plain.num_examples == averaged.num_examples == 100
  assert plain.loss != averaged.loss
  # Independently: the shadows written in as the plain weights give the same
  # evaluation as restore_moving_averages=True.
  import shutil  # pylint: disable=g-import-not-at-top
  import ckptutil  # pylint: disable=g-import-not-at-top
  suffix = '/ExponentialMovingAverage'
  swapped = {n: after.get(n + suffix, v) for n, v in after.items()
             if not n.endswith(suffix)}
  assert sum(n + suffix in after for n in swapped) > 10
  folder_out = tmp_path / 'swapped'
  ckptutil.save(swapped, str(folder_out / 'model.ckpt'))
  for extra in ('model_spec.json', 'labels.txt'):
    if os.path.exists(os.path.join(str(tmp_path), extra)):
      shutil.copy(os.path.join(str(tmp_path), extra), str(folder_out))
  by_hand = evaluation.evaluate(str(folder_out / 'model.ckpt'), folder,
                                progress=False)
  assert by_hand.loss == pytest.approx(averaged.loss, rel=1e-5)
  assert by_hand.top1 == averaged.top1
