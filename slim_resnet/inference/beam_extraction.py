"""Feature extraction as an Apache Beam pipeline (`extract --beam`; the
`beam` extra).

    summary = run_extraction(None, ['photos/'], 'features/',
                             end_points=['global_pool'], pooling='avg',
                             pipeline_args=['--direct_num_workers=2',
                                            '--direct_running_mode=multi_processing'])

Inputs are what `extract` reads (image files, folders, globs; keyed by
path) or research/slim TFRecords (a .tfrecord file, a glob of them or a
folder of shards; keyed '<file>:<record index>', their labels carried
along). The checkpoint is anything FeatureExtractor takes: a manifest name,
a checkpoint, a training directory or an export directory (runtimes).

The pipeline, on any runner (DirectRunner here, Dataflow, Flink, Spark):
  Create(files) | read each file's inputs (key, encoded image, label)
  | Reshuffle | BatchElements(1 .. batch_size)
  | ExtractBatch: one FeatureExtractor per worker process, loaded on first
    use and shared by its threads (beam.utils.shared.Shared, as RunInference's
    model handlers share theirs); decode (Pillow, as `extract`), the
    checkpoint's preprocessing, end_points, pooling. An undecodable input
    goes to the 'failed' output with the reason, never crashing the pipeline
  | (shard, row) by crc32(key) % num_shards | GroupByKey
  | one shard file per shard, rows sorted by key, written under a temporary
    name and renamed: a retried bundle writes the same file again, so each
    input is in the output once however often a runner retries.
  failed | ToList | failed-r<run>.json
RunInference would fit the model call, but decoding with a per-input
failure output comes first either way and FeatureExtractor already batches,
so one DoFn does both, sharing the model the way RunInference does.

Output: a directory with run.json (the settings), the shards
features-r<run>-<shard>-of-<n>.npz (as `extract` writes them: one array per
end_point, '/' written as '__', plus 'paths' (the keys) and, from TFRecords,
'labels') or .tfrecord (output_format='tfrecord': one tf.train.Example per
input: 'key', 'label', and per end_point '<key>' float_list and
'<key>/shape'), and index.json (end_points, pooling, shards, done, failed),
written by the launcher when the pipeline is done;
extraction.load_features reads it. A run that stopped part way (a killed
worker: the DirectRunner retries no bundle) is continued with resume=True:
the keys in its finished shards are skipped.
"""
import glob
import json
import math
import os
import zlib

import numpy as np

from slim_resnet import files
from slim_resnet.data import images as images_lib
from slim_resnet.data import tfrecords
from slim_resnet.inference import extraction
from slim_resnet.inference import runtimes

beam = runtimes.require('apache_beam', 'beam', 'extract --beam')
from apache_beam.utils import shared  # pylint: disable=g-import-not-at-top,wrong-import-position

RUN_INFO = 'run.json'
OUTPUT_FORMATS = ('npz', 'tfrecord')
ExtractionError = extraction.ExtractionError
# What a runner says when a worker process died (killed, out of memory).
WORKER_DIED = ('Worker subprocess exited', 'Channel closed prematurely',
               'Socket closed', 'failed to connect to all addresses')


class PipelineStoppedError(ExtractionError):
  """A worker died and the runner did not retry its work; resume continues."""


def unknown_pipeline_args(args):
  """The arguments Beam's pipeline options do not know (Beam itself only
  warns and drops them: a mistyped flag of ours would vanish)."""
  from apache_beam.options import pipeline_options  # pylint: disable=g-import-not-at-top
  parsers = []
  pipeline_options.PipelineOptions(list(args)).get_all_options(
      add_extra_args_fn=parsers.append, display_warnings=False)
  _, unknown = parsers[0].parse_known_args(list(args))
  return unknown


def _worker_died(error):
  """Whether an exception (or one it came from) says a worker died."""
  while error is not None:
    if any(marker in str(error) for marker in WORKER_DIED):
      return True
    error = error.__cause__ or error.__context__
  return False


def list_inputs(inputs):
  """('tfrecord', record files) or ('files', image paths) of `inputs`."""
  record_files = tfrecords.tfrecord_files(inputs)
  if record_files == []:
    raise ExtractionError('no TFRecord files match %s' % inputs)
  if record_files:
    return 'tfrecord', record_files
  return 'files', images_lib.list_images(inputs)


