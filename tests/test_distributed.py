"""Towers and a real ps/worker cluster on 127.0.0.1: two clones equal one
model on the whole batch; 1 ps + 2 workers train, stop by themselves, and
leave a checkpoint that restores into a single-process graph."""
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from slim_resnet import train as training
from slim_resnet.checkpoints import model_spec
from slim_resnet.data import image_folder
from slim_resnet.train import cluster as cluster_lib
from slim_resnet.train import deployment
from slim_resnet.train import evaluation
from slim_resnet.train import graph as train_graph

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIPPED = 'digits_resnet_v1_18'
SCOPE = 'resnet_v1_18'


def build(num_clones, batch, values=None, **config_fields):
  """A training graph on a fed batch; returns (graph, session, ops, feeds)."""
  config = training.TrainConfig(
      train_dir='', dataset='', freeze_batch_norm=True, weight_decay=1e-4,
      learning_rate=0.1, learning_rate_schedule='fixed', **config_fields)
  spec = model_spec.resolve_model(SHIPPED, num_classes=4)
  graph = tf.Graph()
  with graph.as_default():
    images = tf.compat.v1.placeholder(tf.float32, [batch, 32, 32, 3])
    labels = tf.compat.v1.placeholder(tf.int64, [batch])
    ops = train_graph.build_train_ops(
        config, spec, images, labels,
        deployment.DeploymentConfig(num_clones, clone_on_cpu=True), 100)
    session = tf.compat.v1.Session()
    session.run(tf.compat.v1.global_variables_initializer())
    variables = {v.op.name: v for v in tf.compat.v1.global_variables()}
    if values is not None:
      for name, var in variables.items():
        if name in values:
          var.load(values[name], session)
  return graph, session, ops, (images, labels), variables


def test_two_clones_equal_one_model_on_the_whole_batch():
  rng = np.random.RandomState(0)
  batch = rng.uniform(-100, 150, [4, 32, 32, 3]).astype(np.float32)
  labels = np.array([0, 3, 1, 3])
  _, one_sess, one, (x1, y1), one_vars = build(1, 4)
  values = one_sess.run(one_vars)
  graph, two_sess, two, (x2, y2), two_vars = build(2, 4, values)
  # Variables are shared and keep single-model names.
  assert sorted(two_vars) == sorted(one_vars)
  ops = [op.name for op in graph.get_operations()]
  assert any(n.startswith('clone_1/%s/block1' % SCOPE) for n in ops)
  fetch = lambda t: [t.total_loss, [g for g, _ in t.grads_and_vars]]
  loss1, grads1 = one_sess.run(fetch(one), {x1: batch, y1: labels})
  loss2, grads2 = two_sess.run(fetch(two), {x2: batch, y2: labels})
  assert loss2 == pytest.approx(loss1, rel=1e-5)
  assert [v.op.name for _, v in two.grads_and_vars] == [
      v.op.name for _, v in one.grads_and_vars]
  for g1, g2, (_, var) in zip(grads1, grads2, one.grads_and_vars):
    # float32 sums in another order: equal to 1e-5 of each gradient's scale.
    np.testing.assert_allclose(g2, g1, rtol=0, atol=1e-5 * np.abs(g1).max(),
                               err_msg=var.op.name)
  # One step each: the same new weights.
  one_sess.run(one.step, {x1: batch, y1: labels})
  two_sess.run(two.step, {x2: batch, y2: labels})
  name = SCOPE + '/block2/unit_1/basic_v1/conv1/weights'
  np.testing.assert_allclose(two_sess.run(two_vars[name]),
                             one_sess.run(one_vars[name]), rtol=1e-4,
                             atol=1e-5)


def ancestors(op):
  """Names of the ops a training step runs before `op` (data and control)."""
  seen, todo = set(), [op]
  while todo:
    current = todo.pop()
    if current.name in seen:
      continue
    seen.add(current.name)
    todo += [t.op for t in current.inputs] + list(current.control_inputs)
  return seen


def test_update_ops_come_from_the_first_clone_only():
  config = training.TrainConfig(train_dir='', dataset='')
  spec = model_spec.resolve_model(SHIPPED, num_classes=4)
  with tf.Graph().as_default():
    images = tf.compat.v1.placeholder(tf.float32, [4, 32, 32, 3])
    labels = tf.compat.v1.placeholder(tf.int64, [4])
    ops = train_graph.build_train_ops(
        config, spec, images, labels,
        deployment.DeploymentConfig(2, clone_on_cpu=True), 100)
    update_ops = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)
  assert {op.name.split('/')[0] for op in update_ops} == {'clone_0',
                                                          'clone_1'}
  names = {op.name for op in update_ops}
  ran = names & ancestors(ops.step.op)
  assert ran == {n for n in names if n.startswith('clone_0/')}
  assert len(ran) == len(names) // 2 > 0


def test_batch_must_split_into_the_clones():
  with pytest.raises(training.TrainingError,
                     match='batch size 5 does not split into 2 clones'):
    build(2, 5)


def test_cli_trains_two_clones(tmp_path):
  root = tmp_path / 'digits'
  image_folder.write_sample_folder(str(root))
  result = training.train(training.TrainConfig(
      train_dir=str(tmp_path / 'run'), dataset=str(root), checkpoint=SHIPPED,
      num_clones=2, clone_on_cpu=True, batch_size=8, max_steps=3,
      progress=False))
  assert result.global_step == 3
  reader = tf.compat.v1.train.NewCheckpointReader(result.checkpoint_path)
  names = reader.get_variable_to_shape_map()
  assert SCOPE + '/conv1/weights' in names
  assert not [n for n in names if n.startswith('clone_')]


