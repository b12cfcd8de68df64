"""The command line: --help without TensorFlow, flags checked before it loads,
TensorFlow's start-up lines hidden, help text complete, research/slim's
command lines run verbatim, a finished train is left alone, exports readable
by other users."""
import argparse
import hashlib
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import digitsutil
from slim_resnet import cli
from slim_resnet.commands import quiet
from slim_resnet.data import tfrecords

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, PYTHONPATH=ROOT)
ENV.pop('TF_CPP_MIN_LOG_LEVEL', None)  # As a user's shell has it.


def _python(code, **kwargs):
  return subprocess.run([sys.executable, '-c', code], capture_output=True,
                        text=True, timeout=300, env=ENV, cwd=ROOT, **kwargs)


def test_help_of_every_command_loads_no_tensorflow():
  done = _python('''
import sys
from slim_resnet import cli
for argv in [['--help']] + [[c, '--help'] for c in cli.COMMANDS] + [
    ['ckpt', 'check', '--help'], ['data', 'convert', '--help']]:
  try:
    cli.main(argv)
  except SystemExit as e:
    assert e.code == 0, (argv, e.code)
  heavy = [m for m in ('tensorflow', 'tf_slim', 'slim_resnet.train.loop',
                       'slim_resnet.nets_factory') if m in sys.modules]
  assert not heavy, (argv, heavy)
print('ok')
''')
  assert done.returncode == 0, done.stderr[-3000:]
  assert done.stdout.endswith('ok\n')


BAD_FLAGS = [
    (['classify', 'x.png', '--batch-size', '0'], '--batch-size'),
    (['classify', 'x.png', '--top-k', '0'], '--top-k'),
    (['classify', 'x.png', '--num-classes', '0'], '--num-classes'),
    (['summary', 'resnet_v1_18', '--num-classes', '0'], '--num-classes'),
    (['extract', '--images', 'x', '--out', 'o', '--batch-size', '-1'],
     '--batch-size'),
    (['train', '--train-dir', 't', '--dataset', '.', '--max-steps', '0'],
     '--max-steps'),
    (['train', '--train_dir', 't', '--dataset_dir', '.', '--batch_size', '0'],
     '--batch_size'),
    (['train', '--train-dir', 't', '--dataset', '/no/such/data'],
     '--dataset'),
    (['eval', '--checkpoint', 'c', '--dataset', '/no/such/data'],
     '--dataset'),
    (['export', '--out', 'o', '--image-size', '0'], '--image-size'),
]


def test_bad_numbers_and_paths_fail_before_tensorflow_loads():
  done = _python('''
import sys
from slim_resnet import cli
for argv, flag in %r:
  try:
    cli.main(argv)
  except SystemExit as e:
    assert e.code == 2, (argv, e.code)
  else:
    raise AssertionError(argv)
  assert 'tensorflow' not in sys.modules, argv
print('ok')
''' % (BAD_FLAGS,))
  assert done.returncode == 0, done.stderr[-3000:]
  lines = [l for l in done.stderr.splitlines() if 'error:' in l]
  assert len(lines) == len(BAD_FLAGS), done.stderr
  for line, (_, flag) in zip(lines, BAD_FLAGS):
    assert flag in line and ('>= 1' in line or 'does not exist' in line), line


def _subparsers(parser, prefix=()):
  """(command words, parser) of every (sub)command."""
  yield prefix, parser
  for action in parser._actions:  # pylint: disable=protected-access
    if isinstance(action, argparse._SubParsersAction):  # pylint: disable=protected-access
      for name, sub in action.choices.items():
        yield from _subparsers(sub, prefix + (name,))


def test_every_flag_is_described_and_defaults_read_once():
  problems = []
  for words, parser in _subparsers(cli.build_parser()):
    text = parser.format_help()
    for bad in ('(default: None)', '(default: ())', '(default: [])',
                'Every option'):
      if bad in text:
        problems.append('%s: %s' % (' '.join(words), bad))
    for action in parser._actions:  # pylint: disable=protected-access
      if action.help == argparse.SUPPRESS or isinstance(
          action, argparse._SubParsersAction):  # pylint: disable=protected-access
        continue
      name = '/'.join(action.option_strings) or action.dest
      if not action.help:
        problems.append('%s %s: no help' % (' '.join(words), name))
      elif action.help.count('(default:') > 1:
        problems.append('%s %s: two defaults' % (' '.join(words), name))
  assert not problems, '\n'.join(problems)


