"""Bad input through slim_resnet.cli.main, in-process: one line on stderr, no
traceback, exit 2 (1 when only some images were skipped), nothing half
written; and training on a dataset without one usable example."""
import os

import numpy as np
import pytest
from PIL import Image

import recordutil
from slim_resnet import cli
from slim_resnet import train as training
from slim_resnet.data import datasets

SHIPPED = 'digits_resnet_v1_18'


def undecodable_folder(root, classes=('a', 'b'), per_class=3):
  for name in classes:
    os.makedirs(os.path.join(root, name))
    for i in range(per_class):
      with open(os.path.join(root, name, '%d.png' % i), 'w') as f:
        f.write('not an image\n')
  return str(root)


@pytest.mark.parametrize('split', ['train', 'all'])
def test_training_without_usable_examples_writes_nothing(tmp_path, split):
  """All images undecodable: DatasetError before step 1, train_dir empty.

  Catches MonitoredTrainingSession swallowing the end of data (global_step 0,
  model.ckpt-0 written, success)."""
  data = undecodable_folder(tmp_path / 'data')
  train_dir = tmp_path / 'run'
  with pytest.raises(datasets.DatasetError, match=r'no usable examples: (\d) '
                     r'files, \1 failed to decode \(not an image'):
    training.train(training.TrainConfig(
        train_dir=str(train_dir), dataset=data, split=split,
        checkpoint=SHIPPED, checkpoint_exclude_scopes=['resnet_v1_18/logits'],
        batch_size=2, max_steps=3, progress=False))
  assert not train_dir.exists() or not os.listdir(train_dir)


def test_training_on_an_empty_split_is_a_user_error(tmp_path, capsys):
  """One image per class: the validation split is empty (CLI: exit 2)."""
  data = tmp_path / 'data'
  for name in ('a', 'b'):
    (data / name).mkdir(parents=True)
    Image.fromarray(np.full([8, 8, 3], 9, np.uint8)).save(data / name / '0.png')
  train_dir = tmp_path / 'run'
  rc = cli.main(['train', '--dataset', str(data), '--split', 'validation',
                 '--train-dir', str(train_dir), '--checkpoint', SHIPPED,
                 '--checkpoint-exclude-scopes', 'resnet_v1_18/logits',
                 '--max-steps', '2', '--batch-size', '2', '--no-progress'])
  err = capsys.readouterr().err
  assert rc == 2, err
  assert 'Traceback' not in err and len(err.strip().splitlines()) == 1, err
  assert not train_dir.exists() or not os.listdir(train_dir)


def test_a_bug_keeps_its_traceback(monkeypatch, capsys):
  """A bare ValueError from our code is a bug, not a user error (catches the
  old boundary that turned every ValueError/KeyError/OSError into exit 2)."""
  from slim_resnet.commands import summary  # pylint: disable=g-import-not-at-top

  def broken(args):
    raise ValueError('an internal invariant')
  monkeypatch.setattr(summary, 'run', broken)
  assert cli.main(['summary', 'resnet_v1_50']) == 3
  err = capsys.readouterr().err
  assert 'Traceback' in err and 'a bug in slim_resnet' in err


@pytest.mark.parametrize('how', ['flag', 'env'])
def test_debug_shows_the_trace_of_a_user_error(monkeypatch, capsys, how):
  argv = ['ckpt', 'inspect', '/no/such/ckpt']
  if how == 'flag':
    argv.append('--debug')
  else:
    monkeypatch.setenv('SLIM_RESNET_DEBUG', '1')
  assert cli.main(argv) == 2
  err = capsys.readouterr().err
  assert 'Traceback' in err and err.rstrip().splitlines()[-1].startswith(
      'slim-resnet ckpt: error: ')


# The bad-input matrix. -------------------------------------------------------

def _png_bytes(array):
  import io  # pylint: disable=g-import-not-at-top
  buf = io.BytesIO()
  Image.fromarray(array).save(buf, format='PNG')
  return buf.getvalue()


def _jpeg_bytes(array):
  import io  # pylint: disable=g-import-not-at-top
  buf = io.BytesIO()
  Image.fromarray(array).save(buf, format='JPEG')
  return buf.getvalue()


