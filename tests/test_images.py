"""images: decoding every kind of file to RGB uint8, and clear errors."""
import numpy as np
import pytest
from PIL import Image

from slim_resnet.data import images


@pytest.fixture
def folder(tmp_path):
  rgb = np.random.RandomState(0).randint(0, 256, (12, 10, 3), np.uint8)
  Image.fromarray(rgb).save(tmp_path / 'rgb.png')
  Image.fromarray(rgb).save(tmp_path / 'rgb.jpg', quality=95)
  Image.fromarray(rgb[:, :, 0]).save(tmp_path / 'gray.png')
  rgba = np.concatenate([rgb, np.full((12, 10, 1), 7, np.uint8)], axis=2)
  Image.fromarray(rgba).save(tmp_path / 'rgba.png')
  Image.fromarray(rgb).convert('P').save(tmp_path / 'palette.gif')
  (tmp_path / 'empty.jpg').write_bytes(b'')
  (tmp_path / 'notes.txt').write_text('not an image')
  good = (tmp_path / 'rgb.png').read_bytes()
  (tmp_path / 'truncated.png').write_bytes(good[:len(good) // 2])
  (tmp_path / '.hidden.png').write_bytes(good)
  sub = tmp_path / 'sub'
  sub.mkdir()
  Image.fromarray(rgb).save(sub / 'nested.png')
  return tmp_path, rgb


def test_decodes_to_rgb_uint8(folder):
  path, rgb = folder
  np.testing.assert_array_equal(images.load_image(path / 'rgb.png'), rgb)
  jpg = images.load_image(path / 'rgb.jpg')
  assert jpg.shape == (12, 10, 3) and jpg.dtype == np.uint8
  gray = images.load_image(path / 'gray.png')
  np.testing.assert_array_equal(gray, np.repeat(rgb[:, :, :1], 3, axis=2))
  np.testing.assert_array_equal(images.load_image(path / 'rgba.png'), rgb)
  assert images.load_image(path / 'palette.gif').shape == (12, 10, 3)


@pytest.mark.parametrize('name,reason', [
    ('empty.jpg', 'empty file'), ('notes.txt', 'not an image'),
    ('truncated.png', 'corrupt or truncated'), ('missing.png', 'no such file')])
def test_bad_files_say_why(folder, name, reason):
  path, _ = folder
  with pytest.raises(images.ImageDecodeError, match=reason) as info:
    images.load_image(path / name)
  assert info.value.path == path / name
  assert name in str(info.value)


def test_to_rgb():
  np.testing.assert_array_equal(images.to_rgb(np.full((2, 3), 300.0)),
                                np.full((2, 3, 3), 255, np.uint8))
  assert images.to_rgb(np.zeros((2, 3, 4), np.uint8)).shape == (2, 3, 3)
  with pytest.raises(ValueError, match=r'got shape \(2, 3, 2\)'):
    images.to_rgb(np.zeros((2, 3, 2)))


def test_list_images(folder):
  path, _ = folder
  listed = images.list_images(str(path))
  names = sorted(p.split('/')[-1] for p in listed)
  assert names == sorted(['rgb.png', 'rgb.jpg', 'gray.png', 'rgba.png',
                          'palette.gif', 'empty.jpg', 'notes.txt',
                          'truncated.png', 'nested.png'])
  assert images.list_images(str(path / '*.png')) == sorted(
      str(path / n) for n in ['rgb.png', 'gray.png', 'rgba.png',
                              'truncated.png'])
  assert images.list_images([str(path / 'rgb.png'), str(path / 'rgb.png')]) == [
      str(path / 'rgb.png')]
  with pytest.raises(FileNotFoundError, match='no image files found'):
    images.list_images(str(path / '*.bmp'))
