"""The summary table and the `slim-resnet summary` command."""
import pytest

from slim_resnet import cli
from slim_resnet import summary


@pytest.fixture(scope='module')
def v1_18_summary():
  return summary.summarize('resnet_v1_18', image_size=64, num_classes=10)


def test_summary_rows_and_totals(v1_18_summary):
  rows, totals = v1_18_summary
  by_key = {r.end_point: r for r in rows}
  assert by_key['resnet_v1_18/conv1'].shape == (1, 32, 32, 64)
  assert by_key['resnet_v1_18/block4'].shape == (1, 2, 2, 512)
  assert by_key['predictions'].shape == (1, 10)
  # conv1: 7x7x3x64 weights + BN gamma and beta.
  assert by_key['resnet_v1_18/conv1'].params == 7 * 7 * 3 * 64 + 2 * 64
  # Its convolution: 2 FLOPs per multiply-add, 32x32 outputs x 64 channels.
  assert by_key['resnet_v1_18/conv1'].flops >= 2 * 7 * 7 * 3 * 64 * 32 * 32
  assert by_key['resnet_v1_18/logits'].params == 512 * 10 + 10
  blocks = sum(by_key['resnet_v1_18/block%d' % i].params for i in range(1, 5))
  assert totals.params == (by_key['resnet_v1_18/conv1'].params + blocks +
                           by_key['resnet_v1_18/logits'].params)
  assert totals.flops > sum(by_key['resnet_v1_18/block%d' % i].flops
                            for i in range(1, 5))


def test_format_summary(v1_18_summary):
  text = summary.format_summary(*v1_18_summary, units_only=True)
  assert 'resnet_v1_18 at 64x64, 10 classes' in text
  assert 'resnet_v1_18/block1/unit_1/basic_v1 ' in text
  assert 'basic_v1/conv1' not in text
  assert 'total: ' in text


def test_cli_summary(capsys):
  assert cli.main(['summary', 'resnet_v2_18', '--image-size', '64',
                   '--num-classes', '3']) == 0
  out = capsys.readouterr().out
  assert 'resnet_v2_18/block4' in out and 'trainable parameters' in out


def test_cli_summary_list(capsys):
  assert cli.main(['summary', '--list']) == 0
  assert 'resnet_v2_200' in capsys.readouterr().out


@pytest.mark.parametrize('argv', [
    ['summary', 'resnet_v3_50'], ['classify', 'x.png', '--model', 'resnet_v3_50'],
    ['train', '--model', 'resnet_v3_50'], ['ckpt', 'check', 'c', '--model',
                                           'resnet_v3_50'],
    ['convert', 'x.pth', '--model', 'resnet_v3_50', '--out', 'o'],
    ['export', '--model_name=resnet_v3_50', '--output_file=x.pb']])
def test_cli_unknown_model_is_one_clear_error_before_tensorflow(capsys, argv):
  """issue 26 item 12: it took 5-7 s (TensorFlow first) and named no close
  match."""
  with pytest.raises(SystemExit) as exited:  # argparse, before TensorFlow.
    cli.main(argv)
  assert exited.value.code == 2
  err = capsys.readouterr().err
  assert len(err.strip().splitlines()) == 1 and 'Traceback' not in err
  assert "unknown model 'resnet_v3_50'; did you mean resnet_v2_50" in err
  assert 'resnet_v1_18' in err


def test_unrecognized_arguments_point_at_the_commands_help(capsys):
  with pytest.raises(SystemExit):
    cli.main(['summary', 'resnet_v1_50', '--bogus'])
  assert capsys.readouterr().err.strip().endswith(
      '(see slim-resnet summary --help)')


def _conv(k, cin, cout, out):
  """FLOPs (2 per multiply-add) and weights of a k x k conv, out x out."""
  return 2 * k * k * cin * cout * out * out, k * k * cin * cout


def expected_v1_18_flops(size, num_classes):
  """resnet_v1_18's FLOPs per end_point from its architecture alone, as
  TensorFlow counts them: convolutions (2 per multiply-add), 2 per weight for
  the L2 regularizer, 1 per element for the residual Add, the 1x1-pool
  subsampling shortcut and the logits' BiasAdd; batch norm and ReLU 0.
  The stride of blocks 1-3 sits on their last unit (research/slim)."""
  flops = {}
  h = size // 2
  f, n = _conv(7, 3, 64, h)
  flops['conv1'] = f + 2 * n
  h //= 2  # pool1
  cin = 64
  for b, depth in enumerate([64, 128, 256, 512], 1):
    total = 0
    for u in range(2):
      stride = 2 if (u == 1 and b < 4) else 1
      out = h // stride
      f1, n1 = _conv(3, cin, depth, h)
      f2, n2 = _conv(3, depth, depth, out)
      total += f1 + f2 + 2 * (n1 + n2) + depth * out * out
      if cin != depth:
        fs, ns = _conv(1, cin, depth, out)
        total += fs + 2 * ns
      elif stride > 1:
        total += depth * out * out
      cin, h = depth, out
    flops['block%d' % b] = total
  flops['logits'] = 2 * 512 * num_classes * 2 + num_classes
  return flops


def test_flops_are_exact(v1_18_summary):
  """Catches FLOPs counted for the wrong ops, a missing block or unit, or a
  wrong input size (the old test had lower bounds only)."""
  rows, totals = v1_18_summary
  by_key = {r.end_point: r for r in rows}
  expected = expected_v1_18_flops(64, 10)
  for key, flops in expected.items():
    assert by_key['resnet_v1_18/' + key].flops == flops, key
  assert totals.flops >= sum(expected.values())
