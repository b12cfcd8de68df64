"""Benchmark slim_resnet against its peers, side by side, in one run.

    python scripts/benchmark.py [--quick] [--models a,b] [--batch-sizes 1,16]
        [--image-size 224] [--iterations 20] [--device /CPU:0] [--json OUT]
        [--precision float32,bfloat16,int8] [--repeats 1]
        [--runtimes onnxruntime,openvino,tflite]

Rows (each where installed): our resnet_v1_50 / resnet_v2_50 graphs under the
default arg_scope; our optimized inference graph (batch norm folded into the
convolutions: the net built with use_batch_norm=False, as
slim_resnet.inference.batch_norm_folding.restore_folded loads it); tf-slim's reference nets
(tf_slim.nets); Keras 3 `keras.applications.ResNet50(weights=None)` and
tf_keras's. `--models slim_resnet_v1_50_frozen` adds the frozen-GraphDef
export path (inference_graph.optimized_graph_def), measured in a fresh process
that loads only the file (inference_graph.InferenceSession.from_file). Each row runs
in its own process, so that peak memory (RSS) is its own. Same random inputs
[batch, size, size, 3] float32 for all; warm-up runs, then timed ones.

--precision float32,bfloat16 adds the bf16 rows (slim_resnet.inference.precision:
grappler's auto_mixed_precision_onednn_bfloat16 rewrite): our session graph
(variables cast to bf16 on every run; its training step is bf16 mixed
precision, float32 variables and loss), the frozen folded graph (weights
stored as bf16 once: its default, weights='mixed', and all constants) next to
its float32 twin, and Keras 3 under the
'mixed_bfloat16' policy. Each bf16 row also reports, on the same random
weights and the same inputs (the largest batch), its logits against the same
model in float32, computed in the same process after the timings and the
memory: max and mean |logit difference|, the max relative to max |logit|, and
the top-1 agreement (Keras: the logs of its softmax outputs, which are the
logits up to a constant per image). Random weights are a harsher test than trained ones
(near-tied logits); eval --precision bfloat16 gives top-1 on real data.

--runtimes onnxruntime,openvino,tflite adds one row per runtime and
--precision it has, named <runtime>_<precision> (e.g. openvino_int8): the
same random resnet_v1_50 exported by slim_resnet.inference.export in that
runtime's format (onnx, openvino, tflite; int8 calibrated on a few random
images, the accuracy gate accepted: random weights give near-tied logits),
timed in a fresh process that only loads the export (inference.runtimes),
with the agreement columns against the float32 session graph of the same
checkpoint. The 'instructions' line names the best instruction set the CPU
offers for the precision each row ran (AMX, VNNI, AVX-512, AVX2), from
/proc/cpuinfo's flags.

Columns: images/s of inference at each batch size; images/s of a training
step at the largest batch size (forward + backward + momentum update, batch
norm in training mode); graph build time; checkpoint restore time; peak RSS.
Every figure is also printed as a ratio to the tf-slim reference of the same
version measured in the same run.

GFLOP/img is TensorFlow's count for our graph (2 FLOPs per multiply-add).
The machine's peak is estimated from the CPU flags of /proc/cpuinfo as cores
x clock x FLOPs per cycle: float32 with avx512f 2 FMA units x 16 lanes x 2 =
64 (AVX2+FMA: 2 x 8 x 2 = 32); bfloat16 with avx512_bf16 twice the avx512
float32 figure (VDPBF16PS: 32 bf16 pairs per instruction), 128; with
amx_bf16, 1024 (one AMX tile multiply per cycle; a nominal figure). 'of peak'
is achieved GFLOP/s over the peak of the row's precision.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

from slim_resnet.commands import quiet  # No TensorFlow: its log levels.
from slim_resnet.inference import runtimes as runtimes_lib  # Tables only.

quiet.set_log_levels()

ROWS = {
    # name: (kind, version[, precision[, frozen graph's weights]])
    'slim_resnet_v1_50': ('ours', 'v1'),
    'slim_resnet_v1_50_optimized': ('folded', 'v1'),
    'tf_slim_v1_50': ('reference', 'v1'),
    'slim_resnet_v2_50': ('ours', 'v2'),
    'slim_resnet_v2_50_optimized': ('folded', 'v2'),
    'tf_slim_v2_50': ('reference', 'v2'),
    'keras3_ResNet50': ('keras3', 'v1'),
    'tf_keras_ResNet50': ('tf_keras', 'v1'),
    # Not measured by default (--models, or --precision with bfloat16): the
    # frozen GraphDef export path (batch norm folded).
    'slim_resnet_v1_50_frozen': ('frozen', 'v1'),
    # --precision bfloat16: grappler's bf16 rewrite. The session graph casts
    # its variables to bf16 on every run; the frozen graph's weights are
    # stored as bf16 once: its default ('mixed': the big ones constants, the
    # rest variables) and all constants. Keras 3 under its 'mixed_bfloat16'
    # policy.
    'slim_resnet_v1_50_bf16': ('ours', 'v1', 'bfloat16'),
    'slim_resnet_v1_50_frozen_bf16': ('frozen', 'v1', 'bfloat16'),
    'slim_resnet_v1_50_frozen_bf16_constants': ('frozen', 'v1', 'bfloat16',
                                                'constants'),
    'keras3_ResNet50_bf16': ('keras3', 'v1', 'bfloat16'),
}
# --runtimes: <runtime>_<precision> rows, an export of the same random
# resnet_v1_50 (inference.export, --format of the runtime) run on that
# runtime (inference.runtimes). bf16 only where the runtime has it.
EXPORT_FORMATS = {r: f for f, r in runtimes_lib.CONVERTED.items()}
EXPORT_PRECISIONS = {r: runtimes_lib.PRECISIONS[f]
                     for r, f in EXPORT_FORMATS.items()}
for _runtime, _precisions in EXPORT_PRECISIONS.items():
  for _precision in _precisions:
    ROWS['%s_%s' % (_runtime, _precision)] = ('export', 'v1', _precision,
                                              _runtime)
DEFAULT_ROWS = [name for name, spec in ROWS.items()
                if spec[0] != 'frozen' and len(spec) == 2]
PRECISION_ROWS = {
    'bfloat16': ['slim_resnet_v1_50_frozen', 'slim_resnet_v1_50_bf16',
                 'slim_resnet_v1_50_frozen_bf16',
                 'slim_resnet_v1_50_frozen_bf16_constants',
                 'keras3_ResNet50_bf16'],
}
REFERENCE = {'v1': 'tf_slim_v1_50', 'v2': 'tf_slim_v2_50'}
AGREEMENT = ('max_abs_logit_diff', 'mean_abs_logit_diff', 'rel_logit_diff',
             'top1_agreement')


def row_precision(name):
  return (ROWS[name][2:] or ('float32',))[0]


def row_weights(name):
  """A frozen row's InferenceSession weights= (None: its default)."""
  return (ROWS[name][3:] or (None,))[0]


