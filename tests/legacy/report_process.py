"""Prints what a launched script sees, then exits as its first argument says:
an integer code, or 'raise' for an uncaught exception.

  slim-resnet run report_process.py 7 --any=flag
"""
import json
import sys

import numpy as np
import tensorflow.compat.v1 as tf

print(json.dumps({
    'argv': sys.argv,
    'path0': sys.path[0],
    'name': __name__,
    'file': __file__,
    'eager': tf.executing_eagerly(),
    'np_int': np.int(3.7),
    'contrib_slim': tf.contrib.slim.__name__,
}))
sys.stdout.flush()
if sys.argv[1] == 'raise':
  raise RuntimeError('raised by the script itself')
sys.exit(int(sys.argv[1]))
