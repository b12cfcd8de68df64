"""slim-resnet export: a frozen GraphDef and a SavedModel, or an ONNX,
OpenVINO or TFLite model in float32, bfloat16 or int8; checked.

    slim-resnet export --checkpoint C --out DIR [--input-type images|image_bytes]
        [--end-points K1,K2] [--fold-batch-norms]
        [--formats frozen,saved_model] [--overwrite]
        [--image-size N] [--preprocessing vgg|inception] [--batch-size N]
    slim-resnet export --checkpoint C --out DIR --format onnx|openvino|tflite
        [--precision float32|bfloat16|int8] [--calibration IMAGES_OR_DATASET]
        [--calibration-size 300] [--check-size 100] [--check-images IMAGES]
        [--accept-accuracy-drop] [--end-points K1,K2] [--batch-size N]

--format onnx|openvino|tflite (inference.converted_export) writes model.onnx,
model.xml + model.bin or model.tflite beside export.json, model_spec.json and
labels.txt; int8 is post-training quantization calibrated on --calibration.
The written model is run by its runtime on check images (held back from
--calibration, or --check-images, or random images) next to the float32
session graph; past the accuracy bounds (int8: top-1 agreement 0.99,
end_points cosine 0.99; float32: 1e-4 of scale) it fails with the figures
unless --accept-accuracy-drop. classify, extract and eval take DIR as
--checkpoint.

C is a training directory, a checkpoint path or a manifest name (default: the
shipped checkpoint). DIR gets frozen_graph.pb (input 'images:0' or
'image_bytes:0'; outputs 'logits:0', 'predictions:0', 'classes:0' and
'end_points/<key>:0'), saved_model/ (signature 'serving_default'),
export.json, model_spec.json and labels.txt. Both forms are run next to the
checkpoint's session graph before DIR is written; they must agree within 1e-4.

research/slim's export_inference_graph.py command lines run as they are:

    slim-resnet export --model_name=resnet_v1_50 --output_file=/tmp/r50.pb
        [--dataset_name=imagenet] [--labels_offset=0] [--image_size=224]
        [--batch_size=N] [--is_training] [--use_grayscale]
        [--write_text_graphdef] [--checkpoint C]

--output_file writes what that script writes: the inference GraphDef without
weights (input placeholder 'input', research/slim's node names, output
'<model>/predictions/Reshape_1'), for TensorFlow's freeze_graph to freeze with
a checkpoint. Its classes: the checkpoint's when --checkpoint is given, else
--num-classes, else research/slim's rule (its --dataset_name's classes, 1001
for imagenet, minus --labels_offset). --quantize, --is_video_model and
--num_frames are refused (no quantization-aware graph, no video ResNets).
With --out, --model_name, --image_size and --batch_size mean the same;
--dataset_name, --dataset_dir and --labels_offset are accepted and unused
(the classes and labels come from the checkpoint).
"""

import argparse

from slim_resnet import errors
from slim_resnet.commands import model_flags

HELP = ('export a frozen GraphDef and a SavedModel (serving signature), or '
        "research/slim's inference GraphDef (--output_file)")


