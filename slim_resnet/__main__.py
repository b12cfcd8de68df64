"""`python -m slim_resnet SCRIPT.py [ARG ...]`: the same as `slim-resnet run`.

Runs a TF1-era script (research/slim's train_image_classifier.py, ...) or,
with `-m MODULE`, a module unchanged on the installed TensorFlow
(slim_resnet.compat.legacy).
"""
import sys

from slim_resnet.compat import legacy

if __name__ == '__main__':
  sys.exit(legacy.main(sys.argv[1:]))
