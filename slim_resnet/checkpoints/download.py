"""HTTP downloads: resume, retries, a hash check, and a rename at the end.

    download('https://host/x.tar.gz', '/cache/x.tar.gz', sha256='91a0...')

The file streams to '<dest>.part' with a tqdm bar; an interrupted transfer
resumes with an HTTP Range request (and starts over when the server ignores
Range); connection errors and time-outs are retried. The file gets its final
name only when it is complete and, when a hash is given, verified.
"""
import hashlib
import os
import time
import urllib.error
import urllib.request

import tqdm

from slim_resnet.checkpoints import errors

CHUNK = 1 << 20


def sha256_of(path):
  """The hex sha256 of a file, read in 1 MiB blocks."""
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
    The sha256 of the file now at dest.

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
        kept = (' (the partial file %s is kept; the next try resumes it)' %
                part if os.path.exists(part) else '')
        raise errors.DownloadError('cannot download %s after %d tries: %s%s'
                                   % (url, retries + 1, e, kept)) from None
      time.sleep(min(2 ** attempt * 0.5, 8))
  found = sha256_of(part)
  if sha256 and found != sha256.lower():
    _remove(part)
    raise errors.ChecksumError(
        'sha256 of %s is %s, expected %s; the download was deleted' % (
            url, found, sha256))
  os.replace(part, dest)
  return found


def _remove(path):
  try:
    os.remove(path)
  except FileNotFoundError:
    pass
