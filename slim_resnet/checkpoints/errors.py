"""One family of errors for everything about checkpoints."""
from slim_resnet import errors as _errors


class CheckpointError(_errors.UserError):
  """Base class: a checkpoint that cannot be found, fetched, read or used."""


class ManifestError(CheckpointError):
  """checkpoints/manifest.json is malformed, or names no such checkpoint."""


class DownloadError(CheckpointError):
  """A download failed after its retries."""


class ChecksumError(CheckpointError):
  """A downloaded file's sha256 is not the manifest's (the file is deleted)."""


class UnsafeArchiveError(CheckpointError):
  """An archive member would land outside the target directory."""


class CheckpointMismatchError(CheckpointError):
  """The graph's variables and the checkpoint's do not match.

  Attributes:
    report: The report.MismatchReport behind the message.
  """

  def __init__(self, message, report=None):
    super().__init__(message)
    self.report = report
