"""Files written whole or not at all: a temporary name, then a rename."""
import os


def atomic_write(path, write):
  """Calls write(file) on `path.tmp` (binary), syncs it, renames it to path.

  If write (or the rename) fails, `path.tmp` is removed and `path` is as it
  was (absent, or the old file).
  """
  tmp = path + '.tmp'
  try:
    with open(tmp, 'wb') as f:
      write(f)
      f.flush()
      os.fsync(f.fileno())
    os.replace(tmp, path)
  except BaseException:
    if os.path.exists(tmp):
      os.remove(tmp)
    raise


def atomic_write_text(path, text):
  """Writes a str to path (UTF-8) through atomic_write."""
  atomic_write(path, lambda f: f.write(text.encode('utf-8')))
