"""precision='bfloat16': agreement with float32, fallback, export, training.

Small nets (the shipped digits checkpoint, resnet_v1_18 at depth_multiplier
0.125, 32 px, batch 2). No timing assertions.
"""
import json
import os

import numpy as np
import pytest

from slim_resnet.inference import precision as precision_lib

# bf16 keeps 8 bits of mantissa; logits of the shipped net stay within 5% of
# their scale (measured: ~1%).
REL_TOL = 0.05
needs_bf16 = pytest.mark.skipif(not precision_lib.cpu_bfloat16_support(),
                                reason='CPU without avx512_bf16/amx_bf16')


def _logits(precision):
  from slim_resnet.inference import classifier as inference  # pylint: disable=g-import-not-at-top
  from slim_resnet.data import images as images_lib  # pylint: disable=g-import-not-at-top
  import glob  # pylint: disable=g-import-not-at-top
  with inference.FeatureExtractor(end_points=['logits'] if False else None,
                                  batch_size=8, precision=precision) as fx:
    paths = sorted(glob.glob(os.path.join(
        os.path.dirname(fx.spec.checkpoint_path), 'samples', '*.png')))[:8]
    batch = np.stack([fx.preprocess(images_lib.load_image(p)) for p in paths])
    key = [k for k in fx.end_points if k.endswith('logits')][0]
    return fx.precision, fx.extract(batch, [key])[key].reshape(len(batch), -1)


@needs_bf16
def test_bf16_session_agrees_with_fp32_on_same_weights():
  fp32_precision, fp32 = _logits('float32')
  bf16_precision, bf16 = _logits('bfloat16')
  assert fp32_precision.name == 'float32' and bf16_precision.name == 'bfloat16'
  assert not np.array_equal(fp32, bf16)  # The rewrite did run.
  np.testing.assert_array_equal(fp32.argmax(1), bf16.argmax(1))
  assert np.abs(fp32 - bf16).max() <= REL_TOL * np.abs(fp32).max()


def test_fallback_message_without_bf16(monkeypatch, capsys):
  monkeypatch.setattr(precision_lib, 'cpu_bfloat16_support', lambda: [])
  monkeypatch.setattr(precision_lib, 'gpu_available', lambda: False)
  chosen = precision_lib.resolve('bfloat16')
  assert chosen.name == 'float32' and chosen.requested == 'bfloat16'
  err = capsys.readouterr().err
  assert err.count('\n') == 1 and 'avx512_bf16' in err and 'float32' in err
  with pytest.raises(precision_lib.PrecisionError, match='precision-strict'):
    precision_lib.resolve('bfloat16', strict=True)
  config = precision_lib.session_config(chosen)
  assert not config.graph_options.rewrite_options.\
      auto_mixed_precision_onednn_bfloat16


def test_auto_picks_float32_at_batch_1_for_session_graphs(monkeypatch):
  monkeypatch.setattr(precision_lib, 'cpu_bfloat16_support',
                      lambda: ['avx512_bf16'])
  monkeypatch.setattr(precision_lib, 'gpu_available', lambda: False)
  assert precision_lib.resolve('auto', batch_size=1).name == 'float32'
  assert precision_lib.resolve('auto', batch_size=16).name == 'bfloat16'
  assert precision_lib.resolve('auto', batch_size=1,
                               cast_once=True).name == 'bfloat16'


@needs_bf16
def test_export_bf16_records_it_and_saved_model_runs(tmp_path):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from slim_resnet.checkpoints import model_spec  # pylint: disable=g-import-not-at-top
  from slim_resnet.inference import export  # pylint: disable=g-import-not-at-top
  from slim_resnet.inference import export_check  # pylint: disable=g-import-not-at-top
  result = export.export_model(None, str(tmp_path / 'out'),
                               precision='bfloat16')
  info = json.load(open(tmp_path / 'out' / 'export.json'))
  assert info['precision'] == 'bfloat16'
  assert 'auto_mixed_precision_onednn_bfloat16' in info['session_config']
  batch = export_check.test_batch(model_spec.resolve_model(None), 'images')
  with tf.Graph().as_default() as graph, tf.compat.v1.Session(
      graph=graph, config=precision_lib.session_config('bfloat16')) as sess:
    tf.compat.v1.saved_model.loader.load(sess, ['serve'], result.saved_model)
    logits = sess.run('logits:0', {'images:0': batch})
  assert logits.shape == (2, 10) and np.all(np.isfinite(logits))


