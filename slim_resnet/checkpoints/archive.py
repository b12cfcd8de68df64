"""The download cache: archives keyed by URL, verified extractions.

    archive = cached_download(url, cache, sha256='91a0...')   # (path, sha256)
    folder = cached_extraction(archive, cache)

Layout under the cache folder (fetch.cache_dir()):

    downloads/<key>/<file>            the archive; key = sha256(URL)[:16]
    downloads/<key>/<file>.json       its marker: URL, sha256, size, mtime
    extracted/<key>/...               its extraction; key = archive sha256[:16]
    extracted/<key>.json              the archive sha256 it was made from, and
                                      each file's size, mtime and sha256

Two archives with the same file name from two URLs never share an entry, and
an extraction is named by the hash of the archive it came from. Every fetch
checks both against their markers: a file whose size or mtime changed is
hashed again, and a mismatch is downloaded or extracted again (and said),
never used. An unchanged entry costs a few stat calls, so a second fetch is
fast. Where no published hash exists, the first download's hash is recorded
(and said once) and later fetches are verified against it.

Extraction is safe: members are checked before anything is written (no
absolute paths, no '..', no links out, no device files) and land in a
temporary folder that is renamed into place.
"""
import hashlib
import json
import os
import shutil
import tarfile
import tempfile

from slim_resnet import files
from slim_resnet import notices
from slim_resnet.checkpoints import download as download_lib
from slim_resnet.checkpoints import errors

MARKER_SUFFIX = '.json'


def url_key(url):
  """The cache key of a URL: the first 16 hex digits of its sha256."""
  return hashlib.sha256(url.encode('utf-8')).hexdigest()[:16]


def archive_path(url, cache):
  """Where the archive downloaded from `url` is cached."""
  name = url.rstrip('/').rsplit('/', 1)[-1] or 'archive'
  return os.path.join(cache, 'downloads', url_key(url), name)


def _stat(path):
  st = os.stat(path)
  return [st.st_size, st.st_mtime_ns]


def _read_marker(path):
  try:
    with open(path, encoding='utf-8') as f:
      return json.load(f)
  except (OSError, ValueError):
    return None


def _write_marker(path, value):
  files.atomic_write_text(path, json.dumps(value, indent=1, sort_keys=True))


def _remove(*paths):
  for path in paths:
    if os.path.isdir(path):
      shutil.rmtree(path)
    elif os.path.exists(path):
      os.remove(path)


def file_sha256(path, marker=None):
  """The sha256 of `path`: the marker's when size and mtime still match."""
  if marker and marker.get('stat') == _stat(path) and marker.get('sha256'):
    return marker['sha256']
  return download_lib.sha256_of(path)


def cached_download(url, cache, sha256=None, progress=True):
  """The cached, verified archive of `url`, downloaded when needed.

  Args:
    url: The archive's URL.
    cache: The cache folder.
    sha256: The published hash, or None: then the hash of the first
      download is recorded and later fetches must match it.
    progress: Show a download progress bar.

  Returns:
    (path, sha256) of the archive in the cache.

  Raises:
    DownloadError, ChecksumError: As download.download (a fresh download
      with the wrong hash is deleted).
  """
  path = archive_path(url, cache)
  marker_path = path + MARKER_SUFFIX
  if os.path.isfile(path):
    marker = _read_marker(marker_path)
    expected = (sha256 or (marker or {}).get('sha256') or '').lower()
    found = file_sha256(path, marker)
    if expected and found == expected:
      if not marker or marker.get('stat') != _stat(path):
        _write_marker(marker_path, _archive_marker(url, path, found, sha256))
      return path, found
    notices.say('the cached %s does not match its %s sha256 (%s, found %s); '
                'downloading it again' % (
                    path, 'published' if sha256 else 'recorded',
                    expected or 'none', found))
    _remove(path, marker_path)
  found = download_lib.download(url, path, sha256, progress=progress)
  if not sha256:
    notices.say('%s has no published sha256; recorded the sha256 of this '
                'first download (%s) and will verify the cached copy against '
                'it' % (url, found))
  _write_marker(marker_path, _archive_marker(url, path, found, sha256))
  return path, found


def _archive_marker(url, path, digest, published):
  return {'url': url, 'sha256': digest, 'stat': _stat(path),
          'published': bool(published)}


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
    except (tarfile.TarError, EOFError, OSError) as e:
      raise errors.CheckpointError('%s is not a readable tar archive: %s' % (
          archive, e)) from None
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


def _listing(folder):
  """{relative path: [size, mtime_ns]} of the files below folder."""
  out = {}
  for root, _, names in os.walk(folder):
    for name in names:
      path = os.path.join(root, name)
      out[os.path.relpath(path, folder)] = _stat(path)
  return out


def _extraction_problem(folder, marker, archive_sha256):
  """Why an extraction cannot be used as it is, or None."""
  if not os.path.isdir(folder):
    return None if marker is None else 'its folder is missing'
  if not marker:
    return 'it has no verified marker'
  if marker.get('archive_sha256') != archive_sha256:
    return 'it was made from another archive'
  recorded = marker.get('files', {})
  listing = _listing(folder)
  if set(listing) != set(recorded):
    return 'its files differ from the archive\'s (%s)' % ', '.join(
        sorted(set(listing) ^ set(recorded))[:3])
  for name, stat in listing.items():
    size, mtime, digest = recorded[name]
    if stat == [size, mtime]:
      continue
    if stat[0] != size:
      return '%s has %d bytes, expected %d' % (name, stat[0], size)
    if download_lib.sha256_of(os.path.join(folder, name)) != digest:
      return '%s was modified' % name
  return None


def cached_extraction(archive, cache, archive_sha256=None):
  """The verified extraction of `archive` in the cache, made when needed.

  Args:
    archive: A tar(.gz) file.
    cache: The cache folder.
    archive_sha256: The archive's (already verified) sha256; computed when
      None.

  Returns:
    The folder holding the archive's files.

  Raises:
    UnsafeArchiveError, CheckpointError: As extract_archive.
  """
  digest = archive_sha256 or download_lib.sha256_of(archive)
  folder = os.path.join(cache, 'extracted', digest[:16])
  marker_path = folder + MARKER_SUFFIX
  marker = _read_marker(marker_path)
  problem = _extraction_problem(folder, marker, digest)
  if os.path.isdir(folder) and not problem:
    return folder
  if problem and os.path.isdir(folder):
    notices.say('the extracted copy %s cannot be used (%s); extracting %s '
                'again' % (folder, problem, archive))
  _remove(marker_path)
  extract_archive(archive, folder)
  listing = _listing(folder)
  _write_marker(marker_path, {
      'archive_sha256': digest, 'archive': os.path.abspath(archive),
      'files': {name: stat + [download_lib.sha256_of(
          os.path.join(folder, name))] for name, stat in listing.items()}})
  return folder