def test_startup_lines_are_dropped_at_the_file_descriptor():
  """What C++ writes to fd 2 before logging is set up, as TF writes it."""
  done = _python(r'''
import os, sys
from slim_resnet.commands import quiet
with quiet.filtered_stderr():
  os.write(2, b'WARNING: All log messages before absl::InitializeLog() is '
              b'called are written to STDERR\n')
  os.write(2, b'E0000 00:00:1 2 cuda_executor.cc:1] failed call to cuInit: '
              b'UNKNOWN ERROR (303)\n')
  os.write(2, b'I0000 00:00:1 2 port.cc:153] oneDNN custom operations are '
              b'on. You may see slightly different numerical results\n')
  os.write(2, b'a real error\n')
  print('from python', file=sys.stderr)
  os.write(2, b'partial')
print('after', file=sys.stderr)
''')
  assert done.returncode == 0
  assert done.stderr == 'a real error\nfrom python\npartialafter\n'


def test_classify_prints_no_tensorflow_startup_lines():
  sample = os.path.join(ROOT, 'checkpoints', 'digits_resnet_v1_18', 'samples',
                        'digit_3.png')
  done = subprocess.run(
      [sys.executable, '-m', 'slim_resnet.cli', 'classify', sample,
       '--top-k', '1'], capture_output=True, text=True, timeout=600, env=ENV)
  assert done.returncode == 0, done.stderr[-3000:]
  assert done.stderr == '', done.stderr
  assert not quiet.STARTUP_LINES.search(done.stdout)
  assert re.search(r'digit_3\.png\s+1\s+3\s', done.stdout), done.stdout


# research/slim -----------------------------------------------------------

@pytest.fixture(scope='module')
def records(tmp_path_factory):
  folder = tmp_path_factory.mktemp('digits')
  digitsutil.write_folder(folder, per_class=20)  # 100 images, 5 classes.
  out = tmp_path_factory.mktemp('records')
  tfrecords.convert_image_folder(str(folder), str(out), name='digits')
  return str(out)


def _digest(directory):
  return {name: hashlib.sha256(open(os.path.join(directory, name),
                                    'rb').read()).hexdigest()
          for name in sorted(os.listdir(directory))
          if os.path.isfile(os.path.join(directory, name))}


@pytest.fixture(scope='module')
def slim_run(records, tmp_path_factory):
  """A train_image_classifier.py command line, flag for flag."""
  train_dir = str(tmp_path_factory.mktemp('train'))
  argv = ('train --train_dir=%s --dataset_name=flowers '
          '--dataset_split_name=train --dataset_dir=%s '
          '--model_name=resnet_v1_18 --checkpoint_path=digits_resnet_v1_18 '
          '--checkpoint_exclude_scopes=resnet_v1_18/logits '
          '--trainable_scopes=resnet_v1_18/logits --max_number_of_steps=3 '
          '--batch_size=4 --learning_rate=0.5 '
          '--learning_rate_decay_type=fixed --optimizer=adagrad '
          '--adagrad_initial_accumulator_value=0.2 --save_interval_secs=600 '
          '--save_summaries_secs=600 --log_every_n_steps=1 '
          '--weight_decay=0.00004 --num_readers=2 '
          '--num_preprocessing_threads=2 --clone_on_cpu=True '
          '--ignore_missing_vars=False --no-progress' % (
              train_dir, records)).split()
  assert cli.main(argv) == 0
  return train_dir, argv


def test_slim_train_command_line_trains_with_its_meaning(slim_run):
  train_dir, _ = slim_run
  reader = tf.train.load_checkpoint(os.path.join(train_dir, 'model.ckpt-3'))
  names = reader.get_variable_to_shape_map()
  # --optimizer=adagrad with its accumulator flag; only the logits train.
  accumulators = [n for n in names if n.endswith('/Adagrad')]
  assert accumulators and all('/logits/' in n for n in accumulators)
  assert np.all(reader.get_tensor(
      'resnet_v1_18/logits/biases/Adagrad') > 0.2)
  shipped = tf.train.load_checkpoint(
      os.path.join(ROOT, 'checkpoints', 'digits_resnet_v1_18', 'model.ckpt'))
  name = 'resnet_v1_18/conv1/weights'
  np.testing.assert_array_equal(reader.get_tensor(name),
                                shipped.get_tensor(name))
  assert reader.get_tensor('global_step') == 3
  assert reader.get_tensor('resnet_v1_18/logits/biases').shape == (5,)