# The instructions the CPU offers for each precision, best first (what the
# runtimes' kernels pick: oneDNN in TensorFlow and OpenVINO, MLAS in
# onnxruntime, XNNPACK in TFLite).
ISA = {'int8': (('amx_int8', 'AMX-INT8'), ('avx512_vnni', 'AVX512-VNNI'),
                ('avx_vnni', 'AVX-VNNI'), ('avx512bw', 'AVX-512'),
                ('avx2', 'AVX2')),
       'bfloat16': (('amx_bf16', 'AMX-BF16'), ('avx512_bf16', 'AVX512-BF16')),
       'float32': (('avx512f', 'AVX-512'), ('avx2', 'AVX2'))}


def best_isa(precision, flags):
  """The best instruction set of ISA[precision] in the CPU flags, or '-'."""
  return next((name for flag, name in ISA.get(precision, ())
               if flag in flags), '-')
METRICS = ('build_s', 'restore_s', 'peak_rss_mb')  # lower is better


def _timed_rate(fn, batch, warmup, iterations):
  """Images per second of fn() over `iterations` calls after warm-up."""
  for _ in range(warmup):
    fn()
  start = time.perf_counter()
  for _ in range(iterations):
    fn()
  return batch * iterations / (time.perf_counter() - start)


def _peak_rss_mb():
  """This process's peak RSS in MB: VmHWM of /proc/self/status.

  Not getrusage's ru_maxrss: Linux carries that over exec from the process
  that forked us (a worker spawning the frozen-graph process would pass on
  its own peak, graph and all).
  """
  try:
    with open('/proc/self/status') as f:
      for line in f:
        if line.startswith('VmHWM:'):
          return float(line.split()[1]) / 1024.0
  except OSError:
    pass
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _inference_rates(run, args):
  """infer_b<N> images/s of run(batch) for each batch size, and peak RSS."""
  result = {}
  rng = np.random.RandomState(0)
  for batch in args.batch_sizes:
    x = rng.uniform(-1, 1, [batch, args.image_size, args.image_size, 3]
                    ).astype(np.float32)
    result['infer_b%d' % batch] = _timed_rate(lambda: run(x), batch,
                                              args.warmup, args.iterations)
  result['peak_rss_mb'] = _peak_rss_mb()
  return result


