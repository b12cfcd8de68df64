"""Errors that mean bad input, as opposed to a bug in slim_resnet.

The CLI prints a UserError (or a TensorFlow/OS error that means bad input) as
one line and exits 2; any other exception is a bug and keeps its traceback.
Every UserError is also a ValueError, so `except ValueError` in callers
written before these types keeps working.
"""
import re


class UserError(ValueError):
  """Bad input: a file, flag or argument that cannot be used; says which."""


class UsageError(UserError):
  """A flag or argument value out of range, or a missing combination."""


def tf_error_reason(message):
  """The line of a TensorFlow error message that says what went wrong,
  without the 'Graph execution error:' header, 'Detected at node ... defined
  at' and its indented stack, the tf.data iterator path and [[node]] lines."""
  lines = [l.strip() for l in message.splitlines()
           if l.strip() and not l[:1].isspace() and
           not l.startswith(('[[', 'Graph execution error:', 'Detected at node',
                             'Original stack trace', 'Hint:'))]
  line = lines[0] if lines else message.strip()
  return re.sub(r'^Error in user-defined function .*? with iterator: '
                r'[\w:]+: ', '', line)
