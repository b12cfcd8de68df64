"""TrainConfig: what `train.train` trains, from where and how; TrainingError.

Kept apart from loop.py (which imports TensorFlow) so the command line
can build its flags from it without loading TensorFlow.
"""
import dataclasses
from typing import Optional, Sequence

from slim_resnet import errors


class TrainingError(errors.UserError):
  """A training setup that cannot work; says what was expected and found."""


@dataclasses.dataclass
class TrainConfig(object):
  """What to train, from where, and how (research/slim's flag names).

  Attributes:
    train_dir: Checkpoints, summaries, model_spec.json and labels.txt go here;
      an existing one is resumed.
    dataset: An image folder (root/<class>/<images>) or TFRecords (a folder
      of research/slim shards, or a glob); see data.datasets.open_dataset.
    checkpoint: Fine-tune from this manifest name or checkpoint path; None
      trains from scratch (then `model` is required).
    model: A nets_factory name; by default the checkpoint's.
    image_size: Input size; by default the checkpoint's (or the model's).
    preprocessing: 'vgg' or 'inception'; by default the checkpoint's.
    preprocessing_options: Keyword arguments of the preprocessing function;
      by default the checkpoint's (for vgg, a fixed resize_side_min also
      becomes resize_side_max in training: random crop and flip, no
      random scale).
    checkpoint_exclude_scopes: Scopes not restored, e.g. the old logits.
    trainable_scopes: Scopes trained; all trainable variables if empty.
    ignore_missing_vars: Leave variables the checkpoint lacks initialized.
    labels_offset: Subtracted from every stored label.
    split, validation_fraction, seed: Which images of `dataset` train
      (folders are split per class; seed also seeds shuffling and init).
    batch_size, max_steps: Images per step; the last global step.
    optimizer: 'momentum', 'rmsprop', 'adam', 'sgd', 'adadelta', 'adagrad'
      or 'ftrl'.
    learning_rate, learning_rate_schedule: The rate and its schedule
      ('fixed', 'exponential', 'cosine', 'polynomial').
    learning_rate_decay_factor, num_epochs_per_decay: Exponential decay.
    end_learning_rate: Polynomial decay's final rate.
    warmup_steps: Linear warm-up steps before the schedule.
    momentum, rmsprop_decay, rmsprop_momentum, adam_beta1, adam_beta2,
      opt_epsilon, adadelta_rho, adagrad_initial_accumulator_value,
      ftrl_learning_rate_power, ftrl_initial_accumulator_value, ftrl_l1,
      ftrl_l2: Optimizer parameters (research/slim's names and defaults).
    weight_decay: L2 through resnet_arg_scope.
    label_smoothing: Of the one-hot labels.
    moving_average_decay: If set, keep ExponentialMovingAverage shadows
      ('<name>/ExponentialMovingAverage') of the model variables, updated
      after each step, for `eval --moving-averages` (research/slim's flag).
    batch_norm_decay: Moving-average decay of batch norm.
    freeze_batch_norm: Batch norm in inference mode while training.
    save_checkpoint_steps / save_checkpoint_secs: Save interval (steps win
      when both are set).
    save_summaries_steps / save_summaries_secs: TensorBoard summary
      interval (secs, research/slim's flag, wins when set).
    num_readers: Files read in parallel (TFRecords; research/slim's
      --num_readers).
    num_preprocessing_threads: Images decoded and preprocessed in parallel
      (tf.data map's num_parallel_calls).
    use_grayscale: Convert the images to grayscale (3 equal channels), as
      research/slim's --use_grayscale.
    replicas_to_aggregate: sync_replicas: gradients averaged per step (by
      default every worker's).
    log_every_n_steps: A log line every N steps.
    keep_checkpoint_max: Checkpoints kept in train_dir.
    progress: Show a tqdm progress bar (loss, images/s).
    device: Device of the network, e.g. '/GPU:0' (one clone, one process).
    num_clones: Towers on this worker (research/slim's --num_clones); each
      takes batch_size / num_clones images; see train_graph.
    clone_on_cpu: Put the clones on the CPU (else clone i on GPU i).
    job_name, task_index, ps_hosts, worker_hosts: This process's place in
      a cluster ('ps' or 'worker'); or set $TF_CONFIG. Worker 0 is the
      chief: it initializes, and writes checkpoints and summaries.
    sync_replicas: Synchronous training across workers
      (SyncReplicasOptimizer: each step averages one batch from every
      worker); asynchronous by default.
    ps_idle_timeout: A ps task stops this many seconds after the first
      worker is done, if the others never say so (died).
    step_timeout: In a cluster, seconds a step may wait (e.g. for a dead
      worker in sync mode) before training stops with an error.
    precision: 'float32', 'bfloat16' (mixed precision on CPUs with
      avx512_bf16/AMX or a GPU), 'float16' (GPU) or 'auto': grappler's
      mixed-precision rewrite of the training step, so convolutions and their
      gradients run in bf16 while variables, the optimizer's slots, the loss
      and checkpoints stay float32 (slim_resnet.inference.precision).
    precision_strict: Raise instead of falling back to float32 when the
      precision is not supported here.
  """
  train_dir: str
  dataset: str
  checkpoint: Optional[str] = None
  model: Optional[str] = None
  image_size: Optional[int] = None
  preprocessing: Optional[str] = None
  preprocessing_options: Optional[dict] = None
  checkpoint_exclude_scopes: Sequence[str] = ()
  trainable_scopes: Sequence[str] = ()
  ignore_missing_vars: bool = False
  labels_offset: int = 0
  split: str = 'train'
  validation_fraction: float = 0.2
  seed: int = 0
  batch_size: int = 32
  max_steps: int = 1000
  optimizer: str = 'momentum'
  learning_rate: float = 0.01
  learning_rate_schedule: str = 'exponential'
  learning_rate_decay_factor: float = 0.94
  num_epochs_per_decay: float = 2.0
  end_learning_rate: float = 0.0001
  warmup_steps: int = 0
  momentum: float = 0.9
  rmsprop_decay: float = 0.9
  rmsprop_momentum: float = 0.9
  adam_beta1: float = 0.9
  adam_beta2: float = 0.999
  opt_epsilon: float = 1.0
  adadelta_rho: float = 0.95
  adagrad_initial_accumulator_value: float = 0.1
  ftrl_learning_rate_power: float = -0.5
  ftrl_initial_accumulator_value: float = 0.1
  ftrl_l1: float = 0.0
  ftrl_l2: float = 0.0
  weight_decay: float = 0.00004
  label_smoothing: float = 0.0
  moving_average_decay: Optional[float] = None
  batch_norm_decay: float = 0.997
  freeze_batch_norm: bool = False
  save_checkpoint_steps: Optional[int] = None
  save_checkpoint_secs: Optional[int] = 600
  save_summaries_steps: int = 100
  save_summaries_secs: Optional[int] = None
  num_readers: int = 4
  num_preprocessing_threads: int = 4
  use_grayscale: bool = False
  replicas_to_aggregate: Optional[int] = None
  log_every_n_steps: int = 10
  keep_checkpoint_max: int = 5
  progress: bool = True
  device: Optional[str] = None
  num_clones: int = 1
  clone_on_cpu: bool = False
  job_name: Optional[str] = None
  task_index: int = 0
  ps_hosts: Sequence[str] = ()
  worker_hosts: Sequence[str] = ()
  sync_replicas: bool = False
  ps_idle_timeout: float = 60.0
  step_timeout: float = 300.0
  precision: str = 'float32'
  precision_strict: bool = False
