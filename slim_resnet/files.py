"""Files and directories written whole or not at all: a temporary name,
then a rename."""
import os
import shutil
import uuid


def atomic_write(path, write):
  """Calls write(file) on a temporary file beside path (binary), syncs it,
  renames it to path.

  The temporary name is `path.tmp-<pid>-<random>`, its own for each call, so
  writers of the same path (a Beam shard written by two attempts at once)
  never share one. If write (or the rename) fails, it is removed and `path`
  is as it was (absent, or the old file).
  """
  def write_file(tmp):
    with open(tmp, 'wb') as f:
      write(f)
  atomic_write_path(path, write_file)


def atomic_write_path(path, write_to):
  """Calls write_to(temporary path) for a writer that opens the file itself
  (e.g. tf.io.TFRecordWriter), syncs the file, renames it to path; on
  failure removes it and leaves `path` as it was (atomic_write's rules)."""
  tmp = '%s.tmp-%d-%s' % (path, os.getpid(), uuid.uuid4().hex[:12])
  try:
    write_to(tmp)
    descriptor = os.open(tmp, os.O_RDONLY)
    try:
      os.fsync(descriptor)
    finally:
      os.close(descriptor)
    os.replace(tmp, path)
  except BaseException:
    if os.path.exists(tmp):
      os.remove(tmp)
    raise


def atomic_write_text(path, text):
  """Writes a str to path (UTF-8) through atomic_write."""
  atomic_write(path, lambda f: f.write(text.encode('utf-8')))


def directory_mode():
  """0777 less the umask: what os.makedirs would give."""
  umask = os.umask(0)
  os.umask(umask)
  return 0o777 & ~umask


def recover_replaced_directory(path):
  """Finishes a swap that replace_directory did not: a crash between its two
  renames leaves only path.old (renamed back), one after them leaves both
  (the .old is removed)."""
  old = path + '.old'
  if os.path.isdir(old):
    if os.path.exists(path):
      shutil.rmtree(old)
    else:
      os.rename(old, path)


def replace_directory(work, path):
  """Swaps the directory work in as path by renames; the old path is kept
  (as path.old) until the new one is in place, put back if that fails, and
  recovered by the next call (or recover_replaced_directory) if the process
  died in between."""
  recover_replaced_directory(path)
  old = None
  if os.path.exists(path):
    old = path + '.old'
    os.rename(path, old)
  try:
    os.rename(work, path)
  except BaseException:
    if old:
      os.rename(old, path)
    raise
  if old:
    shutil.rmtree(old, ignore_errors=True)
