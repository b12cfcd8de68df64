"""Inception-style preprocessing, as research/slim's inception_preprocessing.

research/slim's README says the resnet_v2 checkpoints were trained with it, at
299x299. Values end in [-1, 1]. Eval: convert to float [0, 1], keep the
central 87.5%, bilinear resize. Train: a random crop covering part of the
image or of `bbox` (sample_distorted_bounding_box), resize, random flip, and
random colour distortion.
"""
import tensorflow as tf

from slim_resnet.preprocessing import vgg_preprocessing

ensure_rgb = vgg_preprocessing.ensure_rgb


def apply_with_random_selector(x, func, num_cases):
  """Computes func(x, sel), with sel drawn uniformly from [0, num_cases).

  Only the selected case runs (a switch/merge, as research/slim's).
  """
  sel = tf.random.uniform([], maxval=num_cases, dtype=tf.int32)
  # pylint: disable=g-direct-tensorflow-import
  from tensorflow.python.ops import control_flow_ops
  # pylint: enable=g-direct-tensorflow-import
  return control_flow_ops.merge([
      func(control_flow_ops.switch(x, tf.equal(sel, case))[1], case)
      for case in range(num_cases)])[0]


def distort_color(image, color_ordering=0, fast_mode=True, scope=None):
  """Randomly distorts brightness, saturation (and hue, contrast).

  Args:
    image: A float image [height, width, 3] in [0, 1].
    color_ordering: Which of the orderings to use (0-3; 0-1 in fast_mode).
    fast_mode: Only brightness and saturation.
    scope: Optional name scope.

  Returns:
    The distorted image, clipped to [0, 1].

  Raises:
    ValueError: If color_ordering is not in [0, 3].
  """
  with tf.name_scope(scope or 'distort_color'):
    brightness = lambda im: tf.image.random_brightness(im, max_delta=32. / 255.)
    saturation = lambda im: tf.image.random_saturation(im, 0.5, 1.5)
    hue = lambda im: tf.image.random_hue(im, max_delta=0.2)
    contrast = lambda im: tf.image.random_contrast(im, 0.5, 1.5)
    if fast_mode:
      orderings = [[brightness, saturation], [saturation, brightness]]
      color_ordering = min(color_ordering, 1)
    else:
      orderings = [[brightness, saturation, hue, contrast],
                   [saturation, brightness, contrast, hue],
                   [contrast, hue, brightness, saturation],
                   [hue, saturation, contrast, brightness]]
    if not 0 <= color_ordering < len(orderings):
      raise ValueError('color_ordering must be in [0, 3]')
    for fn in orderings[color_ordering]:
      image = fn(image)
    return tf.clip_by_value(image, 0.0, 1.0)


def distorted_bounding_box_crop(image, bbox, min_object_covered=0.1,
                                aspect_ratio_range=(0.75, 1.33),
                                area_range=(0.05, 1.0), max_attempts=100,
                                scope=None):
  """A random crop of `image` that covers part of `bbox`.

  Args:
    image: A `Tensor` [height, width, channels].
    bbox: float32 [1, num_boxes, 4] as [ymin, xmin, ymax, xmax] in [0, 1].
    min_object_covered: Fraction of some box the crop must cover.
    aspect_ratio_range: Allowed width / height of the crop.
    area_range: Allowed fraction of the image area.
    max_attempts: Tries before the whole image is taken.
    scope: Optional name scope.

  Returns:
    (cropped image, the crop box [1, 1, 4]).
  """
  with tf.name_scope(scope or 'distorted_bounding_box_crop'):
    bbox_begin, bbox_size, distort_bbox = tf.image.sample_distorted_bounding_box(
        tf.shape(image), bounding_boxes=bbox,
        min_object_covered=min_object_covered,
        aspect_ratio_range=aspect_ratio_range, area_range=area_range,
        max_attempts=max_attempts, use_image_if_no_bounding_boxes=True)
    return tf.slice(image, bbox_begin, bbox_size), distort_bbox