# Workers: one row, in this process. Each returns a dict of measurements.

def _slim_builder(kind, version):
  import slim_resnet  # pylint: disable=g-import-not-at-top,unused-import
  if kind == 'reference':
    from tf_slim.nets import resnet_v1, resnet_v2  # pylint: disable=g-import-not-at-top
  else:
    from slim_resnet import resnet_v1, resnet_v2  # pylint: disable=g-import-not-at-top
  module = resnet_v1 if version == 'v1' else resnet_v2
  fn = getattr(module, 'resnet_%s_50' % version)
  kwargs = {} if kind == 'reference' else {'spatial_squeeze': False}
  return module, fn, kwargs


def _session_config(precision):
  from slim_resnet.inference import precision as precision_lib  # pylint: disable=g-import-not-at-top
  return precision_lib.session_config(precision)


def _agreement(logits, reference):
  """Accuracy columns of lowered-precision logits against float32 ones."""
  logits = np.asarray(logits, np.float64)
  reference = np.asarray(reference, np.float64)
  diff = np.abs(logits - reference)
  return {'max_abs_logit_diff': float(diff.max()),
          'mean_abs_logit_diff': float(diff.mean()),
          'rel_logit_diff': float(diff.max() / max(np.abs(reference).max(),
                                                   1e-12)),
          'top1_agreement': float(np.mean(
              logits.argmax(1) == reference.argmax(1)))}


def _agreement_inputs(args):
  return np.random.RandomState(2).uniform(
      -1, 1, [max(args.batch_sizes), args.image_size, args.image_size, 3]
  ).astype(np.float32)


def _build_slim(kind, version, image_size, is_training, device):
  """Builds a slim graph; kind 'folded' has no conv batch norms (batch_norm_folding)."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  import tf_slim as slim  # pylint: disable=g-import-not-at-top
  module, fn, kwargs = _slim_builder(kind, version)
  graph = tf.Graph()
  start = time.perf_counter()
  with graph.as_default(), tf.compat.v1.device(device):
    images = tf.compat.v1.placeholder(
        tf.float32, [None, image_size, image_size, 3], name='images')
    options = {'use_batch_norm': False} if kind == 'folded' else {}
    with slim.arg_scope(module.resnet_arg_scope(**options)):
      logits, _ = fn(images, 1000, is_training=is_training, **kwargs)
    logits = tf.identity(tf.squeeze(logits, [1, 2]), name='logits')
  return graph, images, logits, time.perf_counter() - start


def run_slim_row(kind, version, args, precision='float32'):
  """Measures a slim graph (ours, optimized, or the reference)."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from slim_resnet.inference import inference_graph as optimize  # pylint: disable=g-import-not-at-top
  result = {}
  graph, images, logits, result['build_s'] = _build_slim(
      kind, version, args.image_size, False, args.device)
  tmp = tempfile.TemporaryDirectory()
  with graph.as_default():
    saver = tf.compat.v1.train.Saver()
    init = tf.compat.v1.Session(graph=graph)
    init.run(tf.compat.v1.global_variables_initializer())
    path = saver.save(init, os.path.join(tmp.name, 'model.ckpt'))
    if kind == 'frozen':
      sess = init
    else:
      init.close()
      sess = tf.compat.v1.Session(graph=graph,
                                  config=_session_config(precision))
    start = time.perf_counter()
    saver.restore(sess, path)
    result['restore_s'] = time.perf_counter() - start
  if kind == 'frozen':
    # Freeze and fold here; measure inference in a fresh process that only
    # loads the frozen graph, as a serving process would.
    start = time.perf_counter()
    with graph.as_default():
      graph_def = optimize.optimized_graph_def(sess, 'images', ['logits'])
    result['optimize_s'] = time.perf_counter() - start
    sess.close()
    frozen = os.path.join(tmp.name, 'frozen.pb')
    with open(frozen, 'wb') as f:
      f.write(graph_def.SerializeToString())
    del graph_def, graph
    result.update(_run_worker(args.worker, args, ['--frozen', frozen]))
    tmp.cleanup()
    return result
  result.update(_inference_rates(lambda x: sess.run(logits, {images: x}),
                                 args))
  if precision != 'float32':
    x = _agreement_inputs(args)
    lowered = sess.run(logits, {images: x})
    with tf.compat.v1.Session(graph=graph) as fp32:
      saver.restore(fp32, path)
      result.update(_agreement(lowered, fp32.run(logits, {images: x})))
  sess.close()
  tmp.cleanup()
  if kind == 'ours' or kind == 'reference':
    result['train_b%d' % max(args.batch_sizes)] = _slim_train_rate(
        kind, version, args, precision)
  return result


