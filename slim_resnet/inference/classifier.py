"""Classifier / FeatureExtractor: one graph and one Session owned by an object.

    with FeatureExtractor('resnet_v1_50', end_points=['resnet_v1_50/block3']) as fx:
      features = fx.extract(['cat.jpg', 'dog.png'])   # {key: [2, 14, 14, 1024]}

    with Classifier() as clf:                 # the small shipped checkpoint
      for path, top in zip(paths, clf.classify(paths, top_k=3)):
        print(path, top)                      # [(label, probability), ...]

The checkpoint (a manifest name, a path, or None for the shipped one) decides
the model, the number of classes, the preprocessing and the labels; see
checkpoints.resolve_model. An export directory (inference.export) runs on
its runtime (inference.runtimes: TensorFlow, onnxruntime, OpenVINO, TFLite)
with the same preprocessing, labels and batching; its end_points are the
outputs it was exported with. Images are file paths or arrays [height, width,
channels] (any size, 1, 3 or 4 channels) or a batch [n, height, width, 3].
"""
import collections

import numpy as np

from slim_resnet import errors
from slim_resnet import nets_factory
from slim_resnet.checkpoints import model_spec as model_spec_lib
from slim_resnet.checkpoints import restorer as restore_lib
from slim_resnet.data import images as images_lib
from slim_resnet.inference import inference_graph
from slim_resnet.inference import precision as precision_lib
from slim_resnet.inference import runtimes
import tensorflow as tf

Batch = collections.namedtuple('Batch', ['paths', 'outputs', 'errors'])


class EndPointError(errors.UsageError, KeyError):
  """An end_points key the model does not have; the message lists its keys."""
  __str__ = Exception.__str__


