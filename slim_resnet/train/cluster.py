"""TensorFlow's own distributed runtime: a cluster of parameter servers and
workers, described by flags or by TF_CONFIG.

    cluster = ClusterConfig.from_flags('worker', 0, 'ps0:2222',
                                       'w0:2222,w1:2222')
    cluster = ClusterConfig.from_tf_config()     # $TF_CONFIG, if set
    server = cluster.start_server()              # tf.distribute.Server

TF_CONFIG is the JSON TensorFlow's launchers set:
    {"cluster": {"ps": ["h:p", ...], "worker": ["h:p", ...]},
     "task": {"type": "worker", "index": 0}}

Parameter servers serve variables until every worker says it is done:
run_ps() blocks on one FIFOQueue per ps task (shared by name across the
cluster) into which each worker puts a token when it stops (signal_done), so
the ps processes end by themselves.
"""
import dataclasses
import json
import os
import time
from typing import Tuple

from slim_resnet import errors
from slim_resnet.train.config import TrainingError
import tensorflow as tf

JOBS = ('ps', 'worker')


class ClusterError(errors.UserError):
  """A cluster description that cannot work; says what was found."""


def _hosts(value):
  if isinstance(value, str):
    value = value.split(',')
  return tuple(h.strip() for h in value or () if h.strip())


@dataclasses.dataclass(frozen=True)
class ClusterConfig(object):
  """This process's place in a ps/worker cluster.

  Attributes:
    job_name: 'ps' or 'worker'.
    task_index: This task's index in its job.
    ps_hosts, worker_hosts: 'host:port' of every task.
  """
  job_name: str
  task_index: int
  ps_hosts: Tuple[str, ...]
  worker_hosts: Tuple[str, ...]

  def __post_init__(self):
    if self.job_name not in JOBS:
      raise ClusterError('job name must be ps or worker; got %r' %
                         self.job_name)
    if not self.worker_hosts:
      raise ClusterError('a cluster needs worker hosts (--worker-hosts '
                         'host:port,...)')
    hosts = self.ps_hosts if self.job_name == 'ps' else self.worker_hosts
    if not 0 <= self.task_index < len(hosts):
      raise ClusterError('task index %d is not one of the %d %s hosts (%s)' % (
          self.task_index, len(hosts), self.job_name, ', '.join(hosts)))

  @classmethod
  def from_flags(cls, job_name, task_index, ps_hosts, worker_hosts):
    """From --job-name, --task-index and comma-separated host lists."""
    return cls(job_name, int(task_index), _hosts(ps_hosts),
               _hosts(worker_hosts))

  @classmethod
  def from_tf_config(cls, environ=None):
    """From $TF_CONFIG; None when it is not set.

    Raises:
      ClusterError: If it is not the JSON described in the module docstring.
    """
    text = (os.environ if environ is None else environ).get('TF_CONFIG')
    if not text:
      return None
    try:
      config = json.loads(text)
      cluster, task = config['cluster'], config['task']
      return cls(task['type'], int(task['index']),
                 _hosts(cluster.get('ps', ())),
                 _hosts(cluster.get('worker', ())))
    except (ValueError, KeyError, TypeError) as e:
      raise ClusterError(
          'TF_CONFIG must be {"cluster": {"ps": [...], "worker": [...]}, '
          '"task": {"type": "worker", "index": 0}}; got %s (%s)' % (
              text, e)) from None

  @property
  def num_workers(self):
    return len(self.worker_hosts)

  @property
  def num_ps(self):
    return len(self.ps_hosts)

  @property
  def is_chief(self):
    """Worker 0 initializes, and writes checkpoints and summaries."""
    return self.job_name == 'worker' and self.task_index == 0

  def cluster_spec(self):
    jobs = {'worker': list(self.worker_hosts)}
    if self.ps_hosts:
      jobs['ps'] = list(self.ps_hosts)
    return tf.compat.v1.train.ClusterSpec(jobs)

  def start_server(self):
    """Starts this task's gRPC server (tf.distribute.Server)."""
    return tf.distribute.Server(self.cluster_spec(), job_name=self.job_name,
                                task_index=self.task_index, start=True)

  def session_config(self):
    """Workers see the ps tasks and themselves only (not each other)."""
    config = tf.compat.v1.ConfigProto(allow_soft_placement=True)
    if self.job_name == 'worker':
      config.device_filters.extend(['/job:ps', '/job:worker/task:%d' %
                                    self.task_index])
    return config


def _done_queues(cluster):
  """One FIFOQueue per ps task, shared by name across the cluster."""
  queues = []
  for i in range(cluster.num_ps):
    with tf.device('/job:ps/task:%d' % i):
      queues.append(tf.queue.FIFOQueue(
          max(cluster.num_workers, 1), tf.int32,
          shared_name='slim_resnet_done_queue_%d' % i))
  return queues


def run_ps(cluster, server, idle_timeout=60.0, log=print):
  """Serves variables until every worker is done (a ps task's main loop).

  Args:
    cluster: This ps task's ClusterConfig.
    server: Its started server.
    idle_timeout: Seconds to wait for the remaining workers once the first
      one is done (a worker that died never signals); None waits forever.
    log: Called with progress lines.

  Returns:
    The number of workers that signalled done.
  """
  with tf.Graph().as_default():
    queue = _done_queues(cluster)[cluster.task_index]
    dequeue = queue.dequeue()
    options = tf.compat.v1.RunOptions(timeout_in_ms=1000)
    done, first_done = 0, None
    with tf.compat.v1.Session(server.target) as session:
      log('ps task %d serving; waiting for %d workers' % (
          cluster.task_index, cluster.num_workers))
      while done < cluster.num_workers:
        try:
          session.run(dequeue, options=options)
          done += 1
          first_done = first_done or time.time()
          log('ps task %d: %d of %d workers done' % (
              cluster.task_index, done, cluster.num_workers))
        except tf.errors.DeadlineExceededError:
          if (first_done and idle_timeout is not None and
              time.time() - first_done > idle_timeout):
            log('ps task %d: stopping, %d of %d workers done after %.0f s' % (
                cluster.task_index, done, cluster.num_workers, idle_timeout))
            break
  return done


def signal_done(cluster, server):
  """Tells every ps task that this worker is done."""
  with tf.Graph().as_default():
    enqueues = [queue.enqueue(cluster.task_index)
                for queue in _done_queues(cluster)]
    if not enqueues:
      return
    with tf.compat.v1.Session(server.target,
                              config=cluster.session_config()) as session:
      session.run(enqueues)


def cluster_for(config):
  """This process's ClusterConfig: from the config's flags, else $TF_CONFIG,
  else None (one process)."""
  if config.job_name:
    return ClusterConfig.from_flags(
        config.job_name, config.task_index, config.ps_hosts,
        config.worker_hosts)
  return ClusterConfig.from_tf_config()


def wait_for_chief(server, cluster, timeout):
  """Waits until the chief has initialized the variables (polls every 0.5 s;
  MonitoredTrainingSession itself would only look every 30 s)."""
  not_ready = tf.compat.v1.report_uninitialized_variables(
      tf.compat.v1.global_variables())
  deadline = time.time() + timeout
  with tf.compat.v1.Session(server.target,
                            config=cluster.session_config()) as session:
    while session.run(not_ready).size:
      if time.time() > deadline:
        raise TrainingError('the chief (worker 0, %s) did not initialize the '
                            'model within %s s' % (cluster.worker_hosts[0],
                                                   timeout))
      time.sleep(0.5)
