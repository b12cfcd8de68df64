"""Flags shared by the commands, and argparse types that check values before
TensorFlow loads (a bad number is one argparse error line, exit code 2).

No TensorFlow here: `slim-resnet <command> --help` builds every parser.
"""
import argparse
import glob
import os

from slim_resnet import configs

from slim_resnet.inference import precision


def _number(kind, minimum, name):
  def parse(text):
    try:
      value = kind(text)
    except ValueError:
      raise argparse.ArgumentTypeError(
          'expected %s, got %r' % (name, text)) from None
    if value < minimum:
      raise argparse.ArgumentTypeError(
          'must be >= %s, got %s' % (minimum, text))
    return value
  parse.__name__ = name  # argparse names the type in its messages.
  return parse


positive_int = _number(int, 1, 'an integer >= 1')
non_negative_int = _number(int, 0, 'an integer >= 0')
non_negative_float = _number(float, 0, 'a number >= 0')


def positive_float(text):
  value = non_negative_float(text)
  if value <= 0:
    raise argparse.ArgumentTypeError('must be > 0, got %s' % text)
  return value


def fraction(text):
  value = non_negative_float(text)
  if value >= 1:
    raise argparse.ArgumentTypeError('must be in [0, 1), got %s' % text)
  return value


def boolean(text):
  """research/slim's absl booleans: --flag, --flag=True, --flag=false."""
  lowered = str(text).lower()
  if lowered in ('true', 't', '1', 'yes'):
    return True
  if lowered in ('false', 'f', '0', 'no'):
    return False
  raise argparse.ArgumentTypeError('expected true or false, got %r' % text)


def add_bool(parser, *names, help=None, dest=None):  # pylint: disable=redefined-builtin
  """A flag that is True alone (--flag) or as --flag=true / --flag=false."""
  parser.add_argument(*names, dest=dest, nargs='?', const=True, default=False,
                      type=boolean, metavar='BOOL', help=help)


def model_name(text):
  """A model name of configs.MODEL_NAMES, checked before TensorFlow loads."""
  if text in configs.MODEL_NAMES:
    return text
  close = configs.close_model_names(text)
  raise argparse.ArgumentTypeError(
      'unknown model %r%s (models: %s)' % (
          text, '; did you mean %s?' % ' or '.join(close) if close else '',
          ', '.join(configs.MODEL_NAMES)))


def existing_dataset(text):
  """An image folder or TFRecords (folder, file or glob) that exists."""
  if os.path.exists(text) or glob.glob(text):
    return text
  raise argparse.ArgumentTypeError(
      '%s does not exist; expected an image folder DATA/<class>/<images> or '
      'TFRecords (a folder, file or glob pattern)' % text)


def add_model_arguments(parser, batch_size, slim_names=False,
                        slim_image_size='--eval_image_size',
                        batch_help='images per session run',
                        checkpoint_required=False, int8=False):
  """--checkpoint, --model, --num-classes, --image-size, --preprocessing,
  --batch-size, --device; with slim_names also research/slim's names."""
  def names(dashed, *slim):
    return (dashed,) + (slim if slim_names else ())
  parser.add_argument(*names('--checkpoint', '--checkpoint_path'),
                      dest='checkpoint', default=None,
                      required=checkpoint_required,
                      help='manifest name, training directory, checkpoint '
                      'path or export directory' + ('' if checkpoint_required
                                                    else
                                ' (default: the shipped digits checkpoint)'))
  parser.add_argument(*names('--model', '--model_name'), dest='model',
                      default=None, type=model_name,
                      help='model name, for a checkpoint without a '
                      'model_spec.json or manifest entry')
  parser.add_argument('--num-classes', type=positive_int, default=None,
                      help='classes of the logits (default: the '
                      "checkpoint's)")
  parser.add_argument(*names('--image-size', slim_image_size),
                      dest='image_size', type=positive_int, default=None,
                      help="input height and width (default: the checkpoint's)")
  parser.add_argument(*names('--preprocessing', '--preprocessing_name'),
                      dest='preprocessing', default=None,
                      help="vgg, inception or torchvision (default: the "
                      "checkpoint's)")
  parser.add_argument('--preprocessing-option', dest='preprocessing_option',
                      action='append', type=key_value, default=[],
                      metavar='KEY=VALUE',
                      help='a keyword of the preprocessing function, e.g. '
                      'resize_side_min=32 (vgg) or fast_mode=false '
                      "(inception); repeatable (default: the checkpoint's)")
  parser.add_argument(*names('--batch-size', '--batch_size'),
                      dest='batch_size', type=positive_int,
                      default=batch_size,
                      help=batch_help + (' (default: %(default)s)'
                                         if batch_size else ''))
  parser.add_argument('--device', default=None,
                      help='device of the network, e.g. /GPU:0 (default: '
                      "TensorFlow's choice)")
  precision.add_arguments(parser, int8=int8)


def add_runtime_argument(parser):
  """--runtime: which runtime runs an export directory given as
  --checkpoint."""
  from slim_resnet.inference import runtimes  # pylint: disable=g-import-not-at-top
  parser.add_argument('--runtime', default=None,
                      choices=tuple(runtimes.RUNTIMES),
                      help='an export directory: run it on this runtime '
                      '(e.g. openvino for an onnx export; default: its '
                      "format's own)")


def precision_options(args):
  """The precision keywords (FeatureExtractor, evaluate, export) from
  --precision and --precision-strict."""
  return dict(precision=args.precision,
              precision_strict=args.precision_strict)


def key_value(text):
  """'key=value' -> (key, value), the value read as JSON where it parses
  (numbers, true/false), else as a string."""
  import json  # pylint: disable=g-import-not-at-top
  key, sep, value = text.partition('=')
  if not sep or not key.isidentifier():
    raise argparse.ArgumentTypeError('expected KEY=VALUE, got %r' % text)
  try:
    return key, json.loads(value)
  except ValueError:
    return key, value


def model_overrides(args):
  """The ModelSpec overrides given on the command line."""
  overrides = {}
  for field in ('model', 'num_classes', 'image_size', 'preprocessing'):
    value = getattr(args, field, None)
    if value is not None and value != '':
      overrides[field] = value
  if getattr(args, 'preprocessing_option', None):
    overrides['preprocessing_options'] = dict(args.preprocessing_option)
  return overrides
