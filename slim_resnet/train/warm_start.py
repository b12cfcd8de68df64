"""What a training run starts from: the fine-tuning checkpoint (or a model
trained from scratch), or train_dir's own latest checkpoint to resume.

    spec = model_spec_for(config, num_classes=5)   # the ModelSpec trained
    check_train_dir(config.train_dir, spec)        # same model as before?
    latest = latest_checkpoint(config.train_dir)   # resume from it, or:
    init = init_fn(config, spec)                   # restore for a fresh run
"""
import os

from slim_resnet import nets_factory
from slim_resnet.checkpoints import errors
from slim_resnet.checkpoints import model_spec as model_spec_lib
from slim_resnet.checkpoints import restorer
from slim_resnet.train.config import TrainingError
import tensorflow as tf


def model_spec_for(config, num_classes):
  """The ModelSpec trained: the checkpoint's, with num_classes and overrides.

  Raises:
    TrainingError: If neither checkpoint nor model is given.
  """
  overrides = {'num_classes': num_classes}
  for field in ('model', 'image_size', 'preprocessing',
                'preprocessing_options'):
    if getattr(config, field) is not None:
      overrides[field] = getattr(config, field)
  if config.checkpoint is not None:
    return model_spec_lib.resolve_model(config.checkpoint, **overrides)
  if not config.model:
    raise TrainingError('give a checkpoint to fine-tune from, or a model to '
                        'train from scratch (one of: %s)' % ', '.join(
                            nets_factory.list_networks()))
  return model_spec_lib.spec_for_model(**overrides)


def check_train_dir(train_dir, spec):
  """A train_dir trained before must hold the same model."""
  previous = model_spec_lib.read_model_spec(train_dir)
  for field in ('model', 'num_classes', 'image_size', 'model_options'):
    if field in previous and previous[field] != getattr(spec, field):
      raise TrainingError(
          '%s holds a %s=%r model, but this run builds %s=%r; use another '
          'train_dir, or the same model and dataset' % (
              train_dir, field, previous[field], field,
              getattr(spec, field)))


def latest_checkpoint(train_dir):
  """train_dir's latest checkpoint, or None."""
  if not os.path.isdir(train_dir):
    return None
  return tf.train.latest_checkpoint(train_dir)


def finished_step(checkpoint_path):
  """The global step a checkpoint was saved at."""
  return int(tf.train.load_checkpoint(checkpoint_path).get_tensor(
      tf.compat.v1.GraphKeys.GLOBAL_STEP))


def init_fn(config, spec):
  """Restores the fine-tuning checkpoint (only when train_dir has none)."""
  if spec.checkpoint_path is None:
    return None
  try:
    init = restorer.get_init_fn(
        spec.checkpoint_path,
        exclude_scopes=list(config.checkpoint_exclude_scopes),
        ignore_missing_vars=config.ignore_missing_vars,
        checkpoint_background=spec.checkpoint_background)
  except errors.CheckpointMismatchError as e:
    if spec.num_classes is not None:
      e.args = ('%s\n(this run trains %d classes, from the dataset; to '
                'fine-tune a new head, exclude the old one, e.g. '
                '--checkpoint-exclude-scopes %s/logits)' % (
                    e.args[0], spec.num_classes, spec.model),) + e.args[1:]
    raise
  return lambda scaffold, session: init(session)