@needs_bf16
def test_bf16_frozen_graph_weights_mixed_constants_or_variables(tmp_path,
                                                                 monkeypatch):
  """In bf16 the frozen graph's weights are stored as bf16: by default
  ('mixed') the big ones as constants and the others as variables, or all as
  constants, or all as variables; all three give the same logits, near
  float32's."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from slim_resnet.inference import export  # pylint: disable=g-import-not-at-top
  from slim_resnet.inference import export_check  # pylint: disable=g-import-not-at-top
  from slim_resnet.inference import inference_graph  # pylint: disable=g-import-not-at-top
  from slim_resnet.checkpoints import model_spec  # pylint: disable=g-import-not-at-top
  # The shipped net's biggest weights (block4's 3x3 convs) have 36864 values.
  from slim_resnet.inference import frozen_weights  # pylint: disable=g-import-not-at-top
  monkeypatch.setattr(frozen_weights, 'MIXED_CONSTANT_ELEMENTS', 20000)
  result = export.export_model(None, str(tmp_path / 'out'), formats=['frozen'])
  batch = export_check.test_batch(model_spec.resolve_model(None), 'images')
  logits = {}
  for name, kwargs in (('fp32', {}), ('mixed', {'precision': 'bfloat16'}),
                       ('constants', {'precision': 'bfloat16',
                                      'weights': 'constants'}),
                       ('variables', {'precision': 'bfloat16',
                                      'weights': 'variables'})):
    with inference_graph.InferenceSession.from_file(
        result.frozen_graph, 'images', ['logits'], **kwargs) as run:
      logits[name], = run(batch)
      held = run.graph.as_graph_def()
    bf16 = tf.bfloat16.as_datatype_enum
    sizes = [int(np.prod(tf.make_ndarray(n.attr['value'].tensor).shape))
             for n in held.node
             if n.op == 'Const' and n.attr['dtype'].type == bf16]
    variables = [int(np.prod([d.size for d in n.attr['shape'].shape.dim]))
                 for n in held.node
                 if n.op == 'VariableV2' and n.attr['dtype'].type == bf16]
    if name == 'mixed':
      assert run.weights == 'mixed'
      assert sizes and variables
      assert min(sizes) >= 20000 > max(variables), (sizes, variables)
    elif name == 'constants':
      assert min(sizes) < 20000 and not variables
    elif name == 'variables':
      assert not sizes and variables
  np.testing.assert_array_equal(logits['mixed'], logits['constants'])
  np.testing.assert_array_equal(logits['mixed'], logits['variables'])
  fp32 = logits['fp32']
  assert np.abs(logits['mixed'] - fp32).max() <= REL_TOL * np.abs(fp32).max()


@needs_bf16
def test_bf16_training_checkpoint_is_float32_and_restores_into_fp32(tmp_path):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from slim_resnet.inference import classifier as inference  # pylint: disable=g-import-not-at-top
  from slim_resnet import train as training  # pylint: disable=g-import-not-at-top
  import digitsutil  # pylint: disable=g-import-not-at-top
  data = tmp_path / 'digits'
  digitsutil.write_folder(data, per_class=4)
  result = training.train(training.TrainConfig(
      train_dir=str(tmp_path / 'run'), dataset=str(data),
      checkpoint='digits_resnet_v1_18',
      checkpoint_exclude_scopes=['resnet_v1_18/logits'], batch_size=2,
      max_steps=3, save_checkpoint_steps=3, progress=False,
      precision='bfloat16', precision_strict=True))
  assert result.precision == 'bfloat16'
  reader = tf.compat.v1.train.NewCheckpointReader(result.checkpoint_path)
  dtypes = reader.get_variable_to_dtype_map()
  weights = [n for n in dtypes if n.endswith('weights')]
  assert weights and all(dtypes[n] == tf.float32 for n in dtypes
                         if n != 'global_step'), dtypes
  with inference.Classifier(str(tmp_path / 'run'),
                            precision='float32') as classifier:
    assert classifier.precision.name == 'float32'
    (top,) = classifier.classify(np.zeros([1, 32, 32, 3], np.uint8), top_k=1)
    assert np.isfinite(top[0][1])
