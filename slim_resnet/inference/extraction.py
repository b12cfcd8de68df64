"""Features for many image files, written in resumable shards.

    summary = extract_to_files(extractor, paths, 'features/',
                               end_points=['resnet_v1_50/block3'], pooling='avg')

Output `OUT` is either
  - a directory: shards `features-00000.npz`, ... (each with one array per
    end_point plus `paths`) and `index.json` listing the shards, the files
    done and the files that failed with the reason; or
  - a file `OUT.npz`: the same shards are kept in `OUT.npz.parts/` while the
    work runs, then joined into one .npz and the parts removed.
Every file is written under a temporary name and renamed, and the index is
rewritten after each shard, so a killed run loses at most one shard of work:
run again with resume=True and each image ends up in the output exactly once.
"""
import json
import os
import shutil

import numpy as np
import tqdm

from slim_resnet import errors
from slim_resnet import files

POOLING = ('avg', 'max')
INDEX = 'index.json'


class ExtractionError(errors.UserError):
  """An output that exists already, or a resume that does not match."""


def pool(value, pooling):
  """Spatial pooling of a feature map [n, h, w, c] -> [n, c]; None: as is."""
  if pooling is None or value.ndim != 4:
    return value
  if pooling == 'avg':
    return value.mean(axis=(1, 2))
  return value.max(axis=(1, 2))


class ShardWriter(object):
  """Shards plus an index in a directory; see the module docstring.

  Args:
    directory: Where shards and index.json go (created if needed).
    end_points: The end_points keys stored.
    pooling: None, 'avg' or 'max'.
    resume: If True, continue the run recorded in the directory's index.

  Raises:
    ExtractionError: If the directory holds a run and resume is False, or the
      recorded run used other end_points or pooling.
  """

  def __init__(self, directory, end_points, pooling=None, resume=False):
    if pooling not in (None,) + POOLING:
      raise ExtractionError('pooling must be one of None, %s; got %r' % (
          ', '.join(POOLING), pooling))
    self.directory = directory
    if os.path.exists(os.path.join(directory, 'run.json')):
      raise ExtractionError(
          '%s holds a Beam run (extract --beam); continue it with --beam '
          '--resume, or choose another output' % directory)
    index_path = os.path.join(directory, INDEX)
    settings = {'end_points': list(end_points), 'pooling': pooling}
    if os.path.exists(index_path):
      if not resume:
        raise ExtractionError(
            '%s already holds extracted features; pass --resume (resume=True) '
            'to continue that run, or choose another output' %
            directory)
      with open(index_path) as f:
        self.index = json.load(f)
      recorded = {k: self.index[k] for k in settings}
      if recorded != settings:
        raise ExtractionError(
            'cannot resume %s: it was started with %s, this run asks for %s' %
            (directory, recorded, settings))
    else:
      os.makedirs(directory, exist_ok=True)
      self.index = dict(settings, shards=[], done=[], failed={})
    self._done = set(self.index['done']) | set(self.index['failed'])

  def todo(self, paths):
    """The paths not yet done (nor failed) in this run, in order."""
    return [p for p in paths if p not in self._done]

  def write_shard(self, paths, outputs, failures):
    """Writes one shard (possibly empty of images) and updates the index.

    Args:
      paths: The image paths of this shard.
      outputs: Dict end_point -> array [len(paths), ...], not yet pooled.
      failures: A list of (path, reason) of this shard's undecodable files.
    """
    if paths:
      name = 'features-%05d.npz' % len(self.index['shards'])
      arrays = {k: pool(outputs[k], self.index['pooling'])
                for k in self.index['end_points']}
      arrays['paths'] = np.array(paths)
      files.atomic_write(os.path.join(self.directory, name),
                    lambda f: np.savez(f, **safe_keys(arrays)))
      self.index['shards'].append({'file': name, 'count': len(paths)})
      self.index['done'] += list(paths)
    self.index['failed'].update(dict(failures))
    self._done.update(paths)
    self._done.update(p for p, _ in failures)
    data = json.dumps(self.index, indent=1).encode('utf-8')
    files.atomic_write(os.path.join(self.directory, INDEX), lambda f: f.write(data))

  def load_all(self):
    """All shards joined: dict end_point -> array, plus 'paths'."""
    return _join_shards(self.directory, self.index)