@pytest.fixture(scope='module')
def bad(tmp_path_factory):
  """Bad files and checkpoints; returns {name: path}."""
  root = tmp_path_factory.mktemp('bad')
  rng = np.random.RandomState(0)
  rgb = rng.randint(0, 255, [40, 40, 3]).astype(np.uint8)
  paths = {}

  def write(name, data):
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    paths[name.split('/')[0].split('.')[0]] = str(path)
    return str(path)
  write('truncated_png.png', _png_bytes(rgb)[:200])
  write('truncated_jpeg.jpg', _jpeg_bytes(rgb)[:300])
  write('text.png', b'hello, not a picture\n' * 10)
  write('empty.png', b'')
  (root / 'one_by_one.png').write_bytes(_png_bytes(rgb[:1, :1]))
  paths['one_by_one'] = str(root / 'one_by_one.png')
  Image.fromarray((rgb[:, :, 0].astype(np.uint16) * 250)).save(
      root / 'sixteen_bit.png')
  paths['sixteen_bit'] = str(root / 'sixteen_bit.png')
  Image.fromarray(rgb).convert('CMYK').save(root / 'cmyk.jpg')
  paths['cmyk'] = str(root / 'cmyk.jpg')
  (root / 'empty_folder').mkdir()
  paths['empty_folder'] = str(root / 'empty_folder')
  paths['missing'] = str(root / 'no_such_file.png')
  # Checkpoints: copies of the shipped one, broken.
  from slim_resnet.checkpoints import fetch  # pylint: disable=g-import-not-at-top
  import glob as glob_lib  # pylint: disable=g-import-not-at-top
  import shutil  # pylint: disable=g-import-not-at-top
  shipped = fetch.fetch_checkpoint(SHIPPED, progress=False)
  for name in ('truncated_index', 'random_bytes', 'missing_data',
               'truncated_data'):
    folder = root / name
    folder.mkdir()
    for f in glob_lib.glob(shipped + '*'):
      shutil.copy(f, folder / os.path.basename(f).replace(
          os.path.basename(shipped), 'model.ckpt'))
    for f in glob_lib.glob(os.path.join(os.path.dirname(shipped), '*.json')) \
        + glob_lib.glob(os.path.join(os.path.dirname(shipped), '*.txt')):
      shutil.copy(f, folder)
    paths[name] = str(folder / 'model.ckpt')
  index = root / 'truncated_index' / 'model.ckpt.index'
  index.write_bytes(index.read_bytes()[:40])
  for f in (root / 'random_bytes').glob('model.ckpt.*'):
    f.write_bytes(rng.bytes(f.stat().st_size))
  for f in (root / 'missing_data').glob('model.ckpt.data-*'):
    f.unlink()
  for f in (root / 'truncated_data').glob('model.ckpt.data-*'):
    f.write_bytes(f.read_bytes()[:1000])
  return paths


def run_cli(capsys, argv):
  try:
    rc = cli.main(argv)
  except SystemExit as e:  # argparse's check of a flag, before TensorFlow.
    rc = e.code
  captured = capsys.readouterr()
  return rc, captured.out, captured.err


def assert_one_line(err, rc, expected_rc=2):
  assert rc == expected_rc, err[-3000:]
  assert 'Traceback' not in err, err[-3000:]
  lines = [l for l in err.splitlines() if l.startswith('slim-resnet ')]
  assert len(lines) == 1, err[-3000:]


IMAGE_CASES = ['truncated_png', 'truncated_jpeg', 'text', 'empty']
DECODABLE = ['one_by_one', 'sixteen_bit', 'cmyk']


@pytest.mark.parametrize('case', IMAGE_CASES)
@pytest.mark.parametrize('command', ['classify', 'extract'])
def test_undecodable_image_is_skipped_and_listed(bad, capsys, tmp_path,
                                                 case, command):
  out = tmp_path / 'f.npz'
  argv = ([command, bad[case]] if command == 'classify' else
          [command, '--images', bad[case], '--out', str(out),
           '--no-progress'])
  rc, _, err = run_cli(capsys, argv)
  assert rc == 1, err[-3000:]
  assert 'Traceback' not in err
  assert 'skipped %s' % bad[case] in err


@pytest.mark.parametrize('case', DECODABLE)
def test_odd_but_valid_images_classify(bad, capsys, case):
  rc, out, err = run_cli(capsys, ['classify', bad[case], '--top-k', '1'])
  assert rc == 0, err[-3000:]
  assert os.path.relpath(bad[case]) in out


