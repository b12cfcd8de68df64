"""TensorFlow's start-up lines off the command line's stderr.

    set_log_levels(verbose=False)       # before TensorFlow is imported
    with filtered_stderr(enabled=True):
      ...                               # TF's C++ start-up lines dropped

TF_CPP_MIN_LOG_LEVEL=2 hides C++ INFO and WARNING logging, but some lines are
written before TensorFlow's logging is set up (absl's "All log messages before
absl::InitializeLog() is called are written to STDERR", the oneDNN notice,
CUDA probing such as "failed call to cuInit" or "Could not find cuda
drivers"); those are dropped at the file descriptor (fd 2), where C++ writes
them. Used by the CLI only: importing the library changes nothing.
"""
import contextlib
import os
import re
import select
import sys
import threading

# Start-up lines of TensorFlow (and absl, XLA, CUDA stubs) that say nothing
# about the user's command.
STARTUP_LINES = re.compile(
    r'All log messages before absl::InitializeLog\(\)|'
    r'oneDNN custom operations are on|TF_ENABLE_ONEDNN_OPTS|'
    r'cuInit|Could not find cuda drivers|GPU will not be used|'
    r'cuda_(executor|diagnostics|driver|dnn|fft|blas)\.cc|cudart_stub\.cc|'
    r'Unable to register cu(DNN|FFT|BLAS) factory|'
    r'computation placer already registered|'
    r'This TensorFlow binary is optimized|cpu_feature_guard\.cc|'
    r'rebuild TensorFlow with the appropriate compiler flags|'
    r'To enable the following instructions|'
    r'TensorFlow was not built with CUDA kernel binaries|'
    r'Cannot dlopen some GPU libraries|Skipping registering GPU devices|'
    r'port\.cc:\d+\] oneDNN|NUMA node|'
    # Apache Beam's worker processes (extract --beam), as they start.
    r'apitools not found|Logging handler created|'
    r'No semi_persistent_directory found|Discarding unparseable args|'
    r'Python sdk harness (starting|exiting)|'
    r'Status HTTP server running at')


def set_log_levels(verbose=False):
  """Log levels for TensorFlow's C++ and absl, unless the user set them."""
  if verbose:
    return
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
  os.environ.setdefault('GRPC_VERBOSITY', 'ERROR')
  os.environ.setdefault('GLOG_minloglevel', '2')


@contextlib.contextmanager
def filtered_stderr(enabled=True, pattern=STARTUP_LINES):
  """Drops lines matching `pattern` written to fd 2 inside the block.

  Everything else goes through unchanged (Python's sys.stderr writes to fd 2
  too); a partial line (a progress bar's '\\r' update) is passed on after
  0.1 s without more output.
  """
  if not enabled:
    yield
    return
  try:
    sys.stderr.flush()
    saved = os.dup(2)
  except (OSError, ValueError, AttributeError):  # No real fd 2 (embedded).
    yield
    return
  read_end, write_end = os.pipe()
  os.dup2(write_end, 2)
  os.close(write_end)
  thread = threading.Thread(target=_pump, args=(read_end, saved, pattern),
                            daemon=True)
  thread.start()
  try:
    yield
  finally:
    try:
      sys.stderr.flush()
    except (OSError, ValueError):
      pass
    os.dup2(saved, 2)  # Closes the pipe's last write end: the pump ends.
    thread.join(timeout=5)
    os.close(saved)


def _pump(read_end, out, pattern):
  pending = b''

  def emit(chunk):
    if not pattern.search(chunk.decode('utf-8', 'replace')):
      os.write(out, chunk)

  with os.fdopen(read_end, 'rb', buffering=0) as pipe:
    while True:
      ready, _, _ = select.select([pipe], [], [], 0.1)
      if not ready:
        if pending:
          emit(pending)
          pending = b''
        continue
      data = pipe.read(65536)
      if not data:
        break
      pending += data
      while True:
        ends = [i for i in (pending.find(b'\n'), pending.find(b'\r'))
                if i >= 0]
        if not ends:
          break
        end = min(ends) + 1
        emit(pending[:end])
        pending = pending[end:]
  if pending:
    emit(pending)
