"""Evaluate a checkpoint on a labelled split: research/slim's
eval_image_classifier, as a library call.

    result = evaluate('runs/flowers', 'flowers/')     # latest checkpoint there
    print(result.top1, result.top5, result.per_class)
    for result in watch('runs/flowers', 'flowers/', timeout=600):
      ...                                             # each new checkpoint

The checkpoint (a training directory, a checkpoint path or a manifest name)
decides the model and its evaluation preprocessing (checkpoints.resolve_model;
a training directory's model_spec.json). Logits are gathered for every image
of the split and the metrics computed from them in numpy: top-1, top-k
(k = min(5, classes); a label counts as in the top k when fewer than k logits
are strictly greater, as tf.nn.in_top_k), mean cross entropy, per-class
accuracy and the confusion matrix. `watch` evaluates each new checkpoint of a
training directory and writes TensorBoard summaries to <train_dir>/eval.
"""
import dataclasses
import os
from typing import Dict, List, Optional

import numpy as np

from slim_resnet import errors
from slim_resnet import nets_factory
from slim_resnet.checkpoints import model_spec as model_spec_lib
from slim_resnet.checkpoints import restorer
from slim_resnet.data import datasets
from slim_resnet.inference import precision as precision_lib
from slim_resnet.inference import runtimes
from slim_resnet.train import inputs
import tensorflow as tf


@dataclasses.dataclass
class EvalResult(object):
  """Metrics of one checkpoint on one split.

  Attributes:
    checkpoint_path: The checkpoint evaluated; global_step its step (or None).
    num_examples: Images evaluated.
    top1, top5: Accuracies; top5 is top-k with k = top_k.
    loss: Mean softmax cross entropy.
    per_class: {class name: accuracy} (NaN for a class with no image).
    class_counts: {class name: images}.
    confusion: [num_classes, num_classes] counts, rows true, columns
      predicted.
    skipped: {path: reason} of undecodable images (not counted).
    precision: The precision that ran (slim_resnet.inference.precision).
  """
  checkpoint_path: str
  global_step: Optional[int]
  num_examples: int
  top1: float
  top5: float
  top_k: int
  loss: float
  per_class: Dict[str, float]
  class_counts: Dict[str, int]
  confusion: List[List[int]]
  skipped: dict
  precision: str = 'float32'

  def as_dict(self):
    return dataclasses.asdict(self)


def metrics_from_logits(logits, labels, class_names, k=5):
  """Top-1, top-k, loss, per-class accuracy and confusion, in numpy.

  Args:
    logits: float [n, num_classes].
    labels: int [n] in 0..num_classes-1.
    class_names: num_classes names.
    k: top-k (capped at num_classes).

  Returns:
    A dict of EvalResult's metric fields.
  """
  logits = np.asarray(logits, np.float64)
  labels = np.asarray(labels, np.int64)
  num_classes = len(class_names)
  k = min(k, num_classes)
  n = len(labels)
  true_logit = logits[np.arange(n), labels]
  rank = np.sum(logits > true_logit[:, None], axis=1)
  predicted = np.argmax(logits, axis=1)
  shifted = logits - logits.max(axis=1, keepdims=True)
  log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
  confusion = np.zeros([num_classes, num_classes], np.int64)
  np.add.at(confusion, (labels, predicted), 1)
  counts = confusion.sum(axis=1)
  with np.errstate(invalid='ignore', divide='ignore'):
    per_class = np.diag(confusion) / counts
  return dict(
      num_examples=n,
      top1=float(np.mean(predicted == labels)) if n else float('nan'),
      top5=float(np.mean(rank < k)) if n else float('nan'),
      top_k=k,
      loss=float(-np.mean(log_softmax[np.arange(n), labels]))
      if n else float('nan'),
      per_class={c: float(a) for c, a in zip(class_names, per_class)},
      class_counts={c: int(m) for c, m in zip(class_names, counts)},
      confusion=confusion.tolist())


def _checkpoint_step(path):
  reader = tf.compat.v1.train.NewCheckpointReader(path)
  if reader.has_tensor('global_step'):
    return int(reader.get_tensor('global_step'))
  return None


