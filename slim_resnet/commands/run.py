"""slim-resnet run: research/slim's scripts and TF1-style tests, unchanged.

    slim-resnet run SCRIPT.py [ARG ...]      # as `python SCRIPT.py ARG ...`
    slim-resnet run -m MODULE [ARG ...]      # as `python -m MODULE ARG ...`
    slim-resnet run train_image_classifier.py --train_dir=/tmp/train ...
    slim-resnet run -m pytest nets/resnet_v1_test.py   # pip install pytest

Sets up tf-slim, tensorflow.contrib as research/slim imports it, TF1 graph
behaviour and the NumPy aliases removed since 1.24, then runs the script as
__main__ (slim_resnet.compat.legacy). Everything after `run` belongs to the
script: its output, tracebacks and exit code are its own.
"""
import argparse

HELP = ('run a research/slim (TF1-era) script or -m MODULE unchanged, in TF1 '
        'graph mode')


def add_arguments(parser):
  # For --help only: cli.main hands everything after `run` to main() below
  # before argparse sees it.
  parser.add_argument('script', metavar='SCRIPT.py | -m MODULE',
                      help='the script (or -m and a module) to run')
  parser.add_argument('args', nargs=argparse.REMAINDER, metavar='ARG',
                      help="the script's own arguments, passed as they are")


def main(argv):
  """Runs `argv` ([SCRIPT.py, ARG...] or [-m, MODULE, ARG...])."""
  from slim_resnet.compat import legacy  # pylint: disable=g-import-not-at-top
  return legacy.main(argv)


def run(args):
  return main([args.script] + args.args)