def run_frozen_row(args, precision='float32', weights=None):
  """Inference rates and peak memory of a frozen GraphDef file."""
  from slim_resnet.inference import inference_graph as optimize  # pylint: disable=g-import-not-at-top
  with optimize.InferenceSession.from_file(
      args.frozen, 'images', ['logits'], device=args.device,
      precision=precision, strict=True, weights=weights) as run:
    result = _inference_rates(run, args)
    result['weights'] = run.weights
    if precision != 'float32':
      x = _agreement_inputs(args)
      lowered, = run(x)
  if precision != 'float32':
    with optimize.InferenceSession.from_file(
        args.frozen, 'images', ['logits'], device=args.device) as fp32:
      result.update(_agreement(lowered, fp32(x)[0]))
  return result


def _slim_train_rate(kind, version, args, precision='float32'):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  graph, images, logits, _ = _build_slim(kind, version, args.image_size, True,
                                         args.device)
  batch = max(args.batch_sizes)
  with graph.as_default():
    labels = tf.compat.v1.placeholder(tf.int64, [None])
    loss = tf.compat.v1.losses.sparse_softmax_cross_entropy(labels, logits)
    with tf.control_dependencies(tf.compat.v1.get_collection(
        tf.compat.v1.GraphKeys.UPDATE_OPS)):
      train_op = tf.compat.v1.train.MomentumOptimizer(0.01, 0.9).minimize(
          tf.compat.v1.losses.get_total_loss())
    init = tf.compat.v1.global_variables_initializer()
  with tf.compat.v1.Session(graph=graph,
                            config=_session_config(precision)) as sess:
    sess.run(init)
    feed = {images: np.random.RandomState(1).uniform(
        -1, 1, [batch, args.image_size, args.image_size, 3]),
            labels: np.arange(batch) % 1000}
    return _timed_rate(lambda: sess.run(train_op, feed), batch, args.warmup,
                       args.iterations)


