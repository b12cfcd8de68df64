"""Fetch checkpoints: download with resume and hash check, safe extraction.

    path = fetch_checkpoint('resnet_v1_50')         # manifest name -> cache
    path = fetch_checkpoint('https://host/x.tar.gz')
    path = fetch_checkpoint('/data/resnet_v1_50.ckpt')  # or a dir, a .tar.gz

Downloads go to cache_dir() ($SLIM_RESNET_HOME, default ~/.cache/slim_resnet),
stream to '<file>.part' with a tqdm bar, resume an interrupted transfer with
an HTTP Range request, retry on connection errors and time-outs, check the
manifest's sha256 when it has one, and are renamed into place only when
complete. Archives are extracted into a temporary folder, member by member
after checking that none escapes it, then renamed.
"""
import hashlib
import os
import shutil
import tarfile
import tempfile
import time
import urllib.error
import urllib.request

import tqdm

from slim_resnet import assets
from slim_resnet.checkpoints import errors
from slim_resnet.checkpoints import manifest as manifest_lib

CHUNK = 1 << 20


def cache_dir():
  """$SLIM_RESNET_HOME, or ~/.cache/slim_resnet."""
  return os.environ.get('SLIM_RESNET_HOME') or os.path.join(
      os.path.expanduser('~'), '.cache', 'slim_resnet')


def sha256_of(path):
  digest = hashlib.sha256()
  with open(path, 'rb') as f:
    for block in iter(lambda: f.read(CHUNK), b''):
      digest.update(block)
  return digest.hexdigest()


def _transfer(url, part, timeout, progress):
  """Appends the rest of `url` to `part`, resuming from its current size."""
  have = os.path.getsize(part) if os.path.exists(part) else 0
  request = urllib.request.Request(url)
  if have:
    request.add_header('Range', 'bytes=%d-' % have)
  with urllib.request.urlopen(request, timeout=timeout) as response:
    status = getattr(response, 'status', 200)
    if have and status != 206:  # The server ignored Range: start over.
      have = 0
    length = response.headers.get('Content-Length')
    total = have + int(length) if length is not None else None
    mode = 'ab' if have else 'wb'
    with open(part, mode) as f, tqdm.tqdm(
        total=total, initial=have, unit='B', unit_scale=True,
        disable=not progress, desc=os.path.basename(part[:-5])) as bar:
      while True:
        block = response.read(CHUNK)
        if not block:
          break
        f.write(block)
        bar.update(len(block))
    if total is not None and os.path.getsize(part) < total:
      raise urllib.error.URLError('connection closed at %d of %d bytes' % (
          os.path.getsize(part), total))


def download(url, dest, sha256=None, timeout=30, retries=3, progress=True):
  """Downloads `url` to `dest` (atomically), resuming and retrying.

  Args:
    url: http(s) or file URL.
    dest: The final file path; its folder is created.
    sha256: Expected hex digest, or None to skip the check.
    timeout: Seconds without data before a try fails.
    retries: Further tries after the first (each resumes where it stopped).
    progress: Show a tqdm progress bar.

  Returns:
    dest.

  Raises:
    DownloadError: If every try failed; the message has the last reason.
    ChecksumError: If the hash differs (nothing is left on disk).
  """
  os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
  part = dest + '.part'
  for attempt in range(retries + 1):
    try:
      _transfer(url, part, timeout, progress)
      break
    except (urllib.error.URLError, OSError, ConnectionError) as e:
      if isinstance(e, urllib.error.HTTPError) and e.code == 416:
        break  # Nothing left to fetch: the part file is whole (hash below).
      if isinstance(e, urllib.error.HTTPError) and e.code in (404, 403, 410):
        _remove(part)
        raise errors.DownloadError('cannot download %s: HTTP %d %s' % (
            url, e.code, e.reason)) from None
      if attempt == retries:
        raise errors.DownloadError(
            'cannot download %s after %d tries: %s (the partial file %s is '
            'kept; the next try resumes it)' % (url, retries + 1, e, part)
        ) from None
      time.sleep(min(2 ** attempt * 0.5, 8))
  if sha256:
    found = sha256_of(part)
    if found != sha256.lower():
      _remove(part)
      raise errors.ChecksumError(
          'sha256 of %s is %s, expected %s; the download was deleted' % (
              url, found, sha256))
  os.replace(part, dest)
  return dest