def read_inputs(unit, kind, done=frozenset()):
  """Yields (key, encoded bytes or None for a file path, label) of a unit:
  an image path, or every record of a TFRecord file; keys in `done` are
  skipped."""
  if kind == 'files':
    if unit not in done:
      yield unit, None, -1
    return
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  for index, record in enumerate(tf.compat.v1.io.tf_record_iterator(unit)):
    key = '%s:%d' % (unit, index)
    if key in done:
      continue
    feature = tf.train.Example.FromString(record).features.feature
    label = feature['image/class/label'].int64_list.value
    yield (key, feature['image/encoded'].bytes_list.value[0]
           if feature['image/encoded'].bytes_list.value else b'',
           int(label[0]) if label else -1)


class ExtractBatch(beam.DoFn):
  """Decodes, preprocesses and runs a batch of (key, data, label).

  Outputs (key, label, {end_point: pooled feature}); undecodable inputs go to
  the 'failed' output as (key, reason).
  """

  def __init__(self, model, end_points, pooling):
    super().__init__()
    self._model = dict(model)  # FeatureExtractor's arguments.
    self._end_points = list(end_points)
    self._pooling = pooling
    self._shared = shared.Shared()
    self._extractor = None

  def _load(self):
    from slim_resnet.inference import classifier  # pylint: disable=g-import-not-at-top
    model = dict(self._model)
    return classifier.FeatureExtractor(model.pop('checkpoint'),
                                       end_points=self._end_points, **model)

  def setup(self):
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    tf.get_logger().setLevel('ERROR')  # Its deprecation notes, per worker.
    self._extractor = self._shared.acquire(self._load)

  def process(self, batch):
    good, images = [], []
    for key, data, label in batch:
      try:
        images.append(images_lib.load_image(key) if data is None else
                      images_lib.decode_image(data, key))
      except images_lib.ImageDecodeError as e:
        yield beam.pvalue.TaggedOutput('failed', (key, e.reason))
        continue
      good.append((key, label))
    if not good:
      return
    outputs = self._extractor.extract(images, self._end_points)
    for i, (key, label) in enumerate(good):
      yield key, label, {k: extraction.pool(outputs[k][i:i + 1],
                                            self._pooling)[0]
                         for k in self._end_points}


def shard_of(key, num_shards):
  """The shard of a key: crc32 of its UTF-8 bytes, mod num_shards (the same
  on every worker and every retry)."""
  return zlib.crc32(key.encode('utf-8')) % num_shards


def shard_name(run, shard, num_shards, output_format):
  return 'features-r%d-%05d-of-%05d.%s' % (run, shard, num_shards,
                                           output_format)


def write_shard(item, directory, run, num_shards, output_format, end_points,
                labelled):
  """Writes one shard (shard index, rows (key, label, features)), rows
  sorted by key, atomically; returns its file name."""
  shard, rows = item
  rows = sorted(rows, key=lambda row: row[0])
  name = shard_name(run, shard, num_shards, output_format)
  path = os.path.join(directory, name)
  if output_format == 'npz':
    arrays = {k: np.stack([row[2][k] for row in rows]) for k in end_points}
    arrays['paths'] = np.array([row[0] for row in rows])
    if labelled:
      arrays['labels'] = np.array([row[1] for row in rows], np.int64)
    files.atomic_write(path, lambda f: np.savez(
        f, **extraction.safe_keys(arrays)))
    return name
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  records = []
  for key, label, features in rows:
    feature = {'key': tf.train.Feature(bytes_list=tf.train.BytesList(
        value=[key.encode('utf-8')])),
               'label': tf.train.Feature(int64_list=tf.train.Int64List(
                   value=[label]))}
    for end_point in end_points:
      value = np.asarray(features[end_point], np.float32)
      feature[end_point] = tf.train.Feature(float_list=tf.train.FloatList(
          value=value.ravel()))
      feature[end_point + '/shape'] = tf.train.Feature(
          int64_list=tf.train.Int64List(value=list(value.shape)))
    records.append(tf.train.Example(features=tf.train.Features(
        feature=feature)).SerializeToString())
  def write_records(temporary):
    with tf.io.TFRecordWriter(temporary) as writer:
      for record in records:
        writer.write(record)
  files.atomic_write_path(path, write_records)
  return name


def write_failed(failed, directory, run):
  """failed-r<run>.json: {key: reason} of the inputs that did not decode."""
  data = json.dumps(dict(sorted(failed)), indent=1)
  files.atomic_write_text(os.path.join(directory, 'failed-r%d.json' % run),
                          data)


def _shard_keys(path, output_format):
  """The keys in a finished shard file."""
  if output_format == 'npz':
    with np.load(path) as data:
      return [str(k) for k in data['paths']]
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  return [tf.train.Example.FromString(r).features.feature['key']
          .bytes_list.value[0].decode('utf-8')
          for r in tf.compat.v1.io.tf_record_iterator(path)]


