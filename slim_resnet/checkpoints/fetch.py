"""A local checkpoint path for a manifest name, a URL or a local path.

    path = fetch_checkpoint('resnet_v1_50')         # manifest name -> cache
    path = fetch_checkpoint('https://host/x.tar.gz')
    path = fetch_checkpoint('/data/resnet_v1_50.ckpt')  # or a dir, a .tar.gz

Downloads and extractions live in cache_dir() ($SLIM_RESNET_HOME, default
~/.cache/slim_resnet), keyed by URL and by archive hash and verified on every
fetch (checkpoints.archive); the HTTP transfer itself is
checkpoints.download.
"""
import os
import tarfile

from slim_resnet.checkpoints import archive as archive_lib
from slim_resnet.checkpoints import assets
from slim_resnet.checkpoints import errors
from slim_resnet.checkpoints import manifest as manifest_lib


def cache_dir():
  """$SLIM_RESNET_HOME, or ~/.cache/slim_resnet."""
  return os.environ.get('SLIM_RESNET_HOME') or os.path.join(
      os.path.expanduser('~'), '.cache', 'slim_resnet')


def _latest_in(directory):
  """The checkpoint the 'checkpoint' state file names, found inside
  `directory` only, or None.

  Saver.save writes absolute paths there; for a folder that was moved,
  copied or unpacked from an archive, that path is another folder's (which
  may exist on this machine). So the named file is taken by its base name
  in the folder of the state file, and nothing outside `directory` is used.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  state = tf.train.get_checkpoint_state(directory)
  if not state or not state.model_checkpoint_path:
    return None
  # By its base name, so it cannot leave the folder (a symlinked file in it
  # is fine).
  path = os.path.join(directory, os.path.basename(
      state.model_checkpoint_path.rstrip('/\\')))
  return path if is_checkpoint_prefix(path) else None


def _checkpoint_in_dir(directory):
  """The checkpoint prefix inside a directory, or None."""
  latest = _latest_in(directory)
  if latest:
    return latest
  found = []
  for root, _, files in os.walk(directory):
    for f in files:
      if f.endswith('.index'):
        found.append(os.path.join(root, f[:-len('.index')]))
      elif f.endswith('.ckpt'):
        found.append(os.path.join(root, f))
  if len(found) == 1:
    return found[0]
  if len(found) > 1:
    raise errors.CheckpointError(
        '%s holds several checkpoints (%s); name one of them' % (
            directory, ', '.join(sorted(found))))
  return None


def is_checkpoint_prefix(path):
  """True for a V1 single-file checkpoint or a V2 prefix (path.index)."""
  return os.path.isfile(path + '.index') or (
      os.path.isfile(path) and not tarfile.is_tarfile(path))


def _in_archive(archive, cache, archive_sha256=None, checkpoint_file=None):
  """The checkpoint inside `archive`, extracted (and verified) in the cache."""
  target = archive_lib.cached_extraction(archive, cache, archive_sha256)
  if checkpoint_file:
    path = os.path.join(target, checkpoint_file)
    if is_checkpoint_prefix(path):
      return path
    raise errors.CheckpointError('%s has no %s' % (archive, checkpoint_file))
  found = _checkpoint_in_dir(target)
  if not found:
    raise errors.CheckpointError('no checkpoint inside %s' % archive)
  return found


def fetch_checkpoint(checkpoint, cache=None, progress=True):
  """A local checkpoint path for a manifest name, a URL or a local path.

  Args:
    checkpoint: A manifest name (downloaded, verified against the manifest's
      sha256 and extracted into the cache, or the shipped checkpoint's
      path); an http(s)/file URL of a .tar.gz; or a local path: a .tar.gz, a
      directory holding one checkpoint (or a 'checkpoint' state file), or a
      checkpoint prefix (V1 single file or V2 index + data).
    cache: The cache folder; cache_dir() by default.
    progress: Show download progress bars.

  Returns:
    A path that tf.train.load_checkpoint and Saver.restore accept.

  Raises:
    CheckpointError (or a subclass): If it cannot be found or fetched; the
      message says what was looked for and what was found.
  """
  cache = cache or cache_dir()
  checkpoint = os.fspath(checkpoint)
  specs = manifest_lib.load_manifest()
  if checkpoint in specs and specs[checkpoint].path:  # Shipped: a prefix.
    folder, prefix = os.path.split(specs[checkpoint].path)
    return os.path.join(str(assets.asset_path(folder)), prefix)
  if checkpoint in specs and specs[checkpoint].url:
    spec = specs[checkpoint]
    archive, digest = archive_lib.cached_download(
        spec.url, cache, spec.sha256, progress=progress)
    return _in_archive(archive, cache, digest, spec.checkpoint_file)
  if '://' in checkpoint:
    archive, digest = archive_lib.cached_download(checkpoint, cache,
                                                  progress=progress)
    return _in_archive(archive, cache, digest)
  if os.path.isdir(checkpoint):
    found = _checkpoint_in_dir(checkpoint)
    if found:
      return found
    raise errors.CheckpointError(
        'no checkpoint in directory %s (looked for a "checkpoint" state file, '
        '*.index and *.ckpt files; found: %s)' % (
            checkpoint, ', '.join(sorted(os.listdir(checkpoint))[:10]) or
            'nothing'))
  # A V2 checkpoint named by one of its files: use its prefix.
  for marker in ('.index', '.data-'):
    if marker in checkpoint and os.path.isfile(checkpoint):
      prefix = checkpoint[:checkpoint.rindex(marker)]
      if os.path.isfile(prefix + '.index'):
        return prefix
  if os.path.isfile(checkpoint) and tarfile.is_tarfile(checkpoint):
    return _in_archive(checkpoint, cache)
  if is_checkpoint_prefix(checkpoint):
    return checkpoint
  raise errors.CheckpointError(
      '%r is not a known checkpoint name (%s), a URL, a directory, an '
      'archive or a checkpoint prefix (no such file, and no %s.index)' % (
          checkpoint, ', '.join(specs), checkpoint))
