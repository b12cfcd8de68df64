"""Inference and training precision: float32, bfloat16 or float16.

    chosen = resolve('bfloat16')        # Precision('bfloat16', ...) or a fallback
    config = session_config(chosen)     # a ConfigProto carrying the rewrite
    print(chosen.describe())            # 'precision: bfloat16 (asked bfloat16)'

Lower precision is grappler's own graph rewrite, not a second network:
'bfloat16' turns on auto_mixed_precision_onednn_bfloat16 (oneDNN bf16 kernels
on CPUs with avx512_bf16 or AMX), 'float16' turns on auto_mixed_precision
(GPU). The rewrite runs convolutions, matmuls and their element-wise
neighbours in the low precision and keeps the ops on its deny list (softmax,
cross entropy, reductions of the loss) in float32. Variables, checkpoints and
the graph's inputs and outputs stay float32: a graph built and trained with
bf16 compute restores anywhere.

'auto' picks bfloat16 where it was measured to win on this kind of CPU and
float32 otherwise, and says which: a session graph with variables casts every
weight to bf16 on every run, which costs about what bf16 saves at small
batches, so below AUTO_MIN_BATCH it runs float32; a frozen graph
(inference_graph.InferenceSession) stores its weights as bf16 once, when it
is loaded, so there bf16 wins at every batch (README "Performance"). On a CPU without bf16 support,
'bfloat16' falls back to float32 with one message on stderr (strict=True
raises PrecisionError instead): the emulation would be slower than float32.
"""
import dataclasses
import sys

from slim_resnet import errors

PRECISIONS = ('float32', 'bfloat16', 'float16', 'auto')
CPU_BF16_FLAGS = ('avx512_bf16', 'amx_bf16')
# Smallest batch where bf16 beat float32 in scripts/benchmark.py on an
# avx512_bf16 CPU (resnet_v1_50, 224 px; README "Performance").
AUTO_MIN_BATCH = 4


class PrecisionError(errors.UserError):
  """A precision that is unknown, or not supported here with strict=True."""


@dataclasses.dataclass(frozen=True)
class Precision(object):
  """What was asked and what runs.

  Attributes:
    name: The precision that runs: 'float32', 'bfloat16' or 'float16'.
    requested: What was asked (one of PRECISIONS).
    reason: Why name differs from requested, or how 'auto' chose ('' if it
      was simply granted).
  """
  name: str
  requested: str
  reason: str = ''

  @property
  def lowered(self):
    return self.name != 'float32'

  def describe(self):
    line = 'precision: %s' % self.name
    if self.requested != self.name:
      line += ' (asked %s)' % self.requested
    if self.reason:
      line += ': ' + self.reason
    return line


def cpu_flags(path='/proc/cpuinfo'):
  """The CPU feature flags of /proc/cpuinfo's first processor (a set)."""
  try:
    with open(path) as f:
      for line in f:
        if line.startswith('flags'):
          return set(line.split(':', 1)[1].split())
  except OSError:
    pass
  return set()


def cpu_bfloat16_support():
  """The CPU flags that give native bf16 kernels (avx512_bf16, amx_bf16).

  Returns:
    A sorted list; empty when the CPU has none (tests monkeypatch this).
  """
  return sorted(set(CPU_BF16_FLAGS) & cpu_flags())


def gpu_available():
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  return bool(tf.config.list_physical_devices('GPU'))


def _on_gpu(device):
  """Whether a device string names a GPU ('/GPU:0', '/device:gpu:1')."""
  return bool(device) and 'gpu' in str(device).lower()


def runs_on_gpu(device=None):
  """Whether a graph placed on `device` runs on a GPU: the device names one,
  or none is given and TensorFlow sees a GPU."""
  return _on_gpu(device) or (device is None and gpu_available())