def add_arguments(parser):
  model_flags.add_model_arguments(
      parser, batch_size=None, slim_names=True, slim_image_size='--image_size',
      batch_help='a fixed batch dimension of the input (default: any)',
      int8=True)
  parser.add_argument('--out', help='directory to create: a checked frozen '
                      'graph with its weights and a SavedModel')
  parser.add_argument('--output_file', '--output-file', dest='output_file',
                      help="research/slim's export: write only the inference "
                      'GraphDef (no weights) to this file')
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
  from slim_resnet.inference import runtimes  # pylint: disable=g-import-not-at-top
  parser.add_argument('--format', default=None,
                      choices=tuple(runtimes.FORMATS),
                      help='one format instead of --formats: onnx '
                      '(onnxruntime), openvino (OpenVINO IR) or tflite, '
                      'converted from the folded graph and checked against '
                      'the session; or frozen / savedmodel')
  parser.add_argument('--calibration', nargs='+', default=None,
                      metavar='IMAGES_OR_DATASET',
                      help='image files, folders, globs or TFRecords: int8 '
                      'calibration, and the held-back images the converted '
                      'export is checked on (default: random images; int8 '
                      'needs it)')
  parser.add_argument('--calibration-size', type=model_flags.positive_int,
                      default=300, help='images to calibrate on (default: '
                      '%(default)s)')
  parser.add_argument('--check-size', type=model_flags.positive_int,
                      default=100, help='other images held back for the '
                      'accuracy check (default: %(default)s)')
  parser.add_argument('--check-images', nargs='+', default=None,
                      metavar='IMAGES_OR_DATASET',
                      help='check on these images instead of ones held back '
                      'from --calibration (e.g. a validation split)')
  parser.add_argument('--accept-accuracy-drop', action='store_true',
                      help='write a converted export even when it is past '
                      'the accuracy bounds (int8: top-1 agreement 0.99, '
                      'end_points cosine 0.99; float32: 1e-4 of scale)')
  parser.add_argument('--overwrite', action='store_true',
                      help='replace an existing DIR (once the new export is '
                      'checked)')
  # export_inference_graph.py's flags: with --output_file as research/slim
  # reads them (see the module doc).
  parser.add_argument('--dataset_name', help='--output_file without '
                      "--checkpoint: research/slim's dataset whose classes the "
                      'logits get (default imagenet, 1001)')
  parser.add_argument('--dataset_dir', help=argparse.SUPPRESS)
  parser.add_argument('--labels_offset', type=model_flags.non_negative_int,
                      default=0, help='--output_file without --checkpoint: '
                      "classes fewer than the dataset's (default 0)")
  for name, text in (('--is_training', 'build batch norm in training mode'),
                     ('--write_text_graphdef', 'write a text GraphDef'),
                     ('--use_grayscale', 'a 1-channel input placeholder')):
    model_flags.add_bool(parser, name, help='--output_file only: ' + text)
  for name in ('--quantize', '--is_video_model'):
    model_flags.add_bool(parser, name, help=argparse.SUPPRESS)
  parser.add_argument('--num_frames', type=model_flags.positive_int,
                      help=argparse.SUPPRESS)


def run(args):
  if args.quantize:
    raise errors.UsageError(
        '--quantize: quantization-aware graphs (tensorflow.contrib.quantize) '
        'are gone from current TensorFlow; drop the flag and quantize after '
        'training (post-training int8)')
  if args.is_video_model or args.num_frames:
    raise errors.UsageError('--is_video_model / --num_frames: the ResNets '
                            'here take images, not video; drop the flags')
  if bool(args.out) == bool(args.output_file):
    raise errors.UsageError('give one of --out DIR (a checked frozen graph '
                            'and SavedModel) or --output_file FILE '
                            "(research/slim's inference GraphDef)")
  if args.output_file:
    return _write_inference_graph_def(args)
  for flag in ('is_training', 'write_text_graphdef', 'use_grayscale'):
    if getattr(args, flag):
      raise errors.UsageError(
          '--%s is a flag of research/slim\'s --output_file export; a --out '
          'directory holds an RGB inference graph with its weights: drop the '
          'flag, or use --output_file' % flag)
  if args.format and args.formats != 'frozen,saved_model':
    raise errors.UsageError('give --format (one format) or --formats (frozen '
                            'and/or saved_model), not both')
  from slim_resnet.inference import export  # pylint: disable=g-import-not-at-top
  result = export.export_model(
      args.checkpoint, args.out, input_type=args.input_type,
      end_points=[k for k in args.end_points.split(',') if k],
      fold_batch_norms=args.fold_batch_norms,
      formats=[f for f in args.formats.split(',') if f],
      overwrite=args.overwrite, batch_size=args.batch_size,
      format=args.format, calibration=args.calibration,
      calibration_size=args.calibration_size, check_size=args.check_size,
      check_images=args.check_images,
      accept_accuracy_drop=args.accept_accuracy_drop,
      **model_flags.precision_options(args),
      **model_flags.model_overrides(args))
  print('exported to %s' % result.export_dir)
  for path in (result.frozen_graph, result.saved_model, result.model_file):
    if path:
      print('  %s' % path)
  print('input  %s' % result.input_name)
  for key, name in result.outputs.items():
    print('output %-20s %s' % (key, name))
  if result.format in ('onnx', 'openvino', 'tflite'):
    _print_accuracy(result)
    return 0
  print('matches the session graph (max |diff|: %s)' % ', '.join(
      '%s %.2g' % item for item in result.max_abs_diff.items()))
  print('precision %s%s' % (result.precision, '' if result.precision ==
                            'float32' else ' (run it with that precision\'s '
                            'session config; see export.json)'))
  return 0


