"""Image files in: listing, decoding to RGB uint8, and clear decode errors.

Decoding uses Pillow, so JPEG, PNG, GIF, BMP, TIFF and WebP all work; grayscale,
palette, 16-bit and RGBA/CMYK images are converted to RGB (alpha dropped).
"""
import glob
import io
import os

import numpy as np
from PIL import Image
from PIL import UnidentifiedImageError

from slim_resnet import errors

class ImageDecodeError(errors.UserError):
  """A file that is not a decodable image; says which file and why."""

  def __init__(self, path, reason):
    super().__init__('cannot decode image %s: %s' % (path, reason))
    self.path = path
    self.reason = reason


def to_rgb(array):
  """An image array [height, width] or [height, width, 1|3|4] as RGB uint8.

  Grayscale is repeated over 3 channels; an alpha channel is dropped.
  Floats are taken as 0..255 values and clipped.

  Raises:
    ValueError: For any other rank or channel count.
  """
  array = np.asarray(array)
  if array.ndim == 2:
    array = array[:, :, None]
  if array.ndim != 3 or array.shape[2] not in (1, 3, 4):
    raise ValueError('expected an image [height, width] or [height, width, '
                     '1|3|4 channels]; got shape %s' % (array.shape,))
  if array.shape[2] == 1:
    array = np.repeat(array, 3, axis=2)
  elif array.shape[2] == 4:
    array = array[:, :, :3]
  if array.dtype != np.uint8:
    array = np.clip(np.round(array), 0, 255).astype(np.uint8)
  return array


def load_image(path):
  """Decodes an image file to an RGB uint8 array [height, width, 3].

  Raises:
    ImageDecodeError: If the file is missing, empty, or not a decodable image.
  """
  return _decode(path, path)


def decode_image(data, name):
  """Decodes encoded image bytes (e.g. a TFRecord's image/encoded) as
  load_image decodes a file; `name` goes into the ImageDecodeError."""
  return _decode(io.BytesIO(data), name, size=len(data))


def _decode(source, path, size=None):
  try:
    if (os.path.getsize(source) if size is None else size) == 0:
      raise ImageDecodeError(path, 'empty file')
    with Image.open(source) as image:
      image.load()
      if image.mode in ('I;16', 'I;16B', 'I;16L', 'I'):
        array = np.asarray(image, np.float64)
        array = array * 255.0 / max(float(array.max()), 1.0)
        return to_rgb(array)
      if image.mode != 'RGB':
        image = image.convert('RGB')
      return np.asarray(image, np.uint8)
  except ImageDecodeError:
    raise
  except FileNotFoundError:
    raise ImageDecodeError(path, 'no such file') from None
  except UnidentifiedImageError:
    raise ImageDecodeError(path, 'not an image file Pillow recognizes') from None
  except (OSError, SyntaxError, ValueError) as e:
    raise ImageDecodeError(path, 'corrupt or truncated image (%s)' % e) from None


def list_images(spec):
  """Image files named by a directory, a glob pattern, a file, or a list.

  Args:
    spec: A directory (every file below it but hidden ones: a file that is
      not an image is reported when decoded, not silently passed over), a
      glob pattern ('photos/*.jpg', '**' allowed), a single file, or a list of
      any of these.

  Returns:
    A sorted list of unique paths.

  Raises:
    FileNotFoundError: If nothing matches.
  """
  specs = [spec] if isinstance(spec, (str, os.PathLike)) else list(spec)
  paths = []
  for item in specs:
    item = os.fspath(item)
    if os.path.isdir(item):
      for root, _, files in os.walk(item):
        paths += [os.path.join(root, f) for f in files if not f.startswith('.')]
    elif os.path.isfile(item):
      paths.append(item)
    else:
      paths += [p for p in glob.glob(item, recursive=True) if os.path.isfile(p)]
  if not paths:
    raise FileNotFoundError('no image files found in %s' % ', '.join(
        os.fspath(s) for s in specs))
  return sorted(set(paths))
