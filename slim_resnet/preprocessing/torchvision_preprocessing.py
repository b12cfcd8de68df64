"""torchvision's ImageNet preprocessing, for weights converted from PyTorch
(checkpoints.convert_torch): RGB scaled to 0..1, normalized by ImageNet's
mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225).

Geometry is vgg_preprocessing's: eval resizes the smaller side to
resize_side_min (256) and takes the central crop (torchvision's Resize(256) +
CenterCrop(224)); train takes vgg's random scale, crop and flip.
Note: torchvision resizes with antialiasing (PIL), TensorFlow's bilinear
resize does not, so pixels differ slightly on downscaled images; and
torchvision trains with RandomResizedCrop, not the vgg crop.
"""
import tensorflow as tf

from slim_resnet.preprocessing import vgg_preprocessing

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def preprocess_image(image, output_height, output_width, is_training=False,
                     resize_side_min=256, resize_side_max=512):
  """One image [height, width, 1|3|4] (0..255) -> float32 [h, w, 3],
  normalized as torchvision's transforms.Normalize(MEAN, STD) after ToTensor."""
  image = vgg_preprocessing.preprocess_image(
      image, output_height, output_width, is_training, resize_side_min,
      resize_side_max)
  # vgg subtracted its mean RGB (0..255 scale): add it back, then normalize.
  image = (image + tf.constant(vgg_preprocessing.MEAN_RGB)) / 255.0
  return (image - tf.constant(MEAN)) / tf.constant(STD)