def run_keras_row(kind, args, precision='float32'):
  """Measures keras.applications.ResNet50 (Keras 3 or tf_keras)."""
  if kind == 'tf_keras':
    import tf_keras as keras  # pylint: disable=g-import-not-at-top
  else:
    import keras  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  if precision == 'bfloat16':
    keras.mixed_precision.set_global_policy('mixed_bfloat16')
  result = {}
  with tf.device(args.device or '/CPU:0' if not tf.config.list_physical_devices(
      'GPU') else args.device or '/GPU:0'):
    start = time.perf_counter()
    model = keras.applications.ResNet50(
        weights=None, input_shape=(args.image_size, args.image_size, 3))
    infer = tf.function(lambda x: model(x, training=False))
    result['build_s'] = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
      path = os.path.join(tmp, 'model.weights.h5')
      model.save_weights(path)
      start = time.perf_counter()
      model.load_weights(path)
      result['restore_s'] = time.perf_counter() - start
    rng = np.random.RandomState(0)
    for batch in args.batch_sizes:
      x = tf.constant(rng.uniform(
          -1, 1, [batch, args.image_size, args.image_size, 3]).astype(
              np.float32))
      result['infer_b%d' % batch] = _timed_rate(
          lambda: infer(x).numpy(), batch, args.warmup, args.iterations)
    result['peak_rss_mb'] = _peak_rss_mb()
    if precision != 'float32':
      keras.mixed_precision.set_global_policy('float32')
      fp32 = keras.applications.ResNet50(
          weights=None, input_shape=(args.image_size, args.image_size, 3))
      fp32.set_weights(model.get_weights())
      x = _agreement_inputs(args)
      # Its outputs are softmax probabilities: compare their logs (the
      # logits up to a constant per image).
      log = lambda p: np.log(np.maximum(np.asarray(p, np.float64), 1e-30))
      result.update(_agreement(log(model(x, training=False)),
                               log(fp32(x, training=False))))
      del fp32
      keras.mixed_precision.set_global_policy('mixed_bfloat16')
    batch = max(args.batch_sizes)
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
                  loss='sparse_categorical_crossentropy', jit_compile=False)
    x = rng.uniform(-1, 1, [batch, args.image_size, args.image_size, 3]
                    ).astype(np.float32)
    y = np.arange(batch) % 1000
    result['train_b%d' % batch] = _timed_rate(
        lambda: model.train_on_batch(x, y), batch, args.warmup,
        args.iterations)
  return result


def _random_checkpoint(directory, image_size):
  """Our resnet_v1_50 (1000 classes) with random weights, saved; returns
  the checkpoint prefix."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  graph, _, _, _ = _build_slim('ours', 'v1', image_size, False, None)
  with graph.as_default():
    saver = tf.compat.v1.train.Saver()
    with tf.compat.v1.Session(graph=graph) as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      return saver.save(sess, os.path.join(directory, 'model.ckpt'))


def _random_images(directory, count, size):
  """`count` PNG files of smooth random color, for int8 calibration."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  rng = np.random.RandomState(5)
  os.makedirs(directory)
  for i in range(count):
    small = rng.randint(0, 256, [4, 4, 3]).astype(np.uint8)
    Image.fromarray(small).resize((size + 32, size + 32), Image.BILINEAR).save(
        os.path.join(directory, '%03d.png' % i))
  return directory


def run_export_row(runtime, precision, args):
  """An export of a random resnet_v1_50 on `runtime`: written here, timed
  in a fresh process that only loads it, then its logits against the
  float32 session graph on the agreement inputs."""
  from slim_resnet.inference import runtimes  # pylint: disable=g-import-not-at-top
  if args.export_dir:  # The timing process.
    model = runtimes.load(args.export_dir, runtime, strict=True)
    return dict(_inference_rates(model.run, args), precision_ran=(
        model.precision.name))
  from slim_resnet.inference import export, export_graph  # pylint: disable=g-import-not-at-top
  result = {}
  tmp = tempfile.TemporaryDirectory()
  prefix = _random_checkpoint(tmp.name, args.image_size)
  calibration = None
  count = 6 if args.quick else 40
  if precision == 'int8':
    calibration = _random_images(os.path.join(tmp.name, 'calibration'),
                                 count, args.image_size)
  fields = dict(model='resnet_v1_50', num_classes=1000,
                image_size=args.image_size, preprocessing='vgg')
  start = time.perf_counter()
  # Random weights give near-tied logits: the figures go into the row
  # (agreement columns) instead of failing the export.
  exported = export.export_model(
      prefix, os.path.join(tmp.name, 'export'),
      format=EXPORT_FORMATS[runtime], precision=precision,
      precision_strict=True, calibration=calibration,
      calibration_size=count - count // 4, check_size=count // 4,
      accept_accuracy_drop=True, **fields)
  result['export_s'] = time.perf_counter() - start
  result.update(_run_worker(args.worker, args,
                            ['--export-dir', exported.export_dir]))
  x = _agreement_inputs(args)
  model = runtimes.load(exported.export_dir, runtime)
  lowered = model.run(x)['logits']
  model.close()
  from slim_resnet.checkpoints import model_spec  # pylint: disable=g-import-not-at-top
  spec = model_spec.resolve_model(prefix, **fields)
  with export_graph.LoadedGraph(spec, 'images', [], False) as reference:
    result.update(_agreement(lowered, reference.run(x)['logits']))
  tmp.cleanup()
  return result