def _join_shards(directory, index):
  """The shards listed in `index` joined: dict key -> array, plus 'paths'
  (and 'labels' where the shards have them: `extract --beam` of TFRecords).
  Shards are .npz, or .tfrecord of tf.train.Example (`extract --beam
  --output-format tfrecord`)."""
  keys = index['end_points'] + ['paths']
  parts = {k: [] for k in keys + ['labels']}
  for shard in index['shards']:
    path = os.path.join(directory, shard['file'])
    if path.endswith('.tfrecord'):
      data = _read_example_shard(path, index['end_points'])
    else:
      with np.load(path) as loaded:
        data = {k: loaded[k] for k in loaded.files}
    for k in keys + ['labels']:
      if _safe_key(k) in data:
        parts[k].append(data[_safe_key(k)])
  if not parts['labels']:
    del parts['labels']
  return {k: np.concatenate(v) if v else np.zeros([0]) for k, v in
          parts.items()}


def _read_example_shard(path, end_points):
  """A .tfrecord shard of tf.train.Example as npz-style arrays."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  rows = [tf.train.Example.FromString(r).features.feature
          for r in tf.compat.v1.io.tf_record_iterator(path)]
  data = {'paths': np.array([r['key'].bytes_list.value[0].decode('utf-8')
                             for r in rows]),
          'labels': np.array([r['label'].int64_list.value[0] for r in rows],
                             np.int64)}
  for key in end_points:
    data[_safe_key(key)] = np.stack([
        np.array(r[key].float_list.value, np.float32).reshape(
            list(r[key + '/shape'].int64_list.value)) for r in rows])
  return data


def _safe_key(key):
  """end_points keys have '/', which np.savez keeps but zip tools dislike."""
  return key.replace('/', '__')


def safe_keys(arrays):
  """{key with '/' as '__': array}, as the .npz shards store them."""
  return {_safe_key(k): v for k, v in arrays.items()}



def load_features(path):
  """Reads an extraction output (a .npz file or a shard directory).

  Returns:
    A dict end_point key -> array [n, ...], plus 'paths' [n] and
    'failed' {path: reason}.
  """
  if os.path.isdir(path):
    with open(os.path.join(path, INDEX)) as f:
      index = json.load(f)
    features = _join_shards(path, index)
    features['failed'] = dict(index['failed'])
    return features
  with np.load(path) as data:
    index = json.loads(str(data['__index__']))
    features = {k: data[_safe_key(k)] for k in index['end_points'] + ['paths']}
  features['failed'] = dict(index['failed'])
  return features


def extract_to_files(extractor, paths, out, end_points=None, pooling=None,
                     resume=False, shard_size=512, progress=True):
  """Runs `extractor` over image files and writes the features to `out`.

  Args:
    extractor: A classifier.FeatureExtractor.
    paths: Image file paths (see images.list_images).
    out: A directory, or a file name ending in .npz (see module docstring).
    end_points: Keys to store; the extractor's defaults if None.
    pooling: None, 'avg' or 'max' spatial pooling of rank-4 feature maps.
    resume: Continue an interrupted run into the same `out`.
    shard_size: Images per shard (and per index update).
    progress: Show a tqdm progress bar.

  Returns:
    A dict with 'done' (images written), 'failed' {path: reason} and 'out'.

  Raises:
    ExtractionError: If `out` exists and resume is False, or differs.
    KeyError: For unknown end_points (the message lists the model's).
  """
  end_points = extractor.resolve_end_points(end_points)
  single_file = out.endswith('.npz')
  if single_file and os.path.exists(out):
    raise ExtractionError('%s exists; remove it or choose another output' % out)
  directory = out + '.parts' if single_file else out
  writer = ShardWriter(directory, end_points, pooling, resume=resume)
  todo = writer.todo([os.fspath(p) for p in paths])
  bar = tqdm.tqdm(total=len(todo), unit='img', disable=not progress,
                  desc='extract')
  try:
    for start in range(0, len(todo), shard_size):
      chunk = todo[start:start + shard_size]
      done, outputs, failures = [], {k: [] for k in end_points}, []
      for batch in extractor.iter_files(chunk, end_points):
        done += batch.paths
        for k in end_points:
          outputs[k].append(batch.outputs[k])
        failures += batch.errors
        bar.update(len(batch.paths) + len(batch.errors))
      writer.write_shard(done, {k: np.concatenate(v) for k, v in
                                outputs.items() if v}, failures)
  finally:
    bar.close()
  if single_file:
    features = writer.load_all()
    features = safe_keys(features)
    features['__index__'] = np.array(json.dumps(
        {'end_points': end_points, 'pooling': pooling,
         'failed': writer.index['failed']}))
    files.atomic_write(out, lambda f: np.savez(f, **features))
    shutil.rmtree(directory)
  return {'done': len(writer.index['done']),
          'failed': dict(writer.index['failed']), 'out': out}
