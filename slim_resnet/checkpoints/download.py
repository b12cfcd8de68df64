"""HTTP downloads: resume, retries, a hash check, and a rename at the end.

    download('https://host/x.tar.gz', '/cache/x.tar.gz', sha256='91a0...')

The file streams to '<dest>.part' with a tqdm bar; an interrupted transfer
resumes with an HTTP Range request (and starts over when the server ignores
Range); connection errors and time-outs are retried. The file gets its final
name only when it is complete and, when a hash is given, verified.

A '.part' is resumed only when its bytes are known to be the same file's: a
published sha256 checks the result, or else the server's validator (ETag or
Last-Modified, kept in '<dest>.part.json') goes out as If-Range, so a changed
file comes back whole. A part without either is started over. An HTTP 416
(the part reaches past the requested start) completes the download only
when its Content-Range total equals the part's size; an over-long or unsized
part is started over (with a published hash, the hash decides).
"""
import hashlib
import json
import os
import re
import time
import urllib.error
import urllib.request

import tqdm

from slim_resnet import files
from slim_resnet.checkpoints import errors

CHUNK = 1 << 20
META_SUFFIX = '.json'  # '<dest>.part.json': the part's ETag / Last-Modified.


def sha256_of(path):
  """The hex sha256 of a file, read in 1 MiB blocks."""
  digest = hashlib.sha256()
  with open(path, 'rb') as f:
    for block in iter(lambda: f.read(CHUNK), b''):
      digest.update(block)
  return digest.hexdigest()


def _read_meta(meta_path, url):
  """What was recorded when the part file was started ({} if it was another
  URL's or unreadable)."""
  try:
    with open(meta_path, encoding='utf-8') as f:
      meta = json.load(f)
  except (OSError, ValueError):
    return {}
  return meta if isinstance(meta, dict) and meta.get('url') == url else {}


def _validator(meta):
  return meta.get('etag') or meta.get('last_modified')


def _same_file(response, meta, have):
  """A 206 continues the part only if it starts where the part ends and
  (when a validator was recorded) the server's validator is the same: a
  server that ignores If-Range must not mix two versions of a file."""
  match = re.match(r'\s*bytes\s+(\d+)-', response.headers.get(
      'Content-Range', '') or '')
  if not match or int(match.group(1)) != have:
    return False
  if meta.get('etag') and response.headers.get('ETag') != meta['etag']:
    return False
  return not (meta.get('last_modified') and not meta.get('etag') and
              response.headers.get('Last-Modified') != meta['last_modified'])


def _transfer(url, part, timeout, progress, trusted):
  """Appends the rest of `url` to `part`, resuming from its current size.

  trusted: the part may be resumed without a validator (a published hash
  will check the result).
  """
  meta_path = part + META_SUFFIX
  have = os.path.getsize(part) if os.path.exists(part) else 0
  meta = _read_meta(meta_path, url) if have else {}
  validator = _validator(meta)
  if have and not (validator or trusted):
    have = 0  # Whose bytes? Nothing can tell: start over.
  request = urllib.request.Request(url)
  if have:
    request.add_header('Range', 'bytes=%d-' % have)
    if validator:
      request.add_header('If-Range', validator)
  with urllib.request.urlopen(request, timeout=timeout) as response:
    status = getattr(response, 'status', 200)
    if have and (status != 206 or not _same_file(response, meta, have)):
      if status == 206:  # A ranged answer of another version: ask again.
        _remove(part)
        _remove(meta_path)
        raise urllib.error.URLError('the server answered a range of a '
                                    'changed file; starting over')
      have = 0  # Range ignored, or the file changed (a whole new body).
    if not have:
      _remove(part)  # Before the new validator is recorded.
      files.atomic_write_text(meta_path, json.dumps({
          'url': url, 'etag': response.headers.get('ETag'),
          'last_modified': response.headers.get('Last-Modified')}))
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


def _complete_size(error):
  """The file size a 416 response gives ('Content-Range: bytes */N'), or
  None."""
  match = re.match(r'\s*bytes\s+\*/(\d+)\s*$',
                   (error.headers or {}).get('Content-Range', '') or '')
  return int(match.group(1)) if match else None


def download(url, dest, sha256=None, timeout=30, retries=3, progress=True):
  """Downloads `url` to `dest` (atomically), resuming and retrying.

  Args:
    url: http(s) or file URL.
    dest: The final file path; its folder is created.
    sha256: Expected hex digest (either case), or None to skip the check.
    timeout: Seconds without data before a try fails.
    retries: Further tries after the first (each resumes where it stopped).
    progress: Show a tqdm progress bar.

  Returns:
    The sha256 of the file now at dest.

  Raises:
    DownloadError: If every try failed; the message has the last reason.
    ChecksumError: If the hash differs (nothing is left on disk).
  """
  os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
  part = dest + '.part'
  for attempt in range(retries + 1):
    try:
      _transfer(url, part, timeout, progress, trusted=bool(sha256))
      break
    except (urllib.error.URLError, OSError, ConnectionError) as e:
      if isinstance(e, urllib.error.HTTPError) and e.code == 416:
        size = _complete_size(e)
        have = os.path.getsize(part) if os.path.exists(part) else 0
        if size == have or (size is None and sha256):
          break  # The part is the whole file (the hash, if any, below).
        _remove(part)  # Over-long, or of unknown size: start over.
        _remove(part + META_SUFFIX)
        if attempt < retries:
          continue
      if isinstance(e, urllib.error.HTTPError) and e.code in (404, 403, 410):
        _remove(part)
        _remove(part + META_SUFFIX)
        raise errors.DownloadError('cannot download %s: HTTP %d %s' % (
            url, e.code, e.reason)) from None
      if attempt == retries:
        kept = (' (the partial file %s is kept; the next try resumes it)' %
                part if os.path.exists(part) else '')
        raise errors.DownloadError('cannot download %s after %d tries: %s%s'
                                   % (url, retries + 1, e, kept)) from None
      time.sleep(min(2 ** attempt * 0.5, 8))
  found = sha256_of(part)
  if sha256 and found != sha256.lower():
    _remove(part)
    _remove(part + META_SUFFIX)
    raise errors.ChecksumError(
        'sha256 of %s is %s, expected %s; the download was deleted' % (
            url, found, sha256))
  os.replace(part, dest)
  _remove(part + META_SUFFIX)
  return found


def _remove(path):
  try:
    os.remove(path)
  except FileNotFoundError:
    pass
