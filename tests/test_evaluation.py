"""evaluate() against an independent numpy computation over the session
graph's outputs; watch() while a training process writes checkpoints."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from slim_resnet import cli
from slim_resnet.data import datasets
from slim_resnet.inference import classifier as inference
from slim_resnet.train import evaluation

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIPPED = 'digits_resnet_v1_18'


def independent_metrics(probabilities, labels, k):
  """Top-1, top-k, loss, per-class accuracy by sorting, loop by loop."""
  order = np.argsort(-probabilities, axis=1)
  top1 = np.mean(order[:, 0] == labels)
  topk = np.mean([label in row[:k] for row, label in zip(order, labels)])
  loss = -np.mean(np.log(probabilities[np.arange(len(labels)), labels]))
  per_class = {}
  for c in np.unique(labels):
    rows = labels == c
    per_class[str(c)] = np.mean(order[rows, 0] == c)
  return top1, topk, loss, per_class


def test_evaluate_equals_numpy_over_the_session_graph(sample):
  result = evaluation.evaluate(SHIPPED, sample, split='all', batch_size=50,
                               progress=False)
  source = datasets.open_dataset(sample, 'all')
  with inference.FeatureExtractor(SHIPPED, batch_size=64) as extractor:
    probabilities = extractor.extract(source.paths)['predictions']
  top1, top5, loss, per_class = independent_metrics(
      probabilities.astype(np.float64), source.labels, 5)
  assert result.num_examples == len(source.paths) == 359
  assert result.top1 == pytest.approx(top1, abs=1e-12)
  assert result.top5 == pytest.approx(top5, abs=1e-12)
  assert result.top_k == 5
  assert result.loss == pytest.approx(loss, rel=1e-4)
  assert result.per_class == pytest.approx(per_class, abs=1e-12)
  assert sum(result.class_counts.values()) == 359
  # The training script measured the same held-out accuracy.
  metadata = json.load(open(os.path.join(ROOT, 'checkpoints', SHIPPED,
                                         'model_spec.json')))['provenance']
  assert round(result.top1, 4) == metadata['heldout_accuracy']
  confusion = np.array(result.confusion)
  assert confusion.sum() == 359
  assert np.trace(confusion) == round(top1 * 359)


def test_metrics_from_logits_by_hand():
  logits = np.array([[3., 2., 1.], [1., 2., 3.], [2., 3., 1.], [1., 1., 1.]])
  labels = np.array([0, 0, 2, 1])
  found = evaluation.metrics_from_logits(logits, labels, ['a', 'b', 'c'], k=2)
  # Row 4 is a three-way tie: label 1 counts as in the top 2 (in_top_k).
  assert found['top1'] == 0.25
  assert found['top5'] == 0.5  # top-2: rows 1 and 4
  assert found['top_k'] == 2
  assert found['per_class'] == {'a': 0.5, 'b': 0.0, 'c': 0.0}
  assert found['class_counts'] == {'a': 2, 'b': 1, 'c': 1}
  assert found['confusion'] == [[1, 0, 1], [1, 0, 0], [0, 1, 0]]
  log_softmax = logits - np.log(np.exp(logits).sum(1, keepdims=True))
  assert found['loss'] == pytest.approx(
      -np.mean(log_softmax[np.arange(4), labels]))
  # Fewer classes than k: top-k is over all of them.
  assert evaluation.metrics_from_logits(logits, labels, ['a', 'b', 'c'],
                                        k=5)['top_k'] == 3


def test_class_count_mismatch(sample, tmp_path):
  for name in ('x', 'y'):
    (tmp_path / name).mkdir()
    for f in os.listdir(os.path.join(sample, '1'))[:3]:
      (tmp_path / name / f).write_bytes(
          open(os.path.join(sample, '1', f), 'rb').read())
  with pytest.raises(datasets.DatasetError,
                     match='has 10 classes but the dataset .* has 2'):
    evaluation.evaluate(SHIPPED, str(tmp_path), progress=False)


def test_cli_eval_writes_json(sample, tmp_path, capsys):
  out = tmp_path / 'results.json'
  assert cli.main(['eval', '--checkpoint', SHIPPED, '--dataset', sample,
                   '--output', str(out), '--no-progress']) == 0
  printed = capsys.readouterr().out
  result = json.load(open(out))
  assert result['num_examples'] == 70  # validation: 20% of 359, per class
  assert 'top-1     %.4f' % result['top1'] in printed
  # The shipped checkpoint has no global_step: no '(step None)' (item 16).
  assert result['global_step'] is None
  assert printed.startswith('checkpoint %s: 70 images' % result[
      'checkpoint_path']), printed
  with pytest.raises(SystemExit) as exited:  # argparse, before TF is used.
    cli.main(['eval', '--checkpoint', SHIPPED, '--dataset',
              str(tmp_path / 'none')])
  assert exited.value.code == 2
  assert 'none does not exist; expected an image folder' in \
      capsys.readouterr().err


def test_watch_while_training_runs(sample, tmp_path):
  """`eval --watch` follows a training process to its last checkpoint."""
  train_dir = tmp_path / 'run'
  env = dict(os.environ, PYTHONPATH=ROOT)
  trainer = subprocess.Popen(
      [sys.executable, '-m', 'slim_resnet.cli', 'train', '--checkpoint',
       SHIPPED, '--dataset', sample, '--train-dir', str(train_dir),
       '--max-steps', '30', '--save-checkpoint-steps', '10', '--batch-size',
       '8', '--no-progress'], env=env, stdout=subprocess.DEVNULL,
      stderr=subprocess.DEVNULL)
  try:
    results = list(evaluation.watch(str(train_dir), sample, timeout=120,
                                    max_step=30, batch_size=64))
  except BaseException:
    trainer.kill()  # The watch's own error is the one to see.
    trainer.wait(timeout=30)
    raise
  assert trainer.wait(timeout=120) == 0
  steps = [r.global_step for r in results]
  assert steps[-1] == 30
  assert steps == sorted(set(steps))
  assert all(r.num_examples == 70 for r in results)
  events = os.listdir(train_dir / 'eval')
  tags = set()
  for name in events:
    for event in tf.compat.v1.train.summary_iterator(
        str(train_dir / 'eval' / name)):
      tags.update(v.tag for v in event.summary.value)
  assert {'eval/top1', 'eval/top5', 'eval/loss'} <= tags