def run_row(name, args):
  kind, version = ROWS[name][:2]
  precision = row_precision(name)
  if kind == 'export':
    return run_export_row(ROWS[name][3], precision, args)
  if args.frozen:
    return run_frozen_row(args, precision, row_weights(name))
  if kind in ('keras3', 'tf_keras'):
    return run_keras_row(kind, args, precision)
  return run_slim_row(kind, version, args, precision)


# The parent: one subprocess per row, then the table.

def _run_worker(name, args, extra=()):
  """Runs one row in a new Python process; returns its measurements."""
  command = [sys.executable, os.path.abspath(__file__), '--worker', name,
             '--batch-sizes', ','.join(map(str, args.batch_sizes)),
             '--image-size', str(args.image_size),
             '--iterations', str(args.iterations), '--warmup', str(args.warmup)]
  if args.device:
    command += ['--device', args.device]
  proc = subprocess.run(command + list(extra), capture_output=True, text=True,
                        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'),
                        check=False)
  if proc.returncode != 0:
    raise RuntimeError(' | '.join(proc.stderr.strip().splitlines()[-1:]))
  return json.loads(proc.stdout.strip().splitlines()[-1])


def _cpu_flags():
  from slim_resnet.inference import precision as precision_lib  # pylint: disable=g-import-not-at-top
  return precision_lib.cpu_flags()


def available(name):
  kind = ROWS[name][0]
  module = {'keras3': 'keras', 'tf_keras': 'tf_keras'}.get(kind, 'tf_slim')
  if kind == 'export':
    module = {'onnxruntime': 'tf2onnx', 'openvino': 'nncf'}.get(
        ROWS[name][3], 'tensorflow')
  try:
    __import__(module)
    return True
  except ImportError:
    return False


def gflops_per_image(version, image_size):
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
  from slim_resnet import summary  # pylint: disable=g-import-not-at-top
  _, totals = summary.summarize('resnet_%s_50' % version,
                                image_size=image_size)
  return totals.flops / 1e9


def flops_per_cycle(flags):
  """{precision: FLOPs per cycle per core} from the CPU flags (a set)."""
  fp32 = 64 if 'avx512f' in flags else 32 if 'fma' in flags else 16
  peaks = {'float32': fp32}
  if 'amx_bf16' in flags:
    peaks['bfloat16'] = 1024
  elif 'avx512_bf16' in flags:
    peaks['bfloat16'] = 2 * fp32
  return peaks


def machine_peak_gflops():
  """{precision: cores x MHz x FLOPs/cycle / 1e3}; {} if unknown."""
  from slim_resnet.inference import precision as precision_lib  # pylint: disable=g-import-not-at-top
  try:
    with open('/proc/cpuinfo') as f:
      mhz = [float(l.split(':')[1]) for l in f if l.startswith('cpu MHz')]
  except OSError:
    return {}
  if not mhz:
    return {}
  cores = len(os.sched_getaffinity(0))
  return {p: cores * max(mhz) * n / 1e3 for p, n in
          flops_per_cycle(precision_lib.cpu_flags()).items()}


def ratio(value, reference, lower_is_better):
  if not value or not reference:
    return None
  return reference / value if lower_is_better else value / reference