class FeatureExtractor(inference_graph.OwnsSession):
  """Builds a network once, restores a checkpoint, and runs end_points.

  Args:
    checkpoint: A manifest name (e.g. 'resnet_v1_50'), a checkpoint path, or
      None for the small checkpoint shipped with the package.
    end_points: end_points keys returned by default by extract(); e.g.
      ['resnet_v1_50/block3', 'global_pool']. Default: 'predictions' if the
      model has logits, else the last block.
    batch_size: Images per session run.
    device: A TensorFlow device for the network, e.g. '/GPU:0'; None lets
      TensorFlow place it.
    session_config: An optional tf.compat.v1.ConfigProto.
    precision: 'float32' (default), 'bfloat16' (CPUs with avx512_bf16/AMX),
      'float16' (GPU) or 'auto' (bfloat16 from batch_size
      precision.AUTO_MIN_BATCH on, where it wins); grappler's mixed-precision
      rewrite of the session graph, variables stay float32. Without support
      it falls back to float32 with a message; `self.precision` is what
      runs (slim_resnet.inference.precision).
    precision_strict: Raise precision.PrecisionError instead of falling back.
    runtime: For an export directory, one of the runtimes that read its
      format (runtimes.FORMATS); None: the format's own. An export runs in
      its own precision unless `precision` asks another its runtime has.
    **overrides: Any ModelSpec field (model, num_classes, image_size,
      preprocessing, model_options, ...), e.g. for a checkpoint path the
      manifest does not describe.

  Raises:
    checkpoints.CheckpointError: If the checkpoint cannot be found or does not
      fit the model (a report says what differs).
  """

  def __init__(self, checkpoint=None, end_points=None, batch_size=16,
               device=None, session_config=None, precision=None,
               precision_strict=False, *, runtime=None, **overrides):
    if not isinstance(batch_size, int) or batch_size < 1:
      raise errors.UsageError('batch_size (--batch-size) must be 1 or more; '
                              'got %r' % (batch_size,))
    if overrides.get('num_classes') is not None and overrides['num_classes'] < 0:
      raise errors.UsageError('num_classes (--num-classes) must be 1 or more, '
                              'or 0 for a model without logits; got %r' %
                              overrides['num_classes'])
    self.batch_size = batch_size
    self._model = None  # An export directory's runtime model.
    if runtimes.is_export(checkpoint):
      if device:
        raise errors.UsageError('--device is for checkpoints; %s is an '
                                'export, run by its runtime' % checkpoint)
      self.spec = runtimes.export_spec(checkpoint, **overrides)
      self._model = runtimes.load(checkpoint, runtime, precision,
                                  precision_strict, preprocessed=True)
      self.precision = self._model.precision
    else:
      if runtime:
        raise errors.UsageError('--runtime is for export directories; %s is '
                                'a checkpoint' % (checkpoint or 'the shipped '
                                                  'checkpoint'))
      self.spec = model_spec_lib.resolve_model(checkpoint, **overrides)
      self.precision = precision_lib.as_precision(
          precision, precision_strict, batch_size=batch_size, device=device)
    self.session = None
    try:
      self._build(end_points, device, session_config)
    except BaseException:
      self.close()  # The export's model, the session: nothing left open.
      raise

  def _build(self, end_points, device, session_config):
    """The graph and its session, the checkpoint restored."""
    self.graph = tf.Graph()
    with self.graph.as_default():
      self._build_preprocessing()
      self._build_file_pipeline()
      with tf.compat.v1.device(device):
        self._build_network()
      self._default_keys = self.resolve_end_points(
          end_points or [self._last_key()])
      self.session = tf.compat.v1.Session(
          graph=self.graph,
          config=precision_lib.session_config(self.precision, session_config))
      if self._model is None:
        self.session.run(tf.compat.v1.global_variables_initializer())
        restore_lib.restore(
            self.session, self.spec.checkpoint_path,
            checkpoint_background=self.spec.checkpoint_background)
    self.graph.finalize()

  # Graph construction.

  def _preprocess(self, image):
    return self.spec.preprocessing_fn()(image)

  def _build_preprocessing(self):
    """One raw image in, one preprocessed image out (arrays in memory)."""
    self._raw_image = tf.compat.v1.placeholder(tf.uint8, [None, None, 3],
                                               name='raw_image')
    self._preprocessed = self._preprocess(self._raw_image)

  def _build_file_pipeline(self):
    """tf.data: paths -> parallel decode -> preprocess -> batch -> prefetch."""
    self._paths = tf.compat.v1.placeholder(tf.string, [None], name='paths')

    def decode(path):
      try:
        return images_lib.load_image(path.decode('utf-8')), b''
      except images_lib.ImageDecodeError as e:
        return np.zeros([1, 1, 3], np.uint8), e.reason.encode('utf-8')

    def load(path):
      image, error = tf.numpy_function(decode, [path], [tf.uint8, tf.string])
      image.set_shape([None, None, 3])
      error.set_shape([])
      return path, self._preprocess(image), error

    dataset = tf.data.Dataset.from_tensor_slices(self._paths)
    dataset = dataset.map(load, num_parallel_calls=tf.data.AUTOTUNE)
    # Never more than the images at hand: tf.data allocates a whole batch, so
    # --batch-size 10000000 on ten images ran out of memory.
    self._file_batch = tf.compat.v1.placeholder_with_default(
        tf.constant(self.batch_size, tf.int64), [], name='file_batch_size')
    dataset = dataset.batch(self._file_batch).prefetch(2)
    self._iterator = tf.compat.v1.data.make_initializable_iterator(dataset)
    self._next_paths, images, self._next_errors = self._iterator.get_next()
    self._file_images = images

  def _build_network(self):
    size = self.spec.image_size
    self.images = tf.compat.v1.placeholder_with_default(
        self._file_images, [None, size, size, 3], name='images')
    if self._model is not None:  # The export's outputs, run by its runtime.
      self.logits = None
      self.end_points = {key: None for key in self._model.outputs}
      return
    self.logits, self.end_points = _network(self.spec, self.images)

  def _last_key(self):
    if self.spec.num_classes:
      return 'predictions'
    return '%s/block4' % self.spec.scope

  def resolve_end_points(self, keys=None):
    """The end_points keys to run: `keys`, or the constructor's default.

    Raises:
      EndPointError (a KeyError): For an unknown key; the message lists the
        model's keys.
    """
    keys = keys or self._default_keys
    keys = [keys] if isinstance(keys, str) else list(keys)
    unknown = [k for k in keys if k not in self.end_points]
    if unknown:
      raise EndPointError('unknown end_points %s; this model has: %s' % (
          ', '.join(unknown), ', '.join(self.end_points)))
    return keys

  # Running.

  def preprocess(self, image):
    """One image (a path or an array) -> the network's input [size, size, 3]."""
    if isinstance(image, (str, bytes)) or hasattr(image, '__fspath__'):
      image = images_lib.load_image(image)
    return self.session.run(self._preprocessed,
                            {self._raw_image: images_lib.to_rgb(image)})

  def _run(self, keys, batch):
    """The end_points `keys` on preprocessed images [n, size, size, 3]."""
    if self._model is not None:
      outputs = self._model.run(batch)
      return [outputs[k] for k in keys]
    return self.session.run([self.end_points[k] for k in keys],
                            {self.images: batch})

  def close(self):
    if self.session is not None:
      self.session.close()
    if self._model is not None:
      self._model.close()

  def extract(self, images, end_points=None):
    """Runs end_points on images in memory or on files.

    Args:
      images: A list of paths or arrays, or an array [n, height, width, c].
      end_points: Keys to return; the constructor's by default.

    Returns:
      A dict key -> array [n, ...], in the order of `images`.

    Raises:
      images.ImageDecodeError: If a file cannot be decoded (use
        iter_files() to skip and report bad files instead).
      KeyError: For an unknown end_points key (the message lists them).
    """
    keys = self.resolve_end_points(end_points)
    outputs = {k: [] for k in keys}
    items = list(images)
    for start in range(0, len(items), self.batch_size):
      batch = np.stack([self.preprocess(i)
                        for i in items[start:start + self.batch_size]])
      for key, value in zip(keys, self._run(keys, batch)):
        outputs[key].append(value)
    return {k: np.concatenate(v) if v else np.zeros([0])
            for k, v in outputs.items()}

  def iter_files(self, paths, end_points=None):
    """Runs end_points over image files through the tf.data pipeline.

    Args:
      paths: A list of image file paths.
      end_points: Keys to return; the constructor's by default.

    Yields:
      Batch(paths, outputs, errors): the paths decoded in this batch, a dict
      key -> array over those paths, and a list of (path, reason) for files
      of the batch that could not be decoded (left out of paths/outputs).
    """
    keys = self.resolve_end_points(end_points)
    tensors = ([self._file_images] if self._model is not None else
               [self.end_points[k] for k in keys])
    self.session.run(self._iterator.initializer,
                     {self._paths: [str(p) for p in paths],
                      self._file_batch: max(1, min(self.batch_size,
                                                   len(paths)))})
    while True:
      try:
        batch_paths, errors, values = self.session.run(
            [self._next_paths, self._next_errors, tensors])
      except tf.errors.OutOfRangeError:
        return
      if self._model is not None:
        values = self._run(keys, values[0])
      ok = errors == b''
      decoded = [p.decode('utf-8') for p in batch_paths]
      yield Batch([p for p, good in zip(decoded, ok) if good],
                  {k: v[ok] for k, v in zip(keys, values)},
                  [(p, e.decode('utf-8')) for p, e, good
                   in zip(decoded, errors, ok) if not good])