@pytest.mark.parametrize('argv', [
    ['classify', '{missing}'],
    ['classify', '{empty_folder}'],
    ['extract', '--images', '{empty_folder}', '--out', '{out}/f.npz'],
    ['extract', '--images', '{missing}', '--out', '{out}/f.npz'],
    ['eval', '--checkpoint', SHIPPED, '--dataset', '{missing}'],
    ['eval', '--checkpoint', SHIPPED, '--dataset', '{empty_folder}'],
    ['eval', '--checkpoint', SHIPPED, '--dataset', '{text}'],
    ['train', '--dataset', '{missing}', '--train-dir', '{out}/run',
     '--checkpoint', SHIPPED],
    ['train', '--dataset', '{empty_folder}', '--train-dir', '{out}/run',
     '--checkpoint', SHIPPED],
    ['data', 'convert', '{missing}', '{out}/records'],
    ['data', 'convert', '{empty_folder}', '{out}/records'],
    ['convert', '--from', 'torch', '{missing}', '--model', 'resnet_v1_18',
     '--out', '{out}/c/model.ckpt'],
    ['convert', '--from', 'keras', '{text}', '--model', 'resnet_v2_50',
     '--out', '{out}/c/model.ckpt'],
    ['convert', '--from', 'keras', '{empty_folder}', '--model',
     'resnet_v2_50', '--out', '{out}/c/model.ckpt'],
    ['ckpt', 'inspect', '{missing}'],
    ['ckpt', 'inspect', '{empty_folder}'],
    ['ckpt', 'check', '{missing}', '--model', 'resnet_v1_18',
     '--num-classes', '10'],
    ['export', '--checkpoint', '{missing}', '--out', '{out}/export'],
    ['export', '--checkpoint', '{empty_folder}', '--out', '{out}/export'],
    ['summary', 'resnet_v1_50', '--num-classes', '-3'],
    ['summary', 'resnet_v1_50', '--image-size', '0'],
    ['classify', '{one_by_one}', '--top-k', '0'],
    ['classify', '{one_by_one}', '--top-k', '-1'],
    ['classify', '{one_by_one}', '--batch-size', '0'],
    ['classify', '{one_by_one}', '--num-classes', '0'],
    ['extract', '--images', '{one_by_one}', '--out', '{out}/f.npz',
     '--batch-size', '0'],
    ['extract', '--images', '{one_by_one}', '--out', '{out}/f.npz',
     '--end-points', 'nope'],
    # Checked before any graph: TypeError, UnimplementedError and a crop
    # assert in the session (exit 3) before.
    ['classify', '{one_by_one}', '--preprocessing-option', 'resize_side_min=16'],
    ['classify', '{one_by_one}', '--preprocessing-option', 'foo=1'],
    ['classify', '{one_by_one}', '--preprocessing-option', 'resize_side_min=x'],
    ['export', '--out', '{out}/export', '--input-type', 'image_bytes',
     '--preprocessing-option', 'resize_side_min=16'],
], ids=lambda argv: '_'.join(a.strip('{}-').replace('/', '') for a in argv
                              if not a.startswith('{out}'))[:60])
def test_bad_files_and_flags(bad, capsys, tmp_path, argv):
  out = tmp_path / 'out'
  out.mkdir()
  argv = [a.format(out=out, **bad) for a in argv]
  rc, _, err = run_cli(capsys, argv)
  assert_one_line(err, rc)
  assert os.listdir(out) == [], 'partial output left: %s' % os.listdir(out)


CHECKPOINTS = ['truncated_index', 'random_bytes', 'missing_data',
               'truncated_data']
COMMANDS = ['classify', 'extract', 'export', 'inspect', 'check', 'eval',
            'train']
# ckpt inspect and check read every tensor, so damaged .data fails them too.
CHECKPOINT_CASES = [(command, case) for command in COMMANDS
                    for case in CHECKPOINTS]