def format_table(results, args):
  """Rows of figures, then the same as ratios to the reference."""
  columns = (['infer_b%d' % b for b in args.batch_sizes] +
             ['train_b%d' % max(args.batch_sizes), 'build_s', 'restore_s',
              'peak_rss_mb', 'gflops_per_s', 'of_peak'])
  lines = ['%-40s' % 'row' + ''.join('%13s' % c for c in columns)]
  agreement = [(n, r) for n, r in results['rows'].items()
               if 'top1_agreement' in r]
  for name, row in results['rows'].items():
    cells = []
    for c in columns:
      v = row.get(c)
      cells.append('%13s' % ('-' if v is None else (
          '%.1f%%' % (100 * v) if c == 'of_peak' else '%.2f' % v)))
    lines.append('%-40s' % name + ''.join(cells))
  lines.append('')
  lines.append('ratios to the tf-slim reference of the same version (> 1 is '
               'better: faster, or less time/memory)')
  for name, row in results['rows'].items():
    cells = ['%13s' % ('-' if row.get('ratio_' + c) is None else
                       '%.2fx' % row['ratio_' + c]) for c in columns[:-2]]
    lines.append('%-40s' % name + ''.join(cells))
  if agreement:
    lines.append('')
    lines.append('lowered precision and exports against the same weights in '
                 'a float32 session, on the same %d inputs'
                 % max(args.batch_sizes))
    lines.append('%-40s' % 'row' + ''.join('%20s' % c for c in AGREEMENT))
    for name, row in agreement:
      lines.append('%-40s' % name + ''.join(
          '%20.4g' % row[c] for c in AGREEMENT))
  lines.append('')
  lines.append('instructions (the best the CPU has for the precision that '
               'ran; CPU flags: %s)' % (' '.join(results.get('cpu_flags', []))
                                        or '?'))
  lines.append('  ' + ', '.join('%s %s' % (name, row.get('isa', '-'))
                                for name, row in results['rows'].items()))
  lines.append('')
  lines.append('GFLOP/img: %s; machine peak estimate: %s GFLOP/s' % (
      ', '.join('%s %.2f' % kv for kv in results['gflop_per_image'].items()),
      ', '.join('%s %.0f' % kv for kv in results['peak_gflops'].items())
      or '?'))
  return '\n'.join(lines)


def parse_args(argv):
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--models', default=','.join(DEFAULT_ROWS),
                      help='comma-separated rows: ' + ', '.join(ROWS))
  parser.add_argument('--batch-sizes', default='1,16')
  parser.add_argument('--image-size', type=int, default=224)
  parser.add_argument('--iterations', type=int, default=20)
  parser.add_argument('--warmup', type=int, default=3)
  parser.add_argument('--device', default=None)
  parser.add_argument('--precision', default='float32',
                      help='comma-separated: float32 (the default rows), '
                      'bfloat16 (adds %s), int8 (with --runtimes)' % ', '.join(
                          PRECISION_ROWS['bfloat16']))
  parser.add_argument('--runtimes', default='',
                      help='comma-separated: %s; adds a <runtime>_<precision> '
                      'row per --precision the runtime has (an export of '
                      'the same random resnet_v1_50)' % ', '.join(
                          EXPORT_PRECISIONS))
  parser.add_argument('--repeats', type=int, default=1,
                      help='measure every row this many times, interleaved '
                      '(row 1, row 2, ..., row 1, ...); figures are the '
                      'median (a shared machine drifts)')
  parser.add_argument('--quick', action='store_true',
                      help='tiny sizes and few iterations, to check the '
                      'script runs (figures mean nothing)')
  parser.add_argument('--json', default=None,
                      help='also write the results to this JSON file '
                      '(default: print only)')
  parser.add_argument('--worker', default=None, help=argparse.SUPPRESS)
  parser.add_argument('--frozen', default=None, help=argparse.SUPPRESS)
  parser.add_argument('--export-dir', default=None, help=argparse.SUPPRESS)
  args = parser.parse_args(argv)
  if args.quick:
    args.batch_sizes, args.image_size = '1,2', 32
    args.iterations, args.warmup = 1, 1
  args.batch_sizes = [int(b) for b in str(args.batch_sizes).split(',')]
  args.precision = [p for p in args.precision.split(',') if p]
  bad = [p for p in args.precision if p not in ('float32', 'bfloat16',
                                                'int8')]
  if bad:
    parser.error('unknown precision %s; known: float32, bfloat16, int8' % bad)
  args.runtimes = [r for r in args.runtimes.split(',') if r]
  unknown = [r for r in args.runtimes if r not in EXPORT_PRECISIONS]
  if unknown:
    parser.error('unknown runtimes %s; known: %s' % (
        unknown, ', '.join(EXPORT_PRECISIONS)))
  if 'int8' in args.precision and not args.runtimes:
    parser.error('int8 rows are exports: add --runtimes')
  args.models = [m for m in args.models.split(',') if m]
  if args.models == DEFAULT_ROWS:  # Not given: the rows of the precisions.
    if 'float32' not in args.precision or args.runtimes:
      args.models = [REFERENCE['v1']]
    for p in args.precision:
      args.models += [m for m in PRECISION_ROWS.get(p, [])
                      if m not in args.models and not args.runtimes]
  for runtime in args.runtimes:
    args.models += ['%s_%s' % (runtime, p) for p in args.precision
                    if p in EXPORT_PRECISIONS[runtime]]
  unknown = [m for m in args.models if m not in ROWS]
  if unknown:
    parser.error('unknown rows %s; known: %s' % (unknown, ', '.join(ROWS)))
  return args


