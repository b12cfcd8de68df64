"""Where the pieces of a training graph run: towers (clones) on the devices
of one worker, variables on its CPU or on parameter servers.

After research/slim's deployment/model_deploy.py (DeploymentConfig,
clone_scope, clone_device, variables_device, inputs_device), for
tf.compat.v1 graphs:

    deploy = DeploymentConfig(num_clones=2, clone_on_cpu=True)
    with slim.arg_scope([slim.model_variable, slim.variable],
                        device=deploy.variables_device()):
      for i in range(deploy.num_clones):
        with tf.name_scope(deploy.clone_scope(i)), \\
             tf.device(deploy.clone_device(i)):
          ...  # one replica; variables are shared (reuse for i > 0)

Variables keep their single-model names (clone scopes are name scopes only),
so checkpoints written by N towers or N workers restore into one model.
"""
import dataclasses

from slim_resnet import errors
import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class DeploymentConfig(object):
  """How one worker lays out its clones and where variables live.

  Attributes:
    num_clones: Replicas of the model on this worker (towers); each takes
      batch_size / num_clones images of every batch.
    clone_on_cpu: Put every clone on the CPU (for tests; otherwise clone i
      goes on GPU i).
    replica_id: This worker's task index.
    num_replicas: Workers in the cluster.
    num_ps_tasks: Parameter servers (0: variables on this worker).
    worker_job_name, ps_job_name: Job names of the cluster.
    variables_on_gpu: Without parameter servers, keep variables on GPU 0
      instead of the CPU.
  """
  num_clones: int = 1
  clone_on_cpu: bool = False
  replica_id: int = 0
  num_replicas: int = 1
  num_ps_tasks: int = 0
  worker_job_name: str = 'worker'
  ps_job_name: str = 'ps'
  variables_on_gpu: bool = False

  def __post_init__(self):
    if self.num_clones < 1:
      raise errors.UsageError('num_clones must be 1 or more; got %d' %
                       self.num_clones)
    if not 0 <= self.replica_id < max(self.num_replicas, 1):
      raise errors.UsageError('replica_id must be in 0..%d; got %d' % (
          self.num_replicas - 1, self.replica_id))

  @property
  def distributed(self):
    return self.num_ps_tasks > 0 or self.num_replicas > 1

  def worker_device(self):
    """'/job:worker/task:<replica_id>' in a cluster, '' on one machine."""
    if not self.distributed:
      return ''
    return '/job:%s/task:%d' % (self.worker_job_name, self.replica_id)

  def clone_scope(self, index):
    """'' for a single clone (plain graph names), else 'clone_<index>'."""
    return '' if self.num_clones == 1 else 'clone_%d' % index

  def clone_device(self, index):
    """The device of clone `index`: this worker's CPU or GPU <index>."""
    if self.clone_on_cpu:
      return self.worker_device() + '/device:CPU:0'
    return self.worker_device() + '/device:GPU:%d' % index

  def inputs_device(self):
    """The input pipeline runs on this worker's CPU."""
    return self.worker_device() + '/device:CPU:0'

  def variables_device(self):
    """A device (function) for variables: round-robin over the parameter
    servers, else this worker's CPU (or GPU 0 with variables_on_gpu)."""
    if self.num_ps_tasks > 0:
      return tf.compat.v1.train.replica_device_setter(
          ps_tasks=self.num_ps_tasks, ps_device='/job:%s' % self.ps_job_name,
          worker_device=self.worker_device())
    if self.variables_on_gpu and not self.clone_on_cpu:
      return self.worker_device() + '/device:GPU:0'
    return self.worker_device() + '/device:CPU:0'


def deployment_for(config, cluster):
  """The DeploymentConfig of a TrainConfig, in a cluster (or None)."""
  if cluster is None:
    return DeploymentConfig(config.num_clones, config.clone_on_cpu)
  return DeploymentConfig(
      config.num_clones, config.clone_on_cpu, replica_id=cluster.task_index,
      num_replicas=cluster.num_workers, num_ps_tasks=cluster.num_ps)