@pytest.mark.parametrize('command,case', CHECKPOINT_CASES)
def test_broken_checkpoints(bad, capsys, tmp_path, command, case):
  out = tmp_path / 'out'
  out.mkdir()
  ckpt = bad[case]
  argv = {
      'classify': ['classify', bad['one_by_one'], '--checkpoint', ckpt],
      'extract': ['extract', '--images', bad['one_by_one'], '--checkpoint',
                  ckpt, '--out', str(out / 'f.npz'), '--no-progress'],
      'export': ['export', '--checkpoint', ckpt, '--out', str(out / 'e')],
      'inspect': ['ckpt', 'inspect', ckpt],
      'check': ['ckpt', 'check', ckpt, '--model', 'resnet_v1_18',
                '--num-classes', '10', '--depth-multiplier', '0.125'],
      'eval': ['eval', '--checkpoint', ckpt, '--dataset',
               os.path.dirname(bad['one_by_one']), '--no-progress'],
      'train': ['train', '--checkpoint', ckpt, '--dataset',
                os.path.dirname(bad['one_by_one']), '--train-dir',
                str(out / 'run'), '--max-steps', '1', '--no-progress'],
  }[command]
  rc, _, err = run_cli(capsys, argv)
  assert_one_line(err, rc)
  leftovers = [f for f in os.listdir(out)]
  assert leftovers == [], leftovers


def test_a_uint8_tensor_given_to_a_builder():
  """Catches the raw 'Cannot create initializer...' TypeError from TF."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from slim_resnet import resnet_v1  # pylint: disable=g-import-not-at-top
  with tf.Graph().as_default():
    images = tf.compat.v1.placeholder(tf.uint8, [1, 32, 32, 3])
    with pytest.raises(TypeError, match='float images .* got uint8.*'
                       'tf.cast.*tf.image.convert_image_dtype'):
      resnet_v1.resnet_v1_18(images, num_classes=3)
    assert not tf.compat.v1.global_variables()  # Nothing built.


def test_a_class_count_flag_is_blamed_not_the_checkpoint(sample, capsys):
  """issue 26 item 5: 'the checkpoint ... has 11 classes' for a 10-class
  checkpoint given --num-classes 11."""
  rc, _, err = run_cli(capsys, ['eval', '--checkpoint', SHIPPED, '--dataset',
                                sample, '--num-classes', '11', '--no-progress'])
  assert_one_line(err, rc)
  assert 'num_classes=11 was given' in err
  assert 'the checkpoint' in err and 'has 10' in err and 'has 11' not in err


@pytest.mark.parametrize('command', ['classify', 'extract', 'eval', 'train'])
def test_an_unavailable_strict_precision_is_bad_input(bad, sample, capsys,
                                                      tmp_path, command):
  """issue 26 item 6: exit 3 and 'a bug in slim_resnet' before. (No GPU
  here, as in CI: float16 is not available.)"""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  if tf.config.list_physical_devices('GPU'):
    pytest.skip('float16 is available on this machine')
  folder = sample
  argv = {
      'classify': ['classify', bad['one_by_one']],
      'extract': ['extract', '--images', bad['one_by_one'], '--out',
                  str(tmp_path / 'f.npz'), '--no-progress'],
      'eval': ['eval', '--checkpoint', SHIPPED, '--dataset', folder,
               '--no-progress'],
      'train': ['train', '--checkpoint', SHIPPED, '--dataset', folder,
                '--train-dir', str(tmp_path / 'run'), '--max-steps', '1',
                '--no-progress'],
  }[command] + ['--precision', 'float16', '--precision-strict']
  rc, _, err = run_cli(capsys, argv)
  assert_one_line(err, rc)
  assert 'float16 needs a GPU' in err
  assert not os.path.exists(str(tmp_path / 'run'))


@pytest.mark.parametrize('error', ['InvalidArgumentError', 'OutOfRangeError'])
def test_a_tensorflow_error_of_ours_is_a_bug(monkeypatch, capsys, error):
  """issue 26 item 9: any InvalidArgumentError / OutOfRangeError was exit 2
  without its traceback, a shape or graph bug of ours included."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from slim_resnet.commands import summary  # pylint: disable=g-import-not-at-top

  def broken(args):
    raise getattr(tf.errors, error)(None, None, 'a graph bug of ours')
  monkeypatch.setattr(summary, 'run', broken)
  assert cli.main(['summary', 'resnet_v1_50']) == 3
  err = capsys.readouterr().err
  assert 'Traceback' in err and 'a bug in slim_resnet' in err


