"""Errors that mean bad input, as opposed to a bug in slim_resnet.

The CLI prints a UserError (or a TensorFlow/OS error that means bad input) as
one line and exits 2; any other exception is a bug and keeps its traceback.
Every UserError is also a ValueError, so `except ValueError` in callers
written before these types keeps working.
"""


class UserError(ValueError):
  """Bad input: a file, flag or argument that cannot be used; says which."""


class UsageError(UserError):
  """A flag or argument value out of range, or a missing combination."""
