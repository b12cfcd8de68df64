"""Name -> preprocessing function, as research/slim's preprocessing_factory.

Names are 'vgg', 'inception' or a network name. Note: research/slim's factory
maps every resnet_v1 and resnet_v2 to 'vgg', while its README says the v2
checkpoints were trained with inception preprocessing at 299px. For a model
name this factory keeps research/slim's mapping; the checkpoint manifest
names each official checkpoint's own preprocessing, so prefer it
(checkpoints.resolve_model does).
"""
import functools

from slim_resnet import errors
from slim_resnet.preprocessing import inception_preprocessing
from slim_resnet.preprocessing import torchvision_preprocessing
from slim_resnet.preprocessing import vgg_preprocessing

PREPROCESSING = {
    'vgg': vgg_preprocessing,
    'inception': inception_preprocessing,
    # Weights converted from PyTorch (checkpoints.convert_torch).
    'torchvision': torchvision_preprocessing,
}

# research/slim's nets_factory names -> preprocessing, plus our 18/34.
MODEL_PREPROCESSING = {
    '%s_%d' % (version, depth): 'vgg'
    for version in ('resnet_v1', 'resnet_v2')
    for depth in (18, 34, 50, 101, 152, 200)
}


def preprocessing_name(name):
  """'vgg' or 'inception' for a preprocessing or model name.

  Raises:
    ValueError: For an unknown name; the message lists the known ones.
  """
  if name in PREPROCESSING:
    return name
  if name in MODEL_PREPROCESSING:
    return MODEL_PREPROCESSING[name]
  raise errors.UsageError('Preprocessing name [%s] was not recognized; known: %s' % (
      name, ', '.join(list(PREPROCESSING) + sorted(MODEL_PREPROCESSING))))


def get_preprocessing(name, is_training=False, use_grayscale=False):
  """Returns preprocessing_fn(image, output_height, output_width, **kwargs).

  Args:
    name: 'vgg', 'inception', or a model name (e.g. 'resnet_v1_50').
    is_training: Training (random) or evaluation preprocessing.
    use_grayscale: Output grayscale (inception preprocessing only).

  Raises:
    ValueError: If the name is unknown, or use_grayscale is asked of a
      preprocessing that does not do it.
  """
  module = PREPROCESSING[preprocessing_name(name)]
  if use_grayscale and module is not inception_preprocessing:
    raise errors.UsageError(
        'use_grayscale=True needs inception preprocessing; %r uses %s, which '
        'would ignore it' % (name, preprocessing_name(name)))
  extra = {'use_grayscale': use_grayscale} if module is inception_preprocessing \
      else {}

  @functools.wraps(module.preprocess_image)
  def preprocessing_fn(image, output_height, output_width, **kwargs):
    return module.preprocess_image(image, output_height, output_width,
                                   is_training=is_training,
                                   **dict(extra, **kwargs))
  return preprocessing_fn


def check_options(name, image_size, options):
  """Raises UsageError for preprocessing options the function would refuse
  only inside a session: an unknown keyword, a value of another type, a
  resize_side_min below the crop (research/slim's crop assert).

  Args:
    name: A preprocessing or model name.
    image_size: The crop's height and width.
    options: {keyword: value}, e.g. from --preprocessing-option.
  """
  import inspect  # pylint: disable=g-import-not-at-top
  preprocessing = preprocessing_name(name)
  parameters = inspect.signature(
      PREPROCESSING[preprocessing].preprocess_image).parameters
  settable = {k: p.default for k, p in parameters.items()
              if isinstance(p.default, (bool, int, float))
              and k not in ('is_training', 'use_grayscale')}
  for key, value in sorted(options.items()):
    if key not in settable:
      raise errors.UsageError(
          '--preprocessing-option %s: %s preprocessing takes %s' % (
              key, preprocessing, ', '.join(sorted(settable)) or 'none'))
    default = settable[key]
    if isinstance(default, bool) != isinstance(value, bool) or not isinstance(
        value, (int, float)):
      raise errors.UsageError(
          '--preprocessing-option %s=%r: expected %s like its default %r' % (
              key, value, 'true or false' if isinstance(default, bool) else
              'a number', default))
  low = options.get('resize_side_min', settable.get('resize_side_min'))
  high = options.get('resize_side_max', settable.get('resize_side_max'))
  if low is not None and image_size and low < image_size:
    raise errors.UsageError(
        '--preprocessing-option resize_side_min=%s is below the image size '
        '%d: %s preprocessing crops %dx%d from the image resized so its '
        'shorter side is resize_side_min; use %d or more' % (
            low, image_size, preprocessing, image_size, image_size,
            image_size))
  if low is not None and high is not None and high < low:
    raise errors.UsageError('--preprocessing-option resize_side_max=%s is '
                            'below resize_side_min=%s' % (high, low))
