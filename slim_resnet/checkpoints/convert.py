"""Weights from other frameworks into slim checkpoints: what the converters
share (checkpoints.convert_torch, checkpoints.convert_keras).

A converter maps every source tensor to a slim variable name and layout,
then save_converted() writes a V2 checkpoint with those names (atomically:
files are written in a temporary directory and renamed), a model_spec.json
saying how to build the net it fits (model, num_classes, model_options such
as stride_in_first_unit), and checks that it restores into that net with no
missing or misshapen variable. The ConversionReport says what was mapped,
what was ignored and why.
"""
import dataclasses
import os
import shutil
import tempfile
from typing import Dict, List, Optional, Tuple

import numpy as np

from slim_resnet.checkpoints import errors
from slim_resnet.checkpoints import model_spec as model_spec_lib
from slim_resnet.checkpoints import restore_check
import tensorflow as tf


class ConversionError(errors.CheckpointError):
  """Source weights that cannot become the asked slim model; says why."""


@dataclasses.dataclass
class ConversionReport(object):
  """What a conversion did.

  Attributes:
    source: The framework and file (or 'in memory').
    model: The slim model name, e.g. 'resnet_v1_50'.
    num_classes: Logits size (None: no logits).
    model_options: Builder keyword arguments the weights need.
    preprocessing: What the source framework fed its model (a
      preprocessing_factory name), written to model_spec.json.
    mapped: (source name, slim name, shape) per converted tensor.
    ignored: {source name: reason} of source tensors not converted.
    notes: Adjustments made (e.g. batch-norm epsilon).
    checkpoint_path: The written checkpoint prefix.
    restored: Variables restored by the check (all the net has).
  """
  source: str
  model: str
  num_classes: Optional[int]
  model_options: dict
  preprocessing: Optional[str] = None
  mapped: List[Tuple[str, str, tuple]] = dataclasses.field(default_factory=list)
  ignored: Dict[str, str] = dataclasses.field(default_factory=dict)
  notes: List[str] = dataclasses.field(default_factory=list)
  checkpoint_path: Optional[str] = None
  restored: int = 0


def format_report(report):
  """A readable summary of a ConversionReport."""
  lines = ['%s -> %s (num_classes=%s, %s)' % (
      report.source, report.model, report.num_classes,
      ', '.join('%s=%r' % kv for kv in sorted(report.model_options.items()))
      or 'default options'),
           'mapped %d tensors; restored %d variables, none missing' % (
               len(report.mapped), report.restored)]
  for note in report.notes:
    lines.append('note: %s' % note)
  by_reason = {}
  for name, reason in sorted(report.ignored.items()):
    by_reason.setdefault(reason, []).append(name)
  for reason, names in sorted(by_reason.items()):
    if len(names) == 1:
      lines.append('ignored %s: %s' % (names[0], reason))
    else:  # One line for the 53 num_batches_tracked of a ResNet-50.
      lines.append('ignored %d tensors (%s, ...): %s' % (
          len(names), ', '.join(names[:2]), reason))
  if report.checkpoint_path:
    lines.append('wrote %s' % report.checkpoint_path)
  return '\n'.join(lines)


def write_checkpoint(values, prefix):
  """Writes {name: array} as a V2 checkpoint at prefix, atomically."""
  directory = os.path.dirname(os.path.abspath(prefix))
  os.makedirs(directory, exist_ok=True)
  work = tempfile.mkdtemp(prefix='.convert.', dir=directory)
  try:
    with tf.Graph().as_default():
      variables = [tf.compat.v1.Variable(v, name=n) for n, v in values.items()]
      saver = tf.compat.v1.train.Saver(variables)
      with tf.compat.v1.Session() as session:
        session.run(tf.compat.v1.global_variables_initializer())
        saver.save(session, os.path.join(work, 'model.ckpt'),
                   write_meta_graph=False, write_state=False)
    # Data files first, the index (what readers look for) last.
    files = sorted(os.listdir(work), key=lambda f: f.endswith('.index'))
    for name in files:
      os.replace(os.path.join(work, name),
                 os.path.abspath(prefix) + name[len('model.ckpt'):])
  finally:
    shutil.rmtree(work, ignore_errors=True)


IMAGENET_CLASSES = 1000


def save_converted(values, report, out_prefix):
  """Writes the converted values, model_spec.json, and checks the restore.

  Args:
    values: {slim name: array}.
    report: The ConversionReport so far (model, num_classes, model_options).
    out_prefix: The checkpoint prefix to write, e.g. 'out/model.ckpt'.

  Returns:
    The report, with checkpoint_path and restored set.

  Raises:
    CheckpointMismatchError: If the checkpoint does not restore into the net
      (a converter bug or a wrong model name); nothing is left behind.
  """
  values = {n: np.asarray(v, np.float32) for n, v in values.items()}
  write_checkpoint(values, out_prefix)
  try:
    report.restored = len(restore_check.check_restore(
        out_prefix, report.model, report.num_classes, report.model_options,
        labels_offset_mode='off', read_data=False, run=True).restored)
  except errors.CheckpointError:
    for suffix in ('.index', '.data-00000-of-00001'):
      if os.path.exists(out_prefix + suffix):
        os.remove(out_prefix + suffix)
    raise
  fields = dict(checkpoint_path=out_prefix, num_classes=report.num_classes,
                model_options=dict(report.model_options))
  if report.num_classes == IMAGENET_CLASSES:
    # torchvision's and Keras's 1000-class heads are ImageNet-1k's, in the
    # order of the labels that ship with the package; said in the report.
    fields['labels_source'] = 'imagenet'
    report.notes.append('labels: ImageNet\'s 1000 classes (the convention '
                        'of 1000-class torchvision and Keras weights); for '
                        'other classes, replace labels.txt beside %s'
                        % out_prefix)
  if report.preprocessing:
    fields['preprocessing'] = report.preprocessing
  spec = model_spec_lib.spec_for_model(report.model, **fields)
  model_spec_lib.write_model_spec(spec, os.path.dirname(
      os.path.abspath(out_prefix)))
  report.checkpoint_path = out_prefix
  return report


def batch_norm_values(scope, gamma, beta, mean, variance, epsilon=1e-5,
                      slim_epsilon=1e-5):
  """slim batch-norm variables under scope (e.g. '.../conv1/BatchNorm' or
  '.../preact'); a different epsilon is moved into the variance so the
  normalization is exactly the source's."""
  return {scope + '/gamma': gamma,
          scope + '/beta': beta,
          scope + '/moving_mean': mean,
          scope + '/moving_variance':
              np.asarray(variance, np.float64) + (epsilon - slim_epsilon)}
