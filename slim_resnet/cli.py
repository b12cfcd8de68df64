"""`slim-resnet <command>`: argument parsing only; the work is in the library.

    slim-resnet summary resnet_v1_50
    slim-resnet <command> --help

Parsing imports no TensorFlow (the command modules import it in run()), so
--help is instant and a bad flag fails before TensorFlow loads. TensorFlow's
start-up lines (oneDNN notice, CUDA probing, absl's pre-init warning) are
hidden unless --verbose is given.
"""
import argparse
import importlib
import os
import sys
import traceback

from slim_resnet import errors
from slim_resnet.commands import quiet

# name -> module under slim_resnet.commands, imported only when chosen.
COMMANDS = ('summary', 'classify', 'extract', 'ckpt', 'data', 'train', 'eval',
            'export', 'convert', 'run')


class _Parser(argparse.ArgumentParser):
  """An ArgumentParser whose errors are one line (no usage block)."""

  command = None  # Set by main(): where `unrecognized arguments` belong.

  def error(self, message):
    prog = self.prog
    if message.startswith('unrecognized arguments') and self.command:
      prog = '%s %s' % (self.prog, self.command)
    self.exit(2, '%s: error: %s (see %s --help)\n' % (prog, message, prog))


def build_parser():
  parser = _Parser(
      prog='slim-resnet',
      description="TF-Slim's ResNets on current TensorFlow.")
  parser.add_argument('--verbose', action='store_true',
                      help="show TensorFlow's start-up and info lines")
  subparsers = parser.add_subparsers(dest='command', metavar='command')
  subparsers.required = True
  for name in COMMANDS:
    module = importlib.import_module('slim_resnet.commands.' + name)
    sub = subparsers.add_parser(name, help=module.HELP,
                                description=module.__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    module.add_arguments(sub)
    sub.add_argument('--verbose', action='store_true', default=argparse.SUPPRESS,
                     help="show TensorFlow's start-up and info lines")
    sub.set_defaults(run=module.run)
  return parser


def _is_user_error(e):
  """True for an exception that means bad input (a file or flag), not a bug."""
  if isinstance(e, errors.UserError):
    return True
  if isinstance(e, (FileNotFoundError, PermissionError, IsADirectoryError,
                    NotADirectoryError)):
    return True
  tf_errors = sys.modules.get('tensorflow.python.framework.errors_impl')
  return tf_errors is not None and isinstance(e, (
      tf_errors.NotFoundError, tf_errors.DataLossError,
      tf_errors.PermissionDeniedError))


# What Ctrl-C leaves for each command that can be continued.
_RESUME = {
    'extract': '; run the same command with --resume to continue',
    'train': '; run the same command again to continue from the last '
             'checkpoint',
}


def _is_out_of_memory(e):
  tf_errors = sys.modules.get('tensorflow.python.framework.errors_impl')
  return isinstance(e, MemoryError) or (
      tf_errors is not None and isinstance(e, tf_errors.ResourceExhaustedError))


def _check_batch_size(args):
  """Fails before any work when --batch-size images alone (float32, at least
  32x32, or --image-size) would not fit in this machine's memory."""
  batch = getattr(args, 'batch_size', None)
  if not batch or getattr(args, 'output_file', None):
    return  # (export --output_file only writes a GraphDef.)
  size = getattr(args, 'image_size', None) or 32
  need = batch * size * size * 3 * 4
  try:
    have = os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES')
  except (ValueError, OSError, AttributeError):
    return
  if need > have:
    raise errors.UsageError(
        '--batch-size %d needs at least %.0f GB for its input images alone '
        '(%dx%d float32) and this machine has %.0f GB; use a batch of a few '
        'hundred at most' % (batch, need / 1e9, size, size, have / 1e9))


def _one_line(e):
  """The message of a user error, on one line."""
  message = getattr(e, 'message', None) or (e.args[0] if e.args else '')
  if isinstance(e, OSError) and getattr(e, 'filename', None):
    message = '%s: %s' % (e.filename, e.strerror or message)
  tf_errors = sys.modules.get('tensorflow.python.framework.errors_impl')
  if tf_errors is not None and isinstance(e, tf_errors.OpError):
    return errors.tf_error_reason(str(message))
  lines = [l.strip() for l in str(message).splitlines() if l.strip()]
  return lines[0] if len(lines) == 1 else ' '.join(lines)


def _summary_and_report(e):
  """(one summary line, the report's lines) of a user error.

  A checkpoint mismatch carries a report (missing / unexpected variables,
  each list already capped with a count): its first line and first likely
  fix make the summary, and the report follows, indented. Any other error
  is one line.
  """
  if getattr(e, 'report', None) is None:
    return _one_line(e), []
  lines = [l.rstrip() for l in str(e).splitlines() if l.strip()]
  summary = lines[0]
  fixes = [l.strip()[2:] for l in lines if l.strip().startswith('- ')]
  if fixes:
    summary += '; likely fix: ' + fixes[0]
  return summary, lines[1:]


def main(argv=None):
  """Runs one command; returns its exit code.

  0: all done; 1: done, with skipped inputs (listed); 2: bad input (one line
  on stderr; with --debug or SLIM_RESNET_DEBUG=1 also the traceback);
  3: a bug in slim_resnet (its traceback, and a line saying so).
  `run` is the exception: everything after it is the script's, and so are
  its output and exit code (slim_resnet.commands.run).
  """
  argv = list(sys.argv[1:] if argv is None else argv)
  command = next((a for a in argv if not a.startswith('-')), None)
  if command == 'run':
    # The user's program: no parsing, no error boundary, no filtered output.
    from slim_resnet.commands import run  # pylint: disable=g-import-not-at-top
    return run.main(argv[argv.index('run') + 1:])
  debug = os.environ.get('SLIM_RESNET_DEBUG', '') not in ('', '0')
  if '--debug' in argv:
    argv.remove('--debug')
    debug = True
  parser = build_parser()
  parser.command = command if command in COMMANDS else None
  args, unknown = parser.parse_known_args(argv)
  if unknown and getattr(args, 'beam', False):
    args.pipeline_args = unknown  # extract --beam: Beam's pipeline options.
  elif unknown:
    parser.error('unrecognized arguments: %s' % ' '.join(unknown))
  verbose = getattr(args, 'verbose', False)
  quiet.set_log_levels(verbose)  # Before TF loads.
  with quiet.filtered_stderr(enabled=not verbose):
    return _run(args, debug)


def _run(args, debug):
  try:
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    tf.get_logger().setLevel('INFO' if getattr(args, 'verbose', False) else
                             'ERROR')
    _check_batch_size(args)
    return args.run(args) or 0
  except KeyboardInterrupt:
    print('slim-resnet %s: interrupted%s' % (args.command, _RESUME.get(
        args.command, '')), file=sys.stderr)
    return 130
  except BrokenPipeError:
    # The reader of stdout went away (`classify ... | head`): stop quietly,
    # as other tools do, with the shell's code for SIGPIPE.
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 141
  except Exception as e:  # pylint: disable=broad-except
    if _is_out_of_memory(e):
      e = errors.UserError(
          'out of memory (%s)%s' % (_one_line(e)[:200],
                                     '; lower --batch-size (%d)' % (
                                         args.batch_size)
                                     if getattr(args, 'batch_size', None)
                                     else ''))
    if not _is_user_error(e):
      traceback.print_exc()
      print('slim-resnet %s: internal error (a bug in slim_resnet, not in '
            'your input): %s: %s' % (args.command, type(e).__name__, e),
            file=sys.stderr)
      return 3
    if debug:
      traceback.print_exc()
    summary, details = _summary_and_report(e)
    print('slim-resnet %s: error: %s' % (args.command, summary),
          file=sys.stderr)
    for line in details:
      print('  ' + line, file=sys.stderr)
    return 2


if __name__ == '__main__':
  sys.exit(main())