def test_rerunning_a_finished_train_changes_nothing(slim_run, capsys):
  train_dir, argv = slim_run
  before = _digest(train_dir)
  capsys.readouterr()
  assert cli.main(argv) == 0
  assert 'nothing to do' in capsys.readouterr().out
  assert _digest(train_dir) == before


def test_slim_eval_command_line(slim_run, records, tmp_path, capsys):
  train_dir, _ = slim_run
  eval_dir = tmp_path / 'eval'
  capsys.readouterr()
  assert cli.main((
      'eval --checkpoint_path=%s --eval_dir=%s --dataset_name=flowers '
      '--dataset_split_name=validation --dataset_dir=%s '
      '--model_name=resnet_v1_18 --batch_size=3 --max_num_batches=2 '
      '--eval_image_size=32 --preprocessing_name=vgg --labels_offset=0 '
      '--num_preprocessing_threads=2 --no-progress' % (
          train_dir, eval_dir, records)).split()) == 0
  out = capsys.readouterr().out
  assert 'model.ckpt-3 (step 3): 6 images' in out  # 2 batches of 3.
  assert [f for f in os.listdir(eval_dir) if f.startswith('events.')]


def test_export_flags_and_a_readable_export(tmp_path, capsys):
  """export_inference_graph.py's --image_size / --batch_size shape the
  input; the export's folders and files get the umask's modes."""
  old = os.umask(0o022)
  try:
    out = tmp_path / 'exported'
    assert cli.main(['export', '--out', str(out), '--image_size=40',
                     '--batch_size=2']) == 0
  finally:
    os.umask(old)
  graph = tf.compat.v1.GraphDef()
  graph.ParseFromString((out / 'frozen_graph.pb').read_bytes())
  images, = [n for n in graph.node if n.name == 'images']
  assert [d.size for d in images.attr['shape'].shape.dim] == [2, 40, 40, 3]
  assert os.stat(out).st_mode & 0o777 == 0o755
  for folder, folders, files in os.walk(out):
    for name in folders:
      assert os.stat(os.path.join(folder, name)).st_mode & 0o777 == 0o755
    for name in files:
      assert os.stat(os.path.join(folder, name)).st_mode & 0o777 == 0o644


def test_use_grayscale_feeds_three_equal_gray_channels():
  """--use_grayscale: ITU-R 601 luma (research/slim's rgb_to_grayscale),
  repeated so 3-channel checkpoints fit."""
  from slim_resnet.train import inputs  # pylint: disable=g-import-not-at-top
  image = np.random.RandomState(0).randint(0, 256, [4, 5, 3]).astype(np.uint8)
  with tf.Graph().as_default():
    out = inputs.grayscale(lambda im: tf.cast(im, tf.float32))(
        tf.constant(image))
    with tf.compat.v1.Session() as session:
      got = session.run(out)
  want = image.astype(np.float64) @ [0.2989, 0.5870, 0.1140]
  assert got.shape == (4, 5, 3)
  for channel in range(3):
    np.testing.assert_allclose(got[..., channel], want, atol=1.0)


def test_train_takes_preprocessing_options_as_every_command(capsys):
  """issue 26 item 13: train took only --preprocessing-options JSON, every
  other command --preprocessing-option KEY=VALUE."""
  from slim_resnet.commands import train  # pylint: disable=g-import-not-at-top
  parser = cli.build_parser()
  base = ['train', '--dataset', ROOT, '--train-dir', 'x']
  args = parser.parse_args(base + ['--preprocessing-option',
                                   'resize_side_min=32',
                                   '--preprocessing-option',
                                   'resize_side_max=40'])
  config = train.config_from_args(args)
  assert config.preprocessing_options == {'resize_side_min': 32,
                                          'resize_side_max': 40}
  assert capsys.readouterr().err == ''
  # The old JSON form still works, with a note naming the new one.
  args = parser.parse_args(base + ['--preprocessing-options',
                                   '{"resize_side_min": 32}'])
  assert train.config_from_args(args).preprocessing_options == {
      'resize_side_min': 32}
  assert '--preprocessing-option KEY=VALUE' in capsys.readouterr().err
  assert train.config_from_args(parser.parse_args(base)).preprocessing_options \
      is None