def _remove(path):
  try:
    os.remove(path)
  except FileNotFoundError:
    pass


def _check_member(member, target):
  """Raises UnsafeArchiveError if `member` would land outside `target`."""
  def inside(path):
    resolved = os.path.realpath(os.path.join(target, path))
    return resolved == target or resolved.startswith(target + os.sep)
  name = member.name
  if os.path.isabs(name) or '..' in name.replace('\\', '/').split('/'):
    raise errors.UnsafeArchiveError(
        'archive member %r has an absolute path or ".."; refusing to '
        'extract' % name)
  if not inside(name):
    raise errors.UnsafeArchiveError('archive member %r escapes the target' %
                                    name)
  if member.issym() or member.islnk():
    link = member.linkname
    base = os.path.dirname(name) if member.issym() else ''
    if os.path.isabs(link) or not inside(os.path.join(base, link)):
      raise errors.UnsafeArchiveError(
          'archive member %r links to %r, outside the target' % (name, link))
  elif not (member.isfile() or member.isdir()):
    raise errors.UnsafeArchiveError(
        'archive member %r is a device or fifo; refusing to extract' % name)


def extract_archive(archive, target_dir):
  """Extracts a tar(.gz) archive into target_dir, safely and atomically.

  Raises:
    UnsafeArchiveError: For members with absolute paths, '..', links
      pointing outside, or special files; nothing is written then.
    CheckpointError: If the file is not a tar archive.
  """
  parent = os.path.dirname(os.path.abspath(target_dir))
  os.makedirs(parent, exist_ok=True)
  work = tempfile.mkdtemp(prefix='.extract-', dir=parent)
  try:
    try:
      tar = tarfile.open(archive)
    except tarfile.TarError as e:
      raise errors.CheckpointError('%s is not a tar archive: %s' % (archive,
                                                                    e)) from None
    with tar:
      members = tar.getmembers()
      real = os.path.realpath(work)
      for member in members:
        _check_member(member, real)
      for member in members:
        tar.extract(member, work, set_attrs=False)
    if os.path.exists(target_dir):
      shutil.rmtree(target_dir)
    os.replace(work, target_dir)
  finally:
    if os.path.exists(work):
      shutil.rmtree(work)
  return target_dir


def _checkpoint_in_dir(directory):
  """The checkpoint prefix inside a directory, or None."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  latest = tf.train.latest_checkpoint(directory)
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


def _from_archive(archive, cache, checkpoint_file=None):
  name = os.path.basename(archive)
  for suffix in ('.tar.gz', '.tgz', '.tar'):
    if name.endswith(suffix):
      name = name[:-len(suffix)]
  target = os.path.join(cache, 'extracted', name)
  if not os.path.isdir(target):
    extract_archive(archive, target)
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
    checkpoint: A manifest name (downloaded, verified and extracted into the
      cache once, or the shipped checkpoint's path); an http(s)/file URL of a .tar.gz; or a local path: a
      .tar.gz, a directory holding one checkpoint (or a 'checkpoint' state
      file), or a checkpoint prefix (V1 single file or V2 index + data).
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
    archive = os.path.join(cache, 'downloads', spec.archive_name)
    if not os.path.exists(archive):
      download(spec.url, archive, spec.sha256, progress=progress)
    return _from_archive(archive, cache, spec.checkpoint_file)
  if '://' in checkpoint:
    archive = os.path.join(cache, 'downloads', checkpoint.rsplit('/', 1)[-1])
    if not os.path.exists(archive):
      download(checkpoint, archive, progress=progress)
    return _from_archive(archive, cache)
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
    return _from_archive(checkpoint, cache)
  if is_checkpoint_prefix(checkpoint):
    return checkpoint
  raise errors.CheckpointError(
      '%r is not a known checkpoint name (%s), a URL, a directory, an '
      'archive or a checkpoint prefix (no such file, and no %s.index)' % (
          checkpoint, ', '.join(specs), checkpoint))