def _records_with_a_corrupt_image(folder):
  """research/slim's records, one of whose images is not an image."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  os.makedirs(folder)
  rgb = np.random.RandomState(1).randint(0, 255, [32, 32, 3]).astype(np.uint8)
  with tf.io.TFRecordWriter(os.path.join(
      folder, 'd_train_00000-of-00001.tfrecord')) as writer:
    for i in range(10):
      writer.write(recordutil.slim_example(
          b'not an image' if i == 3 else _png_bytes(rgb), i))
  with open(os.path.join(folder, 'labels.txt'), 'w') as f:
    f.write(''.join('%d:%d\n' % (i, i) for i in range(10)))
  return folder


def test_a_record_that_does_not_decode_is_the_users_data(tmp_path, capsys):
  records = _records_with_a_corrupt_image(str(tmp_path / 'records'))
  rc, _, err = run_cli(capsys, ['eval', '--checkpoint', SHIPPED, '--dataset',
                                records, '--split', 'train', '--no-progress'])
  assert_one_line(err, rc)
  assert 'cannot be read: Unknown image file format' in err


# The README's exit codes, command by command (issue 26 item 10). ------------

def _folder_with_one_bad_image(root, sample_root):
  """The sample digits (10 classes) plus one undecodable file in class 3."""
  import shutil  # pylint: disable=g-import-not-at-top
  shutil.copytree(sample_root, root)
  with open(os.path.join(root, '3', 'broken.png'), 'w') as f:
    f.write('not an image\n')
  return root


def test_data_convert_and_train_exit_1_when_they_skipped_files(
    sample, tmp_path, capsys):
  data = _folder_with_one_bad_image(str(tmp_path / 'data'), sample)
  rc, _, err = run_cli(capsys, ['data', 'convert', data,
                                str(tmp_path / 'records')])
  assert rc == 1 and 'skipped ' in err and 'broken.png' in err, err
  rc, _, err = run_cli(capsys, [
      'train', '--dataset', data, '--split', 'all', '--train-dir',
      str(tmp_path / 'run'), '--checkpoint', SHIPPED, '--max-steps', '40',
      '--batch-size', '10', '--no-progress', '--checkpoint-exclude-scopes',
      'resnet_v1_18/logits'])
  assert rc == 1 and 'broken.png' in err, err


def test_every_command_has_a_bad_input_case():
  """Each command of cli.COMMANDS (but run, the user's program) is in the
  matrix above, so each is held to exit 2 with one line."""
  with open(__file__, encoding='utf-8') as f:
    source = f.read()
  for command in cli.COMMANDS:
    if command != 'run':
      assert "['%s'" % command in source, command


# Out of memory and Ctrl-C (issue 26 items 7, 8). ------------------------------

def test_an_absurd_batch_size_fails_before_any_work(bad, capsys):
  """Before: --batch-size 10000000 ended in a 98-line ResourceExhaustedError
  (exit 3), and 1000000000 hung for minutes."""
  for batch in ('10000000', '1000000000'):
    rc, _, err = run_cli(capsys, ['classify', bad['one_by_one'],
                                  '--batch-size', batch])
    assert_one_line(err, rc)
    assert '--batch-size %s needs at least' % batch in err


def test_out_of_memory_names_the_batch_size(bad, capsys, monkeypatch):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from slim_resnet.commands import classify  # pylint: disable=g-import-not-at-top

  def exhausted(args):
    raise tf.errors.ResourceExhaustedError(
        None, None, 'Failed to allocate memory for the batch of component 1')
  monkeypatch.setattr(classify, 'run', exhausted)
  rc, _, err = run_cli(capsys, ['classify', bad['one_by_one'],
                                '--batch-size', '512'])
  assert_one_line(err, rc)
  assert 'out of memory' in err and 'lower --batch-size (512)' in err


@pytest.mark.parametrize('command,hint', [
    ('extract', 'with --resume to continue'),
    ('train', 'again to continue from the last checkpoint'),
    ('classify', None)])
def test_ctrl_c_is_one_line_and_exit_130(bad, capsys, monkeypatch, tmp_path,
                                         command, hint):
  import importlib  # pylint: disable=g-import-not-at-top
  module = importlib.import_module('slim_resnet.commands.' + command)

  def interrupted(args):
    raise KeyboardInterrupt
  monkeypatch.setattr(module, 'run', interrupted)
  argv = {'extract': ['extract', '--images', bad['one_by_one'], '--out',
                      str(tmp_path / 'f.npz')],
          'train': ['train', '--dataset', str(tmp_path), '--train-dir',
                    str(tmp_path / 'run')],
          'classify': ['classify', bad['one_by_one']]}[command]
  rc, _, err = run_cli(capsys, argv)
  assert rc == 130 and 'Traceback' not in err, err
  assert err.strip() == 'slim-resnet %s: interrupted%s' % (
      command, '; run the same command ' + hint if hint else '')


def test_a_checkpoint_mismatch_is_one_summary_line_then_the_report(capsys):
  """issue 26 item 11: the whole report was squeezed into one line of up to
  1.5 KB of variable names."""
  rc, _, err = run_cli(capsys, [
      'classify', os.path.join(os.path.dirname(__file__), '..', 'checkpoints',
                               SHIPPED, 'samples', 'digit_1.png'),
      '--model', 'resnet_v1_50'])
  assert_one_line(err, rc)
  summary, *report = err.rstrip('\n').splitlines()
  assert summary.startswith('slim-resnet classify: error: the graph does not '
                            'match the checkpoint')
  assert 'likely fix: ' in summary and 'build resnet_v1_18' in summary
  assert len(summary) < 400
  assert all(line.startswith('  ') for line in report)
  assert '  missing from the checkpoint (267):' in report
  assert any(line.strip().startswith('... ') and line.strip().endswith(
      ' more') for line in report)  # Capped, with a count.


def test_a_checkpoint_of_another_dtype_is_bad_input(tmp_path, capsys):
  """Review of issue 26: float16 weights exited 3 ('expected dtype float does
  not equal original dtype half') and ckpt check said ok."""
  import ckptutil  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from slim_resnet.checkpoints import fetch  # pylint: disable=g-import-not-at-top
  reader = tf.train.load_checkpoint(fetch.fetch_checkpoint(SHIPPED))
  values = {n: reader.get_tensor(n).astype(np.float16)
            for n in reader.get_variable_to_shape_map()}
  half = ckptutil.save(values, str(tmp_path / 'half' / 'model.ckpt'))
  for argv in (['ckpt', 'check', half, '--model', 'resnet_v1_18',
                '--num-classes', '10', '--depth-multiplier', '0.125'],
               ['classify', os.path.join(os.path.dirname(__file__), '..',
                                         'checkpoints', SHIPPED, 'samples',
                                         'digit_1.png'),
                '--checkpoint', half]):
    rc, out, err = run_cli(capsys, argv)
    assert_one_line(err, rc)
    assert 'as another dtype' in err and 'float16' in err, err
    assert not out.startswith('ok')


def test_a_truncated_record_file_is_one_readable_line(tmp_path, capsys):
  """Review of issue 26: a DataLossError gave 600 characters of 'Graph
  execution error: Detected at node ...' and no file name."""
  records = _records_with_a_corrupt_image(str(tmp_path / 'records'))
  shard = os.path.join(records, 'd_train_00000-of-00001.tfrecord')
  with open(shard, 'r+b') as f:
    f.truncate(os.path.getsize(shard) - 50)
  rc, _, err = run_cli(capsys, ['eval', '--checkpoint', SHIPPED, '--dataset',
                                records, '--split', 'train', '--no-progress'])
  assert_one_line(err, rc)
  assert records in err and 'Detected at node' not in err, err
  assert len(err) < 400, err


def test_export_output_file_takes_any_batch_size(tmp_path, capsys):
  """Review of issue 26: the memory pre-check refused a GraphDef's batch
  dimension, which allocates nothing."""
  rc, out, err = run_cli(capsys, ['export', '--model_name=resnet_v1_18',
                                  '--output_file=%s' % (tmp_path / 'g.pb'),
                                  '--batch_size=100000', '--image_size=224'])
  assert rc == 0, err
  rc, _, err = run_cli(capsys, ['train', '--dataset', str(tmp_path),
                                '--train-dir', str(tmp_path / 'r'),
                                '--preprocessing-options', '[1]'])
  assert_one_line(err, rc)
  assert 'expected a JSON object' in err