def main(argv=None):
  args = parse_args(argv)
  if args.worker:
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    print(json.dumps(run_row(args.worker, args)))
    return 0
  results = {'settings': {k: getattr(args, k) for k in (
      'batch_sizes', 'image_size', 'iterations', 'warmup', 'device',
      'quick', 'precision', 'repeats', 'runtimes')}, 'rows': {},
             'skipped': {}, 'cpu_flags': sorted(
                 {f for isa in ISA.values() for f, _ in isa} & _cpu_flags()),
             'load_average': os.getloadavg()}
  from slim_resnet.inference import precision as precision_lib  # pylint: disable=g-import-not-at-top
  runs = {}
  for repeat in range(args.repeats):
    for name in args.models:
      if name in results['skipped']:
        continue
      if row_precision(name) == 'bfloat16' and not (
          precision_lib.cpu_bfloat16_support()):
        results['skipped'][name] = precision_lib.resolve(
            'bfloat16', quiet=True).reason
        continue
      if not available(name):
        results['skipped'][name] = 'not installed'
        continue
      print('measuring %s (%d/%d) ...' % (name, repeat + 1, args.repeats),
            file=sys.stderr, flush=True)
      try:
        runs.setdefault(name, []).append(_run_worker(name, args))
      except RuntimeError as e:
        results['skipped'][name] = str(e)
  for name, measured in runs.items():
    if name not in results['skipped']:
      results['rows'][name] = {
          k: float(np.median([m[k] for m in measured]))
          if isinstance(v, (int, float)) else v  # e.g. a frozen row's weights
          for k, v in measured[0].items()}
  results['gflop_per_image'] = {
      v: gflops_per_image(v, args.image_size) for v in ('v1', 'v2')}
  results['peak_gflops'] = machine_peak_gflops()
  big = 'infer_b%d' % max(args.batch_sizes)
  for name, row in results['rows'].items():
    version = ROWS[name][1]
    reference = results['rows'].get(REFERENCE[version], {})
    row['precision'] = row_precision(name)
    row['isa'] = best_isa(row.get('precision_ran', row['precision']),
                          _cpu_flags())
    if row.get(big):
      row['gflops_per_s'] = row[big] * results['gflop_per_image'][version]
      if results['peak_gflops'].get(row['precision']):
        row['of_peak'] = (row['gflops_per_s'] /
                          results['peak_gflops'][row['precision']])
    for key, value in list(row.items()):
      if key.startswith(('infer_', 'train_')) or key in METRICS:
        row['ratio_' + key] = ratio(value, reference.get(key), key in METRICS)
  if args.json:
    tmp = args.json + '.tmp'
    with open(tmp, 'w') as f:
      json.dump(results, f, indent=2)
    os.replace(tmp, args.json)
  print(format_table(results, args))
  print('load average at the start: %.2f %.2f %.2f' % results['load_average'])
  for name, why in results['skipped'].items():
    print('skipped %s: %s' % (name, why))
  if args.json:
    print('wrote %s' % args.json)
  return 0


if __name__ == '__main__':
  with quiet.filtered_stderr():  # TensorFlow's start-up lines (cli's filter).
    sys.exit(main())
