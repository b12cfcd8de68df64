"""slim-resnet convert: PyTorch or Keras ResNet weights into a slim checkpoint.

    slim-resnet convert --from torch resnet18.pth --model resnet_v1_18 --out ckpt/model.ckpt
    slim-resnet convert --from keras resnet50v2.keras --model resnet_v2_50 --out ckpt/model.ckpt

torch: a torchvision-style ResNet state_dict (torch.save(model.state_dict()))
into resnet_v1_<depth> built with stride_in_first_unit=True and
pool_padding='SYMMETRIC' (recorded in model_spec.json next to the checkpoint,
so `classify`, `extract`, `eval`, `export` and `train --checkpoint` build the
right net). keras: a keras.applications ResNet50V2/101V2/152V2 (.keras file,
or .h5 / .weights.h5 weights with --num-classes) into resnet_v2_<depth>. The
written checkpoint is restored into the net before the command succeeds.
"""

from slim_resnet.commands import model_flags

HELP = 'PyTorch / Keras ResNet weights -> slim checkpoint'


def add_arguments(parser):
  parser.add_argument('--from', dest='framework', required=True,
                      choices=('torch', 'keras'),
                      help='torch: a state_dict (.pth, or .safetensors read '
                      'without torch); keras: a .keras / .h5 file')
  parser.add_argument('source', help='.pth / .safetensors state_dict, .keras '
                      'or .h5 file')
  parser.add_argument('--model', required=True, type=model_flags.model_name,
                      help='slim model, e.g. resnet_v1_50 or resnet_v2_50')
  parser.add_argument('--out', required=True,
                      help='checkpoint prefix to write, e.g. ckpt/model.ckpt')
  parser.add_argument('--num-classes', type=model_flags.positive_int,
                      default=None,
                      help='keras weights files: the classes of the top')


def run(args):
  from slim_resnet.checkpoints import convert  # pylint: disable=g-import-not-at-top
  if args.framework == 'torch':
    from slim_resnet.checkpoints import convert_torch  # pylint: disable=g-import-not-at-top
    report = convert_torch.convert_torch(args.source, args.model, args.out)
  else:
    from slim_resnet.checkpoints import convert_keras  # pylint: disable=g-import-not-at-top
    report = convert_keras.convert_keras(args.source, args.model, args.out,
                                         args.num_classes)
  print(convert.format_report(report))
  return 0