def _finished(directory, output_format):
  """{shard file: its keys} and {key: reason} of the runs so far."""
  shards = {os.path.basename(p): _shard_keys(p, output_format)
            for p in sorted(glob.glob(os.path.join(
                directory, 'features-r*.' + output_format)))}
  failed = {}
  for path in sorted(glob.glob(os.path.join(directory, 'failed-r*.json'))):
    with open(path, encoding='utf-8') as f:
      failed.update(json.load(f))
  return shards, failed


def _start_run(directory, settings, resume):
  """The number of this run; refuses a used directory without resume."""
  path = os.path.join(directory, RUN_INFO)
  if os.path.exists(path):
    if not resume:
      raise ExtractionError(
          '%s already holds extracted features; pass --resume (resume=True) '
          'to continue that run, or choose another output' % directory)
    with open(path, encoding='utf-8') as f:
      info = json.load(f)
    recorded = {k: info.get(k) for k in settings}
    if recorded != settings:
      raise ExtractionError(
          'cannot resume %s: it was started with %s, this run asks for %s' %
          (directory, recorded, settings))
    run = info['runs']
  else:
    if os.path.exists(os.path.join(directory, extraction.INDEX)):
      raise ExtractionError(
          '%s holds features written by `extract` without --beam; choose '
          'another output' % directory)
    os.makedirs(directory, exist_ok=True)
    run = 0
  files.atomic_write_text(path, json.dumps(dict(settings, runs=run + 1),
                                           indent=1))
  return run


def _resolve_end_points(model, end_points):
  """The end_points keys to write, checked against the model's."""
  from slim_resnet.checkpoints import model_spec  # pylint: disable=g-import-not-at-top
  from slim_resnet.inference import classifier  # pylint: disable=g-import-not-at-top
  checkpoint = model['checkpoint']
  overrides = model.get('overrides', {})
  if runtimes.is_export(checkpoint):
    keys = list(runtimes.read_info(checkpoint)['outputs'])
    spec = runtimes.export_spec(checkpoint, **overrides)
  else:
    spec = model_spec.resolve_model(checkpoint, download=False, **overrides)
    keys = list(classifier.model_end_points(spec))
  if not end_points:
    end_points = (['predictions'] if spec.num_classes else
                  ['%s/block4' % spec.scope])
  unknown = [k for k in end_points if k not in keys]
  if unknown:
    raise classifier.EndPointError('unknown end_points %s; this model has: %s'
                                   % (', '.join(unknown), ', '.join(keys)))
  return list(end_points)


def _run_pipeline(options, units, kind, skip, batch_size, model, end_points,
                  pooling, num_shards, out, run, output_format):
  """Builds and runs the pipeline (see the module docstring)."""
  with beam.Pipeline(options=options) as pipeline:
    results = (
        pipeline
        | 'Inputs' >> beam.Create(units, reshuffle=False)
        | 'Read' >> beam.FlatMap(read_inputs, kind, skip)
        | 'Spread' >> beam.Reshuffle()
        | 'Batch' >> beam.BatchElements(min_batch_size=1,
                                        max_batch_size=batch_size)
        | 'Extract' >> beam.ParDo(ExtractBatch(model, end_points, pooling))
        .with_outputs('failed', main='features'))
    _ = (results.features
         | 'Shard' >> beam.Map(lambda row: (shard_of(row[0], num_shards),
                                            row))
         | 'Group' >> beam.GroupByKey()
         | 'Write' >> beam.Map(write_shard, out, run, num_shards,
                               output_format, end_points,
                               kind == 'tfrecord'))
    _ = (results.failed
         | 'Failures' >> beam.combiners.ToList()
         | 'WriteFailures' >> beam.Map(write_failed, out, run))