def preprocess_for_train(image, height, width, bbox=None, fast_mode=True,
                         scope=None, add_image_summaries=False,
                         random_crop=True, use_grayscale=False):
  """Distorts one image for training.

  Args:
    image: [height, width, 1|3|4], uint8 (0..255) or float in [0, 1].
    height, width: The output size.
    bbox: Optional boxes [1, num_boxes, 4]; the whole image by default.
    fast_mode: One resize method and two colour orderings instead of four.
    scope: Optional name scope.
    add_image_summaries: Add image summaries of the stages.
    random_crop: Crop a random box first.
    use_grayscale: Convert to grayscale (1 channel) at the end.

  Returns:
    A float32 image [height, width, 3] (1 with use_grayscale) in [-1, 1].
  """
  with tf.name_scope(scope or 'distort_image'):
    image = ensure_rgb(image)
    if bbox is None:
      bbox = tf.constant([0.0, 0.0, 1.0, 1.0], dtype=tf.float32,
                         shape=[1, 1, 4])
    if image.dtype != tf.float32:
      image = tf.image.convert_image_dtype(image, dtype=tf.float32)
    if add_image_summaries:
      tf.compat.v1.summary.image(
          'image_with_bounding_boxes',
          tf.image.draw_bounding_boxes(tf.expand_dims(image, 0), bbox))
    distorted = image
    if random_crop:
      distorted, _ = distorted_bounding_box_crop(image, bbox)
    distorted.set_shape([None, None, 3])
    num_resize_cases = 1 if fast_mode else 4
    distorted = apply_with_random_selector(
        distorted,
        lambda x, method: tf.compat.v1.image.resize_images(x, [height, width],
                                                           method),
        num_cases=num_resize_cases)
    distorted.set_shape([height, width, 3])
    distorted = tf.image.random_flip_left_right(distorted)
    num_distort_cases = 1 if fast_mode else 4
    distorted = apply_with_random_selector(
        distorted, lambda x, ordering: distort_color(x, ordering, fast_mode),
        num_cases=num_distort_cases)
    if use_grayscale:
      distorted = tf.image.rgb_to_grayscale(distorted)
    if add_image_summaries:
      tf.compat.v1.summary.image('final_distorted_image',
                                 tf.expand_dims(distorted, 0))
    return (distorted - 0.5) * 2.0


def preprocess_for_eval(image, height, width, central_fraction=0.875,
                        scope=None, central_crop=True, use_grayscale=False):
  """Central crop and bilinear resize of one image for evaluation.

  Args:
    image: [height, width, 1|3|4], uint8 (0..255) or float in [0, 1].
    height, width: The output size (None: no resize).
    central_fraction: The central fraction of each side to keep.
    scope: Optional name scope.
    central_crop: Crop before resizing.
    use_grayscale: Convert to grayscale (1 channel).

  Returns:
    A float32 image [height, width, 3] in [-1, 1].
  """
  with tf.name_scope(scope or 'eval_image'):
    image = ensure_rgb(image)
    if image.dtype != tf.float32:
      image = tf.image.convert_image_dtype(image, dtype=tf.float32)
    if use_grayscale:
      image = tf.image.rgb_to_grayscale(image)
    if central_crop and central_fraction:
      image = tf.image.central_crop(image, central_fraction=central_fraction)
    if height and width:
      image = tf.compat.v1.image.resize_bilinear(
          tf.expand_dims(image, 0), [height, width], align_corners=False)
      image = tf.squeeze(image, [0])
    return (image - 0.5) * 2.0


def preprocess_image(image, height, width, is_training=False, bbox=None,
                     fast_mode=True, add_image_summaries=False,
                     crop_image=True, use_grayscale=False):
  """Preprocesses one image for training or evaluation; see the two above."""
  if is_training:
    return preprocess_for_train(image, height, width, bbox, fast_mode,
                                add_image_summaries=add_image_summaries,
                                random_crop=crop_image,
                                use_grayscale=use_grayscale)
  return preprocess_for_eval(image, height, width, central_crop=crop_image,
                             use_grayscale=use_grayscale)