class _EvalGraph(object):
  """One pass over a split: the network's logits and the labels."""

  def __init__(self, spec, source, batch_size, device, max_num_batches=None,
               use_grayscale=False, num_threads=None, precision='float32',
               model=None):
    self.model = model  # An export's runtime model, instead of the network.
    self._checkpoint_background = spec.checkpoint_background
    self.source = source
    self.max_num_batches = max_num_batches
    self.precision = precision
    self.num_classes = spec.num_classes
    self._init_fn = None
    self.graph = tf.Graph()
    with self.graph.as_default():
      with tf.device('/cpu:0'):
        preprocess_fn = spec.preprocessing_fn()
        if use_grayscale:
          preprocess_fn = inputs.grayscale(preprocess_fn)
        dataset = source.batches(preprocess_fn, batch_size,
                                 num_threads=num_threads)
        if max_num_batches:
          dataset = dataset.take(max_num_batches)
        self.iterator = tf.compat.v1.data.make_initializable_iterator(dataset)
        images, self.labels = self.iterator.get_next()
      if model is not None:
        self.logits = images  # Run by the model, batch by batch.
        self.session = tf.compat.v1.Session(graph=self.graph)
        return
      network_fn = nets_factory.get_network_fn(spec.model, spec.num_classes)
      with tf.compat.v1.device(device):
        logits, _ = network_fn(images, **spec.model_options)
      self.logits = tf.reshape(logits, [-1, spec.num_classes])
      self.session = tf.compat.v1.Session(
          graph=self.graph,
          config=precision_lib.session_config(
              precision,
              tf.compat.v1.ConfigProto(allow_soft_placement=True)))

  def run(self, checkpoint_path, restore_moving_averages, progress):
    # Planned once (watch() restores many); an export has nothing to restore.
    if self.model is None and self._init_fn is None:
      with self.graph.as_default():
        self._init_fn = restorer.get_init_fn(
            checkpoint_path, restore_moving_averages=restore_moving_averages,
            checkpoint_background=self._checkpoint_background)
    if self.model is None:
      self._init_fn(self.session, checkpoint_path)
    self.session.run(self.iterator.initializer)
    all_logits, all_labels = [], []
    bar = None
    if progress:
      import tqdm  # pylint: disable=g-import-not-at-top
      bar = tqdm.tqdm(unit='batch', desc='eval', leave=False)
    try:
      while True:
        try:
          with datasets.input_errors(self.source):
            logits, labels = self.session.run([self.logits, self.labels])
        except tf.errors.OutOfRangeError:
          break
        if self.model is not None:
          logits = self.model.run(logits)['logits']
        all_logits.append(logits)
        all_labels.append(labels)
        if bar is not None:
          bar.update(1)
    finally:
      if bar is not None:
        bar.close()
    if not all_logits:
      return np.zeros([0, self.num_classes]), np.zeros([0], np.int64)
    return np.concatenate(all_logits), np.concatenate(all_labels)

  def close(self):
    self.session.close()
    if self.model is not None:
      self.model.close()


def _open(checkpoint, dataset, split, validation_fraction, seed,
          labels_offset, overrides):
  if runtimes.is_export(checkpoint):
    spec = runtimes.export_spec(checkpoint, **overrides)
  else:
    spec = model_spec_lib.resolve_model(checkpoint, **overrides)
  source = datasets.open_dataset(dataset, split, validation_fraction, seed,
                                 labels_offset)
  if spec.num_classes != source.num_classes and 'num_classes' in overrides:
    own = model_spec_lib.resolve_model(checkpoint, **{
        k: v for k, v in overrides.items() if k != 'num_classes'}).num_classes
    raise datasets.DatasetError(
        'num_classes=%s was given, but the dataset %s has %d classes (%s)%s; '
        'drop it or make it %d' % (
            overrides['num_classes'], dataset, source.num_classes,
            ', '.join(source.class_names[:10]),
            '' if own is None else ' and the checkpoint %s has %s' % (
                spec.checkpoint_path, own), source.num_classes))
  if spec.num_classes != source.num_classes:
    raise datasets.DatasetError(
        'the checkpoint %s has %s classes but the dataset %s has %d (%s); '
        'evaluate on the classes the model was trained on' % (
            spec.checkpoint_path, spec.num_classes, dataset,
            source.num_classes, ', '.join(source.class_names[:10])))
  return spec, source


