"""VGG-style preprocessing, as research/slim's preprocessing/vgg_preprocessing.

The official resnet_v1 checkpoints were trained with it: no scaling, the
ImageNet mean RGB subtracted. Eval: resize the smaller side to resize_side_min
(256) keeping the aspect ratio, then take the central crop. Train: the smaller
side is drawn uniformly from [resize_side_min, resize_side_max], then a random
crop and a random left-right flip.
"""
import tensorflow as tf

_R_MEAN = 123.68
_G_MEAN = 116.78
_B_MEAN = 103.94
MEAN_RGB = (_R_MEAN, _G_MEAN, _B_MEAN)

_RESIZE_SIDE_MIN = 256
_RESIZE_SIDE_MAX = 512


def ensure_rgb(image):
  """An image [height, width, 1|3|4] as [height, width, 3].

  Grayscale is repeated over three channels, an alpha channel is dropped.

  Raises:
    ValueError: If the channel count is known and not 1, 3 or 4.
  """
  channels = image.get_shape().with_rank(3)[2]
  channels = tf.compat.dimension_value(channels)
  if channels == 3:
    return image
  if channels == 1:
    return tf.tile(image, [1, 1, 3])
  if channels == 4:
    return image[:, :, :3]
  if channels is None:
    raise ValueError('the image needs a known number of channels (1, 3 or 4)')
  raise ValueError('expected an image with 1, 3 or 4 channels; got %d' %
                   channels)


def _crop(image, offset_height, offset_width, crop_height, crop_width):
  """Crops [h, w, c] at the offsets; asserts the image is large enough."""
  shape = tf.shape(image)
  checks = [
      tf.debugging.assert_greater_equal(
          shape[0], crop_height + offset_height,
          message='Crop size greater than the image size.'),
      tf.debugging.assert_greater_equal(
          shape[1], crop_width + offset_width,
          message='Crop size greater than the image size.'),
  ]
  with tf.control_dependencies(checks):
    image = tf.identity(image)
  return tf.slice(image, tf.stack([offset_height, offset_width, 0]),
                  tf.stack([crop_height, crop_width, -1]))


def _random_crop(image, crop_height, crop_width):
  """A crop at uniformly random offsets (research/slim's _random_crop)."""
  shape = tf.shape(image)
  offset_height = tf.random.uniform(
      [], maxval=shape[0] - crop_height + 1, dtype=tf.int32)
  offset_width = tf.random.uniform(
      [], maxval=shape[1] - crop_width + 1, dtype=tf.int32)
  return _crop(image, offset_height, offset_width, crop_height, crop_width)


def _central_crop(image, crop_height, crop_width):
  """The central crop; offsets round down, as research/slim's."""
  shape = tf.shape(image)
  offset_height = (shape[0] - crop_height) // 2
  offset_width = (shape[1] - crop_width) // 2
  return _crop(image, offset_height, offset_width, crop_height, crop_width)


def _mean_image_subtraction(image, means=MEAN_RGB):
  """Subtracts the per-channel means of a float image [h, w, 3]."""
  if image.get_shape().ndims != 3:
    raise ValueError('Input must be of size [height, width, C>0]')
  return image - tf.constant(means, dtype=image.dtype)


def smallest_size_at_least(height, width, smallest_side):
  """New (height, width) with the smaller side = smallest_side, rounded."""
  smallest_side = tf.cast(smallest_side, tf.float32)
  height = tf.cast(height, tf.float32)
  width = tf.cast(width, tf.float32)
  scale = tf.cond(tf.greater(height, width), lambda: smallest_side / width,
                  lambda: smallest_side / height)
  new_height = tf.cast(tf.math.rint(height * scale), tf.int32)
  new_width = tf.cast(tf.math.rint(width * scale), tf.int32)
  return new_height, new_width


def aspect_preserving_resize(image, smallest_side):
  """Bilinear resize (TF1 semantics, align_corners=False) -> float32."""
  shape = tf.shape(image)
  new_height, new_width = smallest_size_at_least(shape[0], shape[1],
                                                 smallest_side)
  resized = tf.compat.v1.image.resize_bilinear(
      tf.expand_dims(image, 0), [new_height, new_width], align_corners=False)
  resized = tf.squeeze(resized, [0])
  resized.set_shape([None, None, 3])
  return resized


def preprocess_for_train(image, output_height, output_width,
                         resize_side_min=_RESIZE_SIDE_MIN,
                         resize_side_max=_RESIZE_SIDE_MAX):
  """Random scale, random crop, random flip, mean subtraction.

  Returns:
    A float32 image [output_height, output_width, 3].
  """
  image = ensure_rgb(image)
  resize_side = tf.random.uniform([], minval=resize_side_min,
                                  maxval=resize_side_max + 1, dtype=tf.int32)
  image = aspect_preserving_resize(image, resize_side)
  image = _random_crop(image, output_height, output_width)
  image.set_shape([output_height, output_width, 3])
  image = tf.cast(image, tf.float32)
  image = tf.image.random_flip_left_right(image)
  return _mean_image_subtraction(image)


def preprocess_for_eval(image, output_height, output_width, resize_side):
  """Aspect-preserving resize, central crop, mean subtraction.

  Returns:
    A float32 image [output_height, output_width, 3].
  """
  image = ensure_rgb(image)
  image = aspect_preserving_resize(image, resize_side)
  image = _central_crop(image, output_height, output_width)
  image.set_shape([output_height, output_width, 3])
  image = tf.cast(image, tf.float32)
  return _mean_image_subtraction(image)


def preprocess_image(image, output_height, output_width, is_training=False,
                     resize_side_min=_RESIZE_SIDE_MIN,
                     resize_side_max=_RESIZE_SIDE_MAX):
  """Preprocesses one image [height, width, 1|3|4] (uint8 or float 0..255).

  Args:
    image: A `Tensor` [height, width, channels].
    output_height: The height of the image after preprocessing.
    output_width: The width of the image after preprocessing.
    is_training: True for the training pipeline (random), else eval.
    resize_side_min: Eval: the smaller side after resizing. Train: the lower
      bound of the random smaller side.
    resize_side_max: Train: the upper bound of the random smaller side.

  Returns:
    A float32 image [output_height, output_width, 3], mean RGB subtracted.
  """
  if is_training:
    return preprocess_for_train(image, output_height, output_width,
                                resize_side_min, resize_side_max)
  return preprocess_for_eval(image, output_height, output_width,
                             resize_side_min)
