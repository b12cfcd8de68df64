"""slim-resnet export: a frozen GraphDef and a SavedModel, checked.

    slim-resnet export --checkpoint C --out DIR [--input-type images|image_bytes]
        [--end-points K1,K2] [--fold-batch-norms]
        [--formats frozen,saved_model] [--overwrite]
        [--image-size N] [--preprocessing vgg|inception] [--batch-size N]

C is a training directory, a checkpoint path or a manifest name (default: the
shipped checkpoint). DIR gets frozen_graph.pb (input 'images:0' or
'image_bytes:0'; outputs 'logits:0', 'predictions:0', 'classes:0' and
'end_points/<key>:0'), saved_model/ (signature 'serving_default'),
export.json, model_spec.json and labels.txt. Both forms are run next to the
checkpoint's session graph before DIR is written; they must agree within 1e-4.

export_inference_graph.py's flags: --model_name, --image_size, --batch_size
(a fixed batch dimension; default any) mean the same here; --dataset_name,
--dataset_dir and --labels_offset are accepted and unused (the classes and
labels come from the checkpoint's model_spec.json / labels.txt).
"""

import argparse

from slim_resnet import errors
from slim_resnet.commands import model_flags

HELP = 'export a frozen GraphDef and a SavedModel (serving signature)'


def add_arguments(parser):
  model_flags.add_model_arguments(
      parser, batch_size=None, slim_names=True, slim_image_size='--image_size',
      batch_help='a fixed batch dimension of the input (default: any)')
  parser.add_argument('--out', required=True, help='directory to create')
  parser.add_argument('--input-type', choices=('images', 'image_bytes'),
                      default='images',
                      help='images: preprocessed float32 images; '
                      'image_bytes: encoded image files, decoded and '
                      'preprocessed in the graph (default: %(default)s)')
  parser.add_argument('--end-points', default='',
                      help='comma-separated end_points keys to output too')
  parser.add_argument('--fold-batch-norms', action='store_true',
                      help='fold batch norm into the conv weights and biases')
  parser.add_argument('--formats', default='frozen,saved_model',
                      help='comma-separated: frozen (frozen_graph.pb) and/or '
                      'saved_model (default: %(default)s)')
  parser.add_argument('--overwrite', action='store_true',
                      help='replace an existing DIR (once the new export is '
                      'checked)')
  # export_inference_graph.py's flags that have no meaning here.
  parser.add_argument('--dataset_name', help=argparse.SUPPRESS)
  parser.add_argument('--dataset_dir', help=argparse.SUPPRESS)
  parser.add_argument('--labels_offset', type=int, help=argparse.SUPPRESS)
  model_flags.add_bool(parser, '--is_training', help=argparse.SUPPRESS)


def run(args):
  if args.is_training:
    raise errors.UsageError('--is_training=true: the export is an inference graph '
                     '(batch norm in inference mode); drop the flag')
  from slim_resnet.inference import export  # pylint: disable=g-import-not-at-top
  result = export.export_model(
      args.checkpoint, args.out, input_type=args.input_type,
      end_points=[k for k in args.end_points.split(',') if k],
      fold_batch_norms=args.fold_batch_norms,
      formats=[f for f in args.formats.split(',') if f],
      overwrite=args.overwrite, batch_size=args.batch_size,
      **model_flags.precision_options(args),
      **model_flags.model_overrides(args))
  print('exported to %s' % result.export_dir)
  for path in (result.frozen_graph, result.saved_model):
    if path:
      print('  %s' % path)
  print('input  %s' % result.input_name)
  for key, name in result.outputs.items():
    print('output %-20s %s' % (key, name))
  print('matches the session graph (max |diff|: %s)' % ', '.join(
      '%s %.2g' % item for item in result.max_abs_diff.items()))
  print('precision %s%s' % (result.precision, '' if result.precision ==
                            'float32' else ' (run it with that precision\'s '
                            'session config; see export.json)'))
  return 0