def _print_accuracy(result):
  """The converted export's check figures (export.json's "accuracy")."""
  figures = result.accuracy
  print('precision %s, %s format; checked on %d %s images against the '
        'float32 session:' % (result.precision, result.format,
                              figures['images'], figures['check_images']))
  if result.calibration:
    print('  calibration: %(calibration_images)d images from %(source)s '
          '(%(check_images)d others held back)' % result.calibration)
  if 'top1_agreement' in figures:
    print('  top-1 agreement %.4f' % figures['top1_agreement'])
  for key, output in figures['outputs'].items():
    print('  %-30s max |diff| %.3g (%.2g of scale), mean %.3g, cosine %.5f'
          % (key, output['max_abs_error'], output['relative_error'],
             output['mean_abs_error'], output['mean_cosine']))
  if figures['failures']:
    print('  PAST THE BOUNDS (written with --accept-accuracy-drop): %s'
          % '; '.join(figures['failures']))
  print('run it: slim-resnet classify IMAGES --checkpoint %s'
        % result.export_dir)


# Flags of the --out export with no meaning for --output_file: (dest, default).
_DIRECTORY_ONLY = (('input_type', 'images'), ('end_points', ''),
                   ('fold_batch_norms', False),
                   ('formats', 'frozen,saved_model'), ('overwrite', False),
                   ('precision', None), ('precision_strict', False),
                   ('preprocessing', None), ('preprocessing_option', []),
                   ('device', None), ('format', None),
                   ('calibration', None), ('calibration_size', 300),
                   ('check_size', 100), ('check_images', None),
                   ('accept_accuracy_drop', False))


def _write_inference_graph_def(args):
  """research/slim's export_inference_graph.py (see the module doc)."""
  for dest, default in _DIRECTORY_ONLY:
    if getattr(args, dest, default) != default:
      raise errors.UsageError(
          '--%s: --output_file writes only the inference GraphDef, as '
          "research/slim's export_inference_graph.py does; that flag belongs "
          'to the --out export' % dest.replace('_', '-'))
  from slim_resnet.inference import inference_graph_def  # pylint: disable=g-import-not-at-top
  model_options = {}
  if args.checkpoint:
    from slim_resnet.checkpoints import model_spec  # pylint: disable=g-import-not-at-top
    overrides = {k: v for k, v in model_flags.model_overrides(args).items()
                 if k != 'image_size'}
    spec = model_spec.resolve_model(args.checkpoint, **overrides)
    model, num_classes = spec.model, spec.num_classes
    image_size = args.image_size or spec.image_size
    model_options = spec.model_options
    source = 'the checkpoint %s' % args.checkpoint
  else:
    if not args.model:
      raise errors.UsageError(
          '--model_name is needed without --checkpoint (research/slim\'s '
          'default, inception_v3, is not a ResNet), e.g. '
          '--model_name=resnet_v1_50')
    model, image_size = args.model, args.image_size
    if args.num_classes:
      num_classes, source = args.num_classes, '--num-classes'
    else:
      dataset = args.dataset_name or 'imagenet'
      num_classes = inference_graph_def.slim_dataset_classes(
          dataset, args.labels_offset)
      source = ("research/slim's %s dataset, --labels_offset %d"
                % (dataset, args.labels_offset))
  graph_def, outputs = inference_graph_def.inference_graph_def(
      model, num_classes, image_size=image_size, batch_size=args.batch_size,
      is_training=args.is_training, num_channels=1 if args.use_grayscale else 3,
      model_options=model_options,
      dataset_name=args.dataset_name or 'imagenet')
  inference_graph_def.write_graph_def(graph_def, args.output_file,
                                      as_text=args.write_text_graphdef)
  print('wrote %s (%s GraphDef, no weights; freeze it with a checkpoint)'
        % (args.output_file, 'text' if args.write_text_graphdef else 'binary'))
  print('input  %s:0' % inference_graph_def.INPUT_NAME)
  print('output %s:0' % outputs[0])
  print('model %s, %s classes (from %s)' % (model, num_classes or 'no',
                                            source))
  return 0