class Classifier(FeatureExtractor):
  """A FeatureExtractor that reads the predictions as labelled classes."""

  def __init__(self, checkpoint=None, **kwargs):
    if kwargs.get('num_classes') == 0:
      raise errors.UsageError('classifying needs logits: num_classes '
                              '(--num-classes) must be 1 or more; got 0 (use '
                              'FeatureExtractor / `extract` for features)')
    super().__init__(checkpoint, end_points=['predictions'], **kwargs)
    try:
      if not self.spec.num_classes:
        raise errors.UsageError('%s has no logits (num_classes=%s): use '
                                'FeatureExtractor' % (self.spec.model,
                                                      self.spec.num_classes))
      self.labels = self.spec.labels()
    except BaseException:
      self.close()
      raise

  def top_k(self, probabilities, k=5):
    """[n, num_classes] probabilities -> n lists of (label, probability)."""
    if not isinstance(k, int) or k < 1:
      raise errors.UsageError('top_k (--top-k) must be 1 or more; got %r' %
                              (k,))
    order = np.argsort(-probabilities, axis=1)[:, :k]
    return [[(self.labels[j], float(p[j])) for j in row]
            for row, p in zip(order, probabilities)]

  def classify(self, images, top_k=5):
    """Top-k (label, probability) pairs for each image (paths or arrays)."""
    return self.top_k(self.extract(images)['predictions'], top_k)

  def classify_files(self, paths, top_k=5):
    """Yields (path, top-k pairs or None, error reason or None) per file."""
    if not isinstance(top_k, int) or top_k < 1:
      raise errors.UsageError('top_k (--top-k) must be 1 or more; got %r' %
                              (top_k,))
    for batch in self.iter_files(paths):
      for path, top in zip(batch.paths,
                           self.top_k(batch.outputs['predictions'], top_k)):
        yield path, top, None
      for path, reason in batch.errors:
        yield path, None, reason


def _network(spec, images):
  """(logits, end_points) of spec's network on images, inference mode."""
  network_fn = nets_factory.get_network_fn(spec.model, spec.num_classes,
                                           is_training=False)
  return network_fn(images, **spec.model_options)


def model_end_points(spec):
  """{end_points key: static shape} of spec's network, built in a graph of
  its own; reads no checkpoint (FeatureExtractor(...).end_points has the
  same keys and shapes)."""
  with tf.Graph().as_default():
    size = spec.image_size
    images = tf.compat.v1.placeholder(tf.float32, [None, size, size, 3])
    _, end_points = _network(spec, images)
    return {key: tensor.shape for key, tensor in end_points.items()}
