"""Downloads against an HTTP server on 127.0.0.1 that this test starts."""
import hashlib
import http.server
import io
import json
import os
import tarfile
import threading

import numpy as np
import pytest
import tensorflow as tf

import ckptutil
from slim_resnet.checkpoints import archive as archive_lib
from slim_resnet.checkpoints import download as download_lib
from slim_resnet.checkpoints import errors
from slim_resnet.checkpoints import fetch
from slim_resnet.checkpoints import manifest as manifest_lib

VALUES = {'resnet_v1_50/conv1/weights': np.arange(24, dtype=np.float32
                                                  ).reshape(2, 2, 2, 3),
          'resnet_v1_50/logits/biases': np.ones(5, np.float32)}


class Server(object):
  """Serves `files` (path -> bytes) with Range support, and failure modes."""

  def __init__(self):
    self.files = {}
    self.requests = []
    self.mode = {}  # path -> 'drop_once' | 'ignore_range'
    server = self

    class Handler(http.server.BaseHTTPRequestHandler):

      def log_message(self, *args):
        pass

      def do_GET(self):  # pylint: disable=invalid-name
        server.requests.append((self.path, self.headers.get('Range')))
        data = server.files.get(self.path)
        if data is None:
          self.send_error(404)
          return
        start = 0
        ranged = self.headers.get('Range')
        mode = server.mode.get(self.path)
        etag = '"%s"' % hashlib.sha256(data).hexdigest()[:16]
        if_range = self.headers.get('If-Range')
        if if_range and if_range != etag and mode != 'ignore_if_range':
          ranged = None  # Changed since: the whole file (RFC 7233).
        if ranged and mode != 'ignore_range':
          start = int(ranged.split('=')[1].split('-')[0])
          if start >= len(data):
            self.send_response(416)
            if mode != 'no_content_range':
              self.send_header('Content-Range', 'bytes */%d' % len(data))
            self.send_header('Content-Length', '0')
            self.end_headers()
            return
          self.send_response(206)
          self.send_header('Content-Range', 'bytes %d-%d/%d' % (
              start, len(data) - 1, len(data)))
        else:
          self.send_response(200)
        if mode != 'no_validator':
          self.send_header('ETag', etag)
        body = data[start:]
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if mode == 'drop_once':
          server.mode.pop(self.path)
          self.wfile.write(body[:len(body) // 2])
          self.wfile.flush()
          self.connection.shutdown(2)
          return
        self.wfile.write(body)

    self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    self.url = 'http://127.0.0.1:%d' % self.httpd.server_address[1]
    self.thread = threading.Thread(target=self.httpd.serve_forever,
                                   daemon=True)
    self.thread.start()

  def close(self):
    self.httpd.shutdown()
    self.httpd.server_close()


def make_tar(members):
  """members: list of (tarinfo-ish kwargs, bytes or None)."""
  buffer = io.BytesIO()
  with tarfile.open(fileobj=buffer, mode='w:gz') as tar:
    for info, data in members:
      tar.addfile(info, io.BytesIO(data) if data is not None else None)
  return buffer.getvalue()


def checkpoint_tar(prefix_dir, version):
  """A .tar.gz of a checkpoint written in `version` format."""
  path = ckptutil.save(VALUES, os.path.join(prefix_dir, 'resnet_v1_50.ckpt'),
                       version)
  buffer = io.BytesIO()
  with tarfile.open(fileobj=buffer, mode='w:gz') as tar:
    for name in sorted(os.listdir(prefix_dir)):
      tar.add(os.path.join(prefix_dir, name), arcname=name)
  return path, buffer.getvalue()


@pytest.fixture(scope='module')
def server():
  s = Server()
  yield s
  s.close()


@pytest.fixture(scope='module')
def archives(tmp_path_factory):
  out = {}
  for version in (1, 2):
    out[version] = checkpoint_tar(str(tmp_path_factory.mktemp('v%d' % version)),
                                  version)
  return out


def assert_values(path):
  reader = tf.train.load_checkpoint(path)
  for name, value in VALUES.items():
    np.testing.assert_array_equal(reader.get_tensor(name), value)


def test_full_download_and_hash(server, tmp_path):
  data = os.urandom(3 << 20)
  server.files['/a.bin'] = data
  dest = str(tmp_path / 'a.bin')
  download_lib.download(server.url + '/a.bin', dest,
                    sha256=hashlib.sha256(data).hexdigest(), progress=False)
  assert open(dest, 'rb').read() == data
  assert not os.path.exists(dest + '.part')


def test_dropped_connection_resumes_with_range(server, tmp_path):
  data = os.urandom(5 << 20)
  server.files['/drop.bin'] = data
  server.mode['/drop.bin'] = 'drop_once'
  server.requests.clear()
  dest = str(tmp_path / 'drop.bin')
  download_lib.download(server.url + '/drop.bin', dest,
                    sha256=hashlib.sha256(data).hexdigest(), progress=False)
  assert open(dest, 'rb').read() == data
  ranges = [r for p, r in server.requests if p == '/drop.bin']
  assert ranges[0] is None and ranges[1] and ranges[1].startswith('bytes=')
  assert int(ranges[1][6:-1]) > 0


def test_server_ignoring_range_restarts(server, tmp_path):
  data = os.urandom(1 << 20)
  server.files['/norange.bin'] = data
  server.mode['/norange.bin'] = 'ignore_range'
  dest = str(tmp_path / 'norange.bin')
  with open(dest + '.part', 'wb') as f:
    f.write(b'stale bytes from an old try')
  download_lib.download(server.url + '/norange.bin', dest, progress=False)
  assert open(dest, 'rb').read() == data


def test_complete_part_file_is_finished_not_refetched(server, tmp_path):
  """Killed after the last byte, before the rename: the server answers 416."""
  data = os.urandom(1000)
  server.files['/whole.bin'] = data
  dest = str(tmp_path / 'whole.bin')
  with open(dest + '.part', 'wb') as f:
    f.write(data)
  server.requests.clear()
  download_lib.download(server.url + '/whole.bin', dest,
                        sha256=hashlib.sha256(data).hexdigest(),
                        progress=False)
  assert open(dest, 'rb').read() == data
  # One ranged request answered 416; nothing was downloaded again.
  assert server.requests == [('/whole.bin', 'bytes=1000-')]


def test_complete_part_file_with_wrong_bytes_is_not_moved_into_place(
    server, tmp_path):
  """A 416 says the sizes match, not the bytes: the hash still decides."""
  data = os.urandom(1000)
  server.files['/whole2.bin'] = data
  dest = str(tmp_path / 'whole2.bin')
  with open(dest + '.part', 'wb') as f:
    f.write(bytes(1000))
  with pytest.raises(errors.ChecksumError):
    download_lib.download(server.url + '/whole2.bin', dest,
                          sha256=hashlib.sha256(data).hexdigest(),
                          progress=False)
  assert os.listdir(tmp_path) == []


def test_interrupted_download_never_has_the_final_name(server, tmp_path):
  data = os.urandom(1 << 20)
  server.files['/cut.bin'] = data
  server.mode['/cut.bin'] = 'drop_once'
  dest = str(tmp_path / 'cut.bin')
  with pytest.raises(errors.DownloadError, match='partial file .*kept'):
    download_lib.download(server.url + '/cut.bin', dest, retries=0,
                          progress=False)
  assert not os.path.exists(dest)
  assert 0 < os.path.getsize(dest + '.part') < len(data)


def test_no_connection_does_not_mention_a_partial_file(tmp_path):
  import socket  # pylint: disable=g-import-not-at-top
  with socket.socket() as s:  # A port nobody listens on.
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
  with pytest.raises(errors.DownloadError) as raised:
    download_lib.download('http://127.0.0.1:%d/x.tar.gz' % port,
                          str(tmp_path / 'x.tar.gz'), retries=0,
                          progress=False)
  assert 'partial' not in str(raised.value)


def test_wrong_hash_leaves_nothing(server, tmp_path):
  server.files['/c.bin'] = b'x' * 1000
  dest = str(tmp_path / 'c.bin')
  with pytest.raises(errors.ChecksumError, match='expected 0000'):
    download_lib.download(server.url + '/c.bin', dest, sha256='0' * 64,
                      progress=False)
  assert os.listdir(tmp_path) == []


def test_missing_file_is_one_clear_error(server, tmp_path):
  with pytest.raises(errors.DownloadError, match='HTTP 404'):
    download_lib.download(server.url + '/nothing', str(tmp_path / 'n'),
                      progress=False)


@pytest.mark.parametrize('name,kind,link', [
    ('../evil', tarfile.REGTYPE, ''), ('/abs/evil', tarfile.REGTYPE, ''),
    ('link', tarfile.SYMTYPE, '../../outside'),
    ('hard', tarfile.LNKTYPE, '/etc/passwd'), ('dev', tarfile.CHRTYPE, '')])
def test_unsafe_archives_are_rejected(tmp_path, name, kind, link):
  info = tarfile.TarInfo(name)
  info.type, info.linkname = kind, link
  data = b'evil' if kind == tarfile.REGTYPE else None
  info.size = len(data) if data else 0
  safe = tarfile.TarInfo('ok.txt')
  safe.size = 2
  archive = tmp_path / 'bad.tar.gz'
  archive.write_bytes(make_tar([(safe, b'ok'), (info, data)]))
  target = tmp_path / 'out' / 'target'
  with pytest.raises(errors.UnsafeArchiveError, match=name.lstrip('/')):
    archive_lib.extract_archive(str(archive), str(target))
  assert not target.exists()
  assert os.listdir(tmp_path / 'out') == []
  assert not (tmp_path / 'evil').exists()


@pytest.mark.parametrize('version', [1, 2])
def test_fetch_url_archive_dir_and_prefix(server, archives, tmp_path, version):
  prefix, data = archives[version]
  server.files['/ckpt_v%d.tar.gz' % version] = data
  cache = str(tmp_path / 'cache')
  path = fetch.fetch_checkpoint(
      server.url + '/ckpt_v%d.tar.gz' % version, cache=cache, progress=False)
  assert_values(path)
  local = tmp_path / 'local.tar.gz'
  local.write_bytes(data)
  assert_values(fetch.fetch_checkpoint(str(local), cache=cache))
  assert_values(fetch.fetch_checkpoint(os.path.dirname(prefix)))
  assert fetch.fetch_checkpoint(prefix) == prefix
  if version == 2:
    assert fetch.fetch_checkpoint(prefix + '.index') == prefix


def test_fetch_by_manifest_name_with_cache(server, archives, tmp_path,
                                           monkeypatch):
  _, data = archives[1]
  server.files['/resnet_v1_50_2016_08_28.tar.gz'] = data
  spec = manifest_lib.get_spec('resnet_v1_50')
  local = dict(manifest_lib.load_manifest())
  import dataclasses  # pylint: disable=g-import-not-at-top
  local['resnet_v1_50'] = dataclasses.replace(
      spec, url=server.url + '/resnet_v1_50_2016_08_28.tar.gz',
      sha256=hashlib.sha256(data).hexdigest())
  monkeypatch.setattr(manifest_lib, 'load_manifest', lambda path=None: local)
  monkeypatch.setenv('SLIM_RESNET_HOME', str(tmp_path / 'home'))
  server.requests.clear()
  path = fetch.fetch_checkpoint('resnet_v1_50', progress=False)
  assert path.startswith(str(tmp_path / 'home'))
  assert path.endswith('resnet_v1_50.ckpt')
  assert_values(path)
  assert fetch.fetch_checkpoint('resnet_v1_50', progress=False) == path
  assert len(server.requests) == 1


def _manifest_entry(monkeypatch, url, sha256):
  """Makes the manifest's resnet_v1_50 point at url with sha256."""
  import dataclasses  # pylint: disable=g-import-not-at-top
  local = dict(manifest_lib.load_manifest())
  local['resnet_v1_50'] = dataclasses.replace(
      local['resnet_v1_50'], url=url, sha256=sha256)
  monkeypatch.setattr(manifest_lib, 'load_manifest', lambda path=None: local)


def test_fetch_by_manifest_name_checks_the_manifest_hash(
    server, archives, tmp_path, monkeypatch):
  _, data = archives[1]
  server.files['/bad/resnet_v1_50.tar.gz'] = data
  _manifest_entry(monkeypatch, server.url + '/bad/resnet_v1_50.tar.gz',
                  '0' * 64)
  with pytest.raises(errors.ChecksumError, match='expected 0000'):
    fetch.fetch_checkpoint('resnet_v1_50', cache=str(tmp_path), progress=False)


def _flip_byte(path, offset):
  with open(path, 'r+b') as f:
    f.seek(offset)
    byte = f.read(1)
    f.seek(offset)
    f.write(bytes([byte[0] ^ 0xFF]))


@pytest.mark.parametrize('published', [True, False])
def test_corrupt_cached_archive_is_downloaded_again(
    server, archives, tmp_path, monkeypatch, capsys, published):
  _, data = archives[2]
  url = server.url + '/flip%d/model.tar.gz' % published
  server.files[url[len(server.url):]] = data
  _manifest_entry(monkeypatch, url,
                  hashlib.sha256(data).hexdigest() if published else None)
  cache = str(tmp_path)
  server.requests.clear()
  path = fetch.fetch_checkpoint('resnet_v1_50', cache=cache, progress=False)
  said = capsys.readouterr().err
  assert ('no published sha256' in said) != published
  assert fetch.fetch_checkpoint('resnet_v1_50', cache=cache,
                                progress=False) == path
  assert 'sha256' not in capsys.readouterr().err  # Said once.
  assert len(server.requests) == 1
  cached = archive_lib.archive_path(url, cache)
  _flip_byte(cached, len(data) // 2)
  assert_values(fetch.fetch_checkpoint('resnet_v1_50', cache=cache,
                                       progress=False))
  assert 'does not match' in capsys.readouterr().err
  assert len(server.requests) == 2
  assert open(cached, 'rb').read() == data


def test_same_file_name_from_two_urls_are_two_checkpoints(server, tmp_path):
  tars = []
  for i in range(2):
    values = {'resnet_v1_50/logits/biases': np.full(3, i, np.float32)}
    folder = tmp_path / ('src%d' % i)
    ckptutil.save(values, str(folder / 'model.ckpt'), 2)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode='w:gz') as tar:
      for name in sorted(os.listdir(folder)):
        tar.add(str(folder / name), arcname=name)
    server.files['/site%d/ckpt.tar.gz' % i] = buffer.getvalue()
  cache = str(tmp_path / 'cache')
  for i in range(2):
    path = fetch.fetch_checkpoint(server.url + '/site%d/ckpt.tar.gz' % i,
                                  cache=cache, progress=False)
    got = tf.train.load_checkpoint(path).get_tensor(
        'resnet_v1_50/logits/biases')
    np.testing.assert_array_equal(got, np.full(3, i, np.float32))


def test_truncated_extracted_data_file_is_extracted_again(
    server, archives, tmp_path, capsys):
  _, data = archives[2]
  server.files['/trunc.tar.gz'] = data
  cache = str(tmp_path)
  url = server.url + '/trunc.tar.gz'
  path = fetch.fetch_checkpoint(url, cache=cache, progress=False)
  data_file = [f for f in os.listdir(os.path.dirname(path))
               if '.data-' in f][0]
  data_path = os.path.join(os.path.dirname(path), data_file)
  with open(data_path, 'r+b') as f:
    f.truncate(os.path.getsize(data_path) // 2)
  assert_values(fetch.fetch_checkpoint(url, cache=cache, progress=False))
  assert '%s has' % data_file in capsys.readouterr().err
  _flip_byte(data_path, 3)  # Same size, other bytes: hashed again.
  assert_values(fetch.fetch_checkpoint(url, cache=cache, progress=False))
  assert '%s was modified' % data_file in capsys.readouterr().err


def test_not_a_checkpoint(tmp_path):
  with pytest.raises(errors.CheckpointError, match='not a known checkpoint '
                     'name.*resnet_v1_50'):
    fetch.fetch_checkpoint(str(tmp_path / 'nope.ckpt'))
  (tmp_path / 'empty').mkdir()
  with pytest.raises(errors.CheckpointError, match='no checkpoint in directory'):
    fetch.fetch_checkpoint(str(tmp_path / 'empty'))


def test_an_archives_state_file_naming_another_folder_resolves_inside(
    tmp_path):
  # Saver.save writes absolute paths into 'checkpoint'. An archive of a
  # training directory names the directory it was made from, which may exist
  # here with other values: the extracted checkpoint must be the archive's.
  local = tmp_path / 'train'
  ckptutil.save({'w': np.full([2], 1.0, np.float32)}, str(local / 'model.ckpt-5'))
  packed = tmp_path / 'packed'
  ckptutil.save({'w': np.full([2], 2.0, np.float32)},
                str(packed / 'model.ckpt-5'))
  with open(str(packed / 'checkpoint'), 'w') as f:
    f.write('model_checkpoint_path: "%s"\n' % (local / 'model.ckpt-5'))
  archive = tmp_path / 'train.tar.gz'
  with tarfile.open(str(archive), 'w:gz') as tar:
    for name in os.listdir(str(packed)):
      tar.add(str(packed / name), arcname=name)
  for source in (str(archive), str(packed)):  # Unpacked, or moved/copied.
    path = fetch.fetch_checkpoint(source, cache=str(tmp_path / 'cache'))
    assert not path.startswith(str(local)), path
    assert tf.train.load_checkpoint(path).get_tensor('w').tolist() == [2, 2]


# A .part is trusted only as far as something can check it (issue 26 item 4).

def _part(dest, data, etag_of=None, url=None):
  """A .part file, and its .part.json as download wrote it for `url` when
  the server's ETag was that of `etag_of`."""
  with open(dest + '.part', 'wb') as f:
    f.write(data)
  if etag_of is not None:
    with open(dest + '.part.json', 'w') as f:
      json.dump({'url': url, 'etag': '"%s"' % hashlib.sha256(
          etag_of).hexdigest()[:16], 'last_modified': None}, f)


@pytest.mark.parametrize('mode', [None, 'no_content_range'])
def test_over_long_part_without_a_hash_is_started_over(server, tmp_path, mode):
  data = os.urandom(1000)
  server.files['/long.bin'] = data
  if mode:
    server.mode['/long.bin'] = mode
  dest = str(tmp_path / 'long.bin')
  _part(dest, data + b'stale tail', etag_of=data,
        url=server.url + '/long.bin')  # 416: "at least as long".
  download_lib.download(server.url + '/long.bin', dest, progress=False)
  assert open(dest, 'rb').read() == data
  assert sorted(os.listdir(str(tmp_path))) == ['long.bin']
  server.mode.pop('/long.bin', None)


def test_part_of_a_changed_file_comes_back_whole(server, tmp_path):
  old, new = os.urandom(600), os.urandom(1000)
  server.files['/changed.bin'] = new
  dest = str(tmp_path / 'changed.bin')
  _part(dest, old, etag_of=old, url=server.url + '/changed.bin')  # If-Range
  server.requests.clear()
  download_lib.download(server.url + '/changed.bin', dest, progress=False)
  assert open(dest, 'rb').read() == new
  assert server.requests == [('/changed.bin', 'bytes=600-')]


def test_part_without_validator_or_hash_is_not_resumed(server, tmp_path):
  old, new = os.urandom(600), os.urandom(1000)
  server.files['/novalidator.bin'] = new
  server.mode['/novalidator.bin'] = 'no_validator'
  dest = str(tmp_path / 'novalidator.bin')
  _part(dest, old)
  server.requests.clear()
  download_lib.download(server.url + '/novalidator.bin', dest, progress=False)
  assert open(dest, 'rb').read() == new
  assert server.requests == [('/novalidator.bin', None)]


def test_same_file_resumes_with_its_validator(server, tmp_path):
  data = os.urandom(1000)
  server.files['/same.bin'] = data
  dest = str(tmp_path / 'same.bin')
  _part(dest, data[:400], etag_of=data, url=server.url + '/same.bin')
  server.requests.clear()
  download_lib.download(server.url + '/same.bin', dest, progress=False)
  assert open(dest, 'rb').read() == data
  assert server.requests == [('/same.bin', 'bytes=400-')]


def test_published_hash_in_upper_case_is_the_same_hash(server, tmp_path):
  data = os.urandom(1000)
  server.files['/upper.bin'] = data
  digest = hashlib.sha256(data).hexdigest().upper()
  dest = str(tmp_path / 'upper.bin')
  assert download_lib.download(server.url + '/upper.bin', dest, sha256=digest,
                               progress=False) == digest.lower()
  cache = str(tmp_path / 'cache')
  for _ in range(2):  # Downloaded, then found in the cache.
    path, found = archive_lib.cached_download(server.url + '/upper.bin', cache,
                                              sha256=digest, progress=False)
    assert found == digest.lower() and open(path, 'rb').read() == data


def test_a_server_ignoring_if_range_does_not_mix_two_files(server, tmp_path):
  """Review of issue 26: any 206 was appended, so a server that honours
  Range but not If-Range joined the old half to the new one."""
  old, new = os.urandom(600), os.urandom(1000)
  server.files['/ifrange.bin'] = new
  server.mode['/ifrange.bin'] = 'ignore_if_range'
  dest = str(tmp_path / 'ifrange.bin')
  _part(dest, old, etag_of=old, url=server.url + '/ifrange.bin')
  download_lib.download(server.url + '/ifrange.bin', dest, progress=False)
  assert open(dest, 'rb').read() == new
  assert sorted(os.listdir(str(tmp_path))) == ['ifrange.bin']
  server.mode.pop('/ifrange.bin')


def test_nothing_is_left_after_a_404(server, tmp_path):
  dest = str(tmp_path / 'gone.bin')
  _part(dest, b'x' * 10, etag_of=b'x', url=server.url + '/gone.bin')
  with pytest.raises(errors.DownloadError, match='404'):
    download_lib.download(server.url + '/gone.bin', dest, progress=False)
  assert os.listdir(str(tmp_path)) == []