def run_extraction(checkpoint, inputs, out, end_points=None, pooling=None,
                   resume=False, batch_size=32, num_shards=None,
                   output_format='npz', pipeline_args=(), shard_size=512,
                   runtime=None, precision=None, precision_strict=False,
                   **overrides):
  """Runs the extraction pipeline and writes index.json.

  Args:
    checkpoint: What FeatureExtractor takes (None: the shipped checkpoint).
    inputs: Image files, folders, globs, or TFRecords (see list_inputs).
    out: The output directory.
    end_points, pooling, resume: As extraction.extract_to_files.
    batch_size: Most images per model call (BatchElements' maximum).
    num_shards: Output shards (default: inputs / shard_size for image
      files, one per record file for TFRecords).
    output_format: 'npz' (extract's shards) or 'tfrecord'.
    pipeline_args: Beam's pipeline options, e.g. ['--runner=DataflowRunner',
      '--project=...'] (default: the DirectRunner).
    runtime, precision, precision_strict, **overrides: FeatureExtractor's.

  Returns:
    {'done': inputs in the output, 'failed': {key: reason}, 'out': out,
    'shards': shard files}.

  Raises:
    ExtractionError: For a used output without resume, or a resume that
      does not match.
  """
  if pooling not in (None,) + extraction.POOLING:
    raise ExtractionError('pooling must be one of None, %s; got %r' % (
        ', '.join(extraction.POOLING), pooling))
  if output_format not in OUTPUT_FORMATS:
    raise ExtractionError('output format must be one of %s; got %r' % (
        ', '.join(OUTPUT_FORMATS), output_format))
  if str(out).endswith('.npz'):
    raise ExtractionError('--beam writes a directory of shards, not one '
                          '.npz file: give a directory as --out')
  sources = [inputs] if isinstance(inputs, (str, os.PathLike)) else inputs
  remote = [os.fspath(p) for p in [out] + list(sources)
            if '://' in os.fspath(p)]
  if remote:
    raise ExtractionError(
        '%s: the workers read and write plain files; put the inputs and OUT '
        'on a filesystem every worker mounts (NFS, or the bucket through '
        'FUSE) and give those paths' % ', '.join(remote))
  if os.path.exists(out) and not os.path.isdir(out):
    raise ExtractionError('%s is a file; --out is the directory to write the '
                          'shards into' % out)
  unknown = unknown_pipeline_args(pipeline_args)
  if unknown:
    raise ExtractionError(
        'unrecognized arguments: %s (neither extract\'s flags nor Beam\'s '
        'pipeline options; see slim-resnet extract --help)'
        % ' '.join(unknown))
  model = dict(checkpoint=checkpoint, batch_size=batch_size, runtime=runtime,
               precision=precision, precision_strict=precision_strict,
               overrides=dict(overrides))
  end_points = _resolve_end_points(model, end_points)
  kind, units = list_inputs(inputs)
  out = os.path.abspath(out)
  settings = {'end_points': end_points, 'pooling': pooling,
              'format': output_format,
              'checkpoint': None if checkpoint is None else os.path.abspath(
                  checkpoint) if os.path.exists(checkpoint) else checkpoint,
              'runtime': runtime, 'precision': precision,
              'overrides': dict(overrides)}
  run = _start_run(out, settings, resume)
  shards, failed = _finished(out, output_format)
  done = {key for keys in shards.values() for key in keys}
  if kind == 'files':
    units = [u for u in units if u not in done and u not in failed]
    num_shards = num_shards or max(1, math.ceil(len(units) / shard_size))
  else:
    num_shards = num_shards or len(units)
  skip = frozenset(done) | frozenset(failed)
  model = dict(model)
  model.update(model.pop('overrides'))
  from apache_beam.options import pipeline_options  # pylint: disable=g-import-not-at-top
  pipeline_args = list(pipeline_args)
  if not any(a.startswith('--default_sdk_harness_log_level')
             for a in pipeline_args):
    # The workers' own log lines (INFO per bundle; when one of them dies,
    # the others' gRPC errors): what went wrong reaches the launcher as the
    # pipeline's error.
    pipeline_args.append('--default_sdk_harness_log_level=CRITICAL')
  options = pipeline_options.PipelineOptions(pipeline_args)
  try:
    _run_pipeline(options, units, kind, skip, batch_size, model, end_points,
                  pooling, num_shards, out, run, output_format)
  except Exception as e:  # pylint: disable=broad-except
    if not _worker_died(e):
      raise
    raise PipelineStoppedError(
        'a Beam worker stopped (%s) and the runner did not retry its work '
        '(the DirectRunner retries no bundle; Dataflow, Flink and Spark '
        'do); the shards finished are kept in %s: run the same command '
        'with --resume to continue' % (
            str(e).strip().splitlines()[-1][:200], out)) from e
  shards, failed = _finished(out, output_format)
  done = {key for keys in shards.values() for key in keys}
  missing = [u for u in units if u not in done and u not in failed]
  if kind == 'files' and missing:
    raise ExtractionError(
        '%d of the inputs are not in %s after the pipeline ended (e.g. %s): '
        'the workers must write to a folder this machine sees, a filesystem '
        'they all mount' % (len(missing), out, missing[0]))
  index = dict(settings, kind=kind,
               shards=[{'file': name, 'count': len(keys)}
                       for name, keys in shards.items()],
               done=[key for keys in shards.values() for key in keys],
               failed=failed)
  files.atomic_write_text(os.path.join(out, extraction.INDEX),
                          json.dumps(index, indent=1))
  return {'done': len(index['done']), 'failed': failed, 'out': out,
          'shards': list(shards)}
