"""`slim-resnet <command>`: argument parsing only; the work is in the library.

    slim-resnet summary resnet_v1_50
    slim-resnet <command> --help
"""
import argparse
import importlib
import os
import sys

# name -> module under slim_resnet.commands, imported only when chosen.
COMMANDS = ('summary', 'classify', 'extract', 'ckpt', 'data', 'train', 'eval',
            'export', 'convert')


def build_parser():
  parser = argparse.ArgumentParser(
      prog='slim-resnet',
      description="TF-Slim's ResNets on current TensorFlow.")
  subparsers = parser.add_subparsers(dest='command', metavar='command')
  subparsers.required = True
  for name in COMMANDS:
    module = importlib.import_module('slim_resnet.commands.' + name)
    sub = subparsers.add_parser(name, help=module.HELP,
                                description=module.__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    module.add_arguments(sub)
    sub.set_defaults(run=module.run)
  return parser


def main(argv=None):
  """Runs one command; returns its exit code (2 for a user error)."""
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')  # before TF loads
  args = build_parser().parse_args(argv)
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  tf.get_logger().setLevel('ERROR')
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
