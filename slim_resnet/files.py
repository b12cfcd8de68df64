"""Files written whole or not at all: a temporary name, then a rename."""
import os


def atomic_write(path, write):
  """Calls write(file) on `path.tmp` (binary), syncs it, renames it to path."""
  tmp = path + '.tmp'
  with open(tmp, 'wb') as f:
    write(f)
    f.flush()
    os.fsync(f.fileno())
  os.replace(tmp, path)


def atomic_write_text(path, text):
  """Writes a str to path (UTF-8) through atomic_write."""
  atomic_write(path, lambda f: f.write(text.encode('utf-8')))