def resolve(precision='float32', strict=False, batch_size=None, device=None,
            cast_once=False, quiet=False):
  """Chooses the precision that runs.

  Args:
    precision: One of PRECISIONS (None means 'float32').
    strict: Raise PrecisionError instead of falling back to float32.
    batch_size: The batch the graph will mostly run ('auto' uses float32
      below AUTO_MIN_BATCH); None: assume a large batch.
    device: The network's device ('/GPU:0' asks float16/bfloat16 of the GPU).
    cast_once: The weights are cast to bf16 once (a frozen graph, stored
      as bf16 when loaded); then bf16 wins at every batch and 'auto' ignores
      batch_size. Session graphs with float32 variables cast them on every
      run.
    quiet: Do not print the fallback message to stderr.

  Returns:
    A Precision.

  Raises:
    PrecisionError: For an unknown precision, or an unsupported one with
      strict=True.
  """
  precision = precision or 'float32'
  if precision not in PRECISIONS:
    raise PrecisionError('precision must be one of %s; got %r' % (
        ', '.join(PRECISIONS), precision))
  if precision == 'float32':
    return Precision('float32', precision)
  gpu = runs_on_gpu(device)
  if precision == 'float16':
    if gpu:
      return Precision('float16', precision)
    return _fall_back(precision, 'float16 needs a GPU (grappler\'s '
                      'auto_mixed_precision); none is available', strict,
                      quiet)
  flags = cpu_bfloat16_support()
  if not gpu and not flags:
    why = ('this CPU has none of the flags %s (no native bf16 kernels; '
           'emulating bf16 would be slower than float32)' % ', '.join(
               CPU_BF16_FLAGS))
    if precision == 'auto':
      return Precision('float32', precision, why)
    return _fall_back(precision, why, strict, quiet)
  if precision == 'auto':
    if (not gpu and not cast_once and batch_size is not None and
        batch_size < AUTO_MIN_BATCH):
      return Precision('float32', precision, (
          'with variables cast to bf16 on every run, bf16 is not faster than '
          'float32 below batch %d on this CPU (batch %d; a frozen graph '
          'casts once)' % (AUTO_MIN_BATCH, batch_size)))
    return Precision('bfloat16', precision, 'native bf16 (%s)' % (
        'GPU' if gpu else ', '.join(flags)))
  return Precision('bfloat16', precision)


def _fall_back(precision, why, strict, quiet):
  if strict:
    raise PrecisionError('precision %s is not supported here: %s; use '
                         '--precision float32 (or drop --precision-strict to '
                         'fall back)' % (precision, why))
  chosen = Precision('float32', precision, why + '; running float32')
  if not quiet:
    print('slim_resnet: %s' % chosen.describe(), file=sys.stderr, flush=True)
  return chosen


def as_precision(precision, strict=False, **kwargs):
  """A Precision for a name or a Precision (resolved once, then passed on)."""
  if isinstance(precision, Precision):
    return precision
  return resolve(precision, strict, **kwargs)


def rewrite(config, precision):
  """Sets grappler's mixed-precision rewrite for `precision` on a ConfigProto.

  Args:
    config: A tf.compat.v1.ConfigProto (changed in place).
    precision: A Precision or a name ('float32' leaves config as it is).

  Returns:
    config.
  """
  from tensorflow.core.protobuf import rewriter_config_pb2  # pylint: disable=g-import-not-at-top
  name = precision.name if isinstance(precision, Precision) else precision
  options = config.graph_options.rewrite_options
  on = rewriter_config_pb2.RewriterConfig.ON
  if name == 'bfloat16':
    options.auto_mixed_precision_onednn_bfloat16 = on
  elif name == 'float16':
    options.auto_mixed_precision = on
  return config


def session_config(precision, config=None):
  """A ConfigProto (a copy of `config`, or a new one) with the rewrite set."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  proto = tf.compat.v1.ConfigProto()
  if config is not None:
    proto.CopyFrom(config)
  return rewrite(proto, precision)


def add_arguments(parser, int8=False):
  """--precision and --precision-strict for a command (int8: also the
  converted exports' int8)."""
  parser.add_argument('--precision', choices=PRECISIONS + (
      ('int8',) if int8 else ()), default=None,
                      help='float32 (default); bfloat16 on CPUs with '
                      'avx512_bf16/AMX (or a GPU); float16 on a GPU; auto '
                      'picks bfloat16 where it is faster%s. Variables stay '
                      'float32' % ('; int8: post-training quantization '
                                   '(--format onnx, openvino or tflite, '
                                   'with --calibration)' if int8 else
                                   '. An export directory runs in its own '
                                   'precision unless this asks another'))
  parser.add_argument('--precision-strict', action='store_true',
                      help='fail instead of falling back to float32 when '
                      'the precision is not supported here')