def test_tf_config_and_flags():
  flags = cluster_lib.ClusterConfig.from_flags(
      'worker', 1, 'localhost:1', 'localhost:2,localhost:3')
  env = {'TF_CONFIG': '{"cluster": {"ps": ["localhost:1"], "worker": '
                      '["localhost:2", "localhost:3"]}, "task": {"type": '
                      '"worker", "index": 1}}'}
  assert cluster_lib.ClusterConfig.from_tf_config(env) == flags
  assert (flags.num_workers, flags.num_ps, flags.is_chief) == (2, 1, False)
  assert cluster_lib.ClusterConfig.from_tf_config({}) is None
  with pytest.raises(cluster_lib.ClusterError, match='TF_CONFIG must be'):
    cluster_lib.ClusterConfig.from_tf_config({'TF_CONFIG': '{"task": 1}'})
  with pytest.raises(cluster_lib.ClusterError,
                     match='task index 2 is not one of the 2 worker hosts'):
    cluster_lib.ClusterConfig.from_flags('worker', 2, 'a:1', 'b:1,c:1')
  with pytest.raises(cluster_lib.ClusterError, match='must be ps or worker'):
    cluster_lib.ClusterConfig.from_flags('chief', 0, 'a:1', 'b:1')
  deploy = deployment.deployment_for(training.TrainConfig('', ''), flags)
  assert deploy.clone_device(1) == '/job:worker/task:1/device:GPU:1'
  assert deploy.inputs_device() == '/job:worker/task:1/device:CPU:0'


def free_ports(n):
  sockets = [socket.socket() for _ in range(n)]
  for s in sockets:
    s.bind(('127.0.0.1', 0))
  ports = [s.getsockname()[1] for s in sockets]
  for s in sockets:
    s.close()
  return ports


@pytest.fixture(scope='module')
def sample(tmp_path_factory):
  root = tmp_path_factory.mktemp('sample')
  image_folder.write_sample_folder(str(root))
  return str(root)


def start_cluster(sample, train_dir, extra, max_steps):
  ps, w0, w1 = ['127.0.0.1:%d' % p for p in free_ports(3)]
  base = [sys.executable, '-m', 'slim_resnet.cli', 'train', '--checkpoint',
          SHIPPED, '--dataset', sample, '--train-dir', str(train_dir),
          '--ps-hosts', ps, '--worker-hosts', '%s,%s' % (w0, w1),
          '--batch-size', '8', '--max-steps', str(max_steps),
          '--save-checkpoint-steps', '5', '--no-progress',
          '--log-every-n-steps', '1', '--ps-idle-timeout', '30',
          '--step-timeout', '30'] + extra
  env = dict(os.environ, PYTHONPATH=ROOT)
  logs = {}
  procs = {}
  for name, job, index in (('ps', 'ps', 0), ('w0', 'worker', 0),
                           ('w1', 'worker', 1)):
    logs[name] = open(str(train_dir) + '.%s.log' % name, 'w+')
    procs[name] = subprocess.Popen(
        base + ['--job-name', job, '--task-index', str(index)], env=env,
        stdout=logs[name], stderr=subprocess.STDOUT)
  return procs, logs


def finish(procs, logs, timeout):
  codes = {}
  deadline = time.time() + timeout
  for name, proc in procs.items():
    try:
      codes[name] = proc.wait(timeout=max(deadline - time.time(), 1))
    except subprocess.TimeoutExpired:
      proc.kill()
      codes[name] = 'timeout'
  texts = {}
  for name, log in logs.items():
    log.seek(0)
    texts[name] = log.read()
    log.close()
  return codes, texts


def restores_into_one_process(train_dir, sample):
  """The chief's checkpoint, evaluated by a single-process graph (restore
  fails on any missing variable)."""
  result = evaluation.evaluate(str(train_dir), sample, progress=False)
  assert result.num_examples == 70
  return result


@pytest.mark.parametrize('mode', ['sync', 'async'])
def test_ps_and_two_workers_on_localhost(sample, tmp_path, mode):
  train_dir = tmp_path / 'run'
  extra = ['--sync-replicas'] if mode == 'sync' else []
  procs, logs = start_cluster(sample, train_dir, extra, max_steps=12)
  codes, texts = finish(procs, logs, timeout=60)  # Each stops by itself.
  assert codes == {'ps': 0, 'w0': 0, 'w1': 0}, texts
  assert 'ps task 0: 2 of 2 workers done' in texts['ps']
  latest = tf.train.latest_checkpoint(str(train_dir))
  assert int(latest.rsplit('-', 1)[1]) >= 12, texts
  for worker in ('w0', 'w1'):  # Every worker ran steps, not only the chief.
    assert '\nstep ' in '\n' + texts[worker], texts[worker][-2000:]
  restores_into_one_process(train_dir, sample)


def test_killing_a_worker_leaves_a_good_checkpoint(sample, tmp_path):
  train_dir = tmp_path / 'run'
  # The killed worker never reports: the ps stops its idle timeout after
  # the chief's report, so a short one (the chief has saved by then).
  procs, logs = start_cluster(sample, train_dir, ['--ps-idle-timeout', '5'],
                              max_steps=60)
  deadline = time.time() + 90
  while time.time() < deadline:
    logs['w1'].flush()
    text = open(logs['w1'].name).read()
    if text.count('\nstep ') >= 5:
      break
    time.sleep(0.2)
  procs['w1'].send_signal(signal.SIGKILL)
  codes, texts = finish(procs, logs, timeout=120)
  assert codes['w1'] == -signal.SIGKILL
  assert codes['w0'] == 0 and codes['ps'] == 0, texts
  assert 'stopping, 1 of 2 workers done' in texts['ps']
  latest = tf.train.latest_checkpoint(str(train_dir))
  assert int(latest.rsplit('-', 1)[1]) >= 60
  restores_into_one_process(train_dir, sample)