def evaluate(checkpoint, dataset, split='validation', batch_size=32,
             validation_fraction=0.2, seed=0, labels_offset=0,
             restore_moving_averages=False, progress=True, device=None,
             max_num_batches=None, use_grayscale=False,
             num_preprocessing_threads=None, precision=None,
             precision_strict=False, *, runtime=None, **overrides):
  """Evaluates one checkpoint (or export) on one split of a dataset.

  Args:
    checkpoint: A training directory (its latest checkpoint), a checkpoint
      path, a manifest name, or an export directory (inference.export; run
      by its runtime, or `runtime`, in its own precision unless `precision`
      asks another its runtime has).
    dataset: An image folder or TFRecords (data.datasets.open_dataset).
    split: 'validation' (default), 'train' or 'all'.
    batch_size: Images per session run.
    validation_fraction, seed: How image folders were split (as in training).
    labels_offset: Subtracted from every stored label.
    restore_moving_averages: Evaluate the ExponentialMovingAverage shadows.
    progress: Show a progress bar.
    device: Device of the network.
    max_num_batches: Evaluate only the first N batches (research/slim's
      --max_num_batches); None: the whole split.
    use_grayscale: Images made gray first (research/slim's --use_grayscale).
    num_preprocessing_threads: Images decoded and preprocessed in parallel.
    precision: 'float32', 'bfloat16', 'float16' or 'auto' (grappler's
      mixed-precision rewrite; variables stay float32); precision_strict:
      raise instead of falling back (slim_resnet.inference.precision).
    **overrides: ModelSpec fields (model, num_classes, image_size,
      preprocessing, ...).

  Returns:
    An EvalResult.

  Raises:
    datasets.DatasetError: If the dataset cannot be read or its classes do
      not match the checkpoint's.
    checkpoints.CheckpointError: If the checkpoint cannot be found or fit.
  """
  spec, source = _open(checkpoint, dataset, split, validation_fraction, seed,
                       labels_offset, overrides)
  model = None
  if runtimes.is_export(checkpoint):
    if restore_moving_averages or device:
      raise errors.UsageError(
          '--moving-averages and --device are for checkpoints; %s is an '
          'export (its weights are fixed; its runtime places it)' % checkpoint)
    model = runtimes.load(checkpoint, runtime, precision, precision_strict,
                          preprocessed=True)
    chosen = model.precision
  else:
    if runtime:
      raise errors.UsageError('--runtime is for export directories; %s is '
                              'a checkpoint' % checkpoint)
    chosen = precision_lib.resolve(precision, precision_strict,
                                   batch_size=batch_size, device=device)
  try:
    graph = _EvalGraph(spec, source, batch_size, device, max_num_batches,
                       use_grayscale, num_preprocessing_threads, chosen, model)
  except BaseException:
    if model is not None:
      model.close()
    raise
  try:
    return _result(graph, spec.checkpoint_path, source,
                   restore_moving_averages, progress)
  finally:
    graph.close()


def _result(graph, checkpoint_path, source, restore_moving_averages,
            progress):
  logits, labels = graph.run(checkpoint_path, restore_moving_averages,
                             progress)
  return EvalResult(checkpoint_path=checkpoint_path,
                    global_step=(None if graph.model is not None else
                                 _checkpoint_step(checkpoint_path)),
                    skipped=dict(source.skipped),
                    precision=graph.precision.name,
                    **metrics_from_logits(logits, labels, source.class_names))


def write_summaries(result, directory):
  """Writes top1/top5/loss at the result's global step for TensorBoard."""
  summary = tf.compat.v1.Summary(value=[
      tf.compat.v1.Summary.Value(tag='eval/' + tag,
                                 simple_value=getattr(result, tag))
      for tag in ('top1', 'top5', 'loss')])
  with tf.Graph().as_default():  # FileWriter needs graph mode.
    writer = tf.compat.v1.summary.FileWriterCache.get(directory)
  writer.add_summary(summary, result.global_step or 0)
  writer.flush()


def watch(train_dir, dataset, timeout=None, min_interval_secs=1,
          max_step=None, split='validation', batch_size=32,
          validation_fraction=0.2, seed=0, labels_offset=0,
          restore_moving_averages=False, progress=False, device=None,
          max_num_batches=None, use_grayscale=False,
          num_preprocessing_threads=None, eval_dir=None, precision='float32',
          precision_strict=False, **overrides):
  """Evaluates each new checkpoint of a training directory as it appears.

  Args:
    train_dir: The directory train() writes.
    dataset, split, batch_size, validation_fraction, seed, labels_offset,
      restore_moving_averages, progress, device, max_num_batches,
      use_grayscale, num_preprocessing_threads, precision, precision_strict,
      overrides: As evaluate().
    eval_dir: Where the summaries go (default <train_dir>/eval).
    timeout: Stop after this many seconds without a new checkpoint (None:
      wait forever).
    min_interval_secs: Seconds between looks for a new checkpoint.
    max_step: Stop after a checkpoint at or past this global step.

  Yields:
    An EvalResult per checkpoint (also written as summaries to eval_dir).
  """
  graph = spec = source = None
  try:
    for path in tf.compat.v1.train.checkpoints_iterator(
        train_dir, min_interval_secs=min_interval_secs, timeout=timeout):
      if graph is None:
        spec, source = _open(train_dir, dataset, split, validation_fraction,
                             seed, labels_offset, overrides)
        graph = _EvalGraph(spec, source, batch_size, device, max_num_batches,
                           use_grayscale, num_preprocessing_threads,
                           precision_lib.resolve(precision, precision_strict,
                                                 batch_size=batch_size,
                                                 device=device))
      result = _result(graph, path, source, restore_moving_averages, progress)
      write_summaries(result, eval_dir or os.path.join(train_dir, 'eval'))
      yield result
      if max_step is not None and (result.global_step or 0) >= max_step:
        return
  finally:
    if graph is not None:
      graph.close()

