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
import sys

from slim_resnet import quiet

# name -> module under slim_resnet.commands, imported only when chosen.
COMMANDS = ('summary', 'classify', 'extract', 'ckpt', 'data', 'train', 'eval',
            'export', 'convert')


def build_parser():
  parser = argparse.ArgumentParser(
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


def main(argv=None):
  """Runs one command; returns its exit code (2 for a user error)."""
  args = build_parser().parse_args(argv)
  verbose = getattr(args, 'verbose', False)
  quiet.set_log_levels(verbose)  # Before TF loads.
  with quiet.filtered_stderr(enabled=not verbose):
    return _run(args)


def _run(args):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  tf.get_logger().setLevel('INFO' if getattr(args, 'verbose', False) else
                           'ERROR')
  from slim_resnet.checkpoints import errors  # pylint: disable=g-import-not-at-top
  try:
    return args.run(args) or 0
  except (errors.CheckpointError, ValueError, KeyError, FileNotFoundError,
          OSError) as e:
    message = e.args[0] if isinstance(e, KeyError) and e.args else e
    print('slim-resnet %s: error: %s' % (args.command, message),
          file=sys.stderr)
    return 2


if __name__ == '__main__':
  sys.exit(main())
