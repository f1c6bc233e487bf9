import numpy as np
import pytest
from PIL import Image

from clipvg.errors import InvalidInputError
from vectorize import ImageInputError, ResizeWarning, load_image
from vectorize.image_io import resize_long_side


def test_gray_rgb_rgba_arrays_become_straight_rgba():
    gray = np.array([[0, 255]], np.uint8)
    out = load_image(gray)
    assert out.shape == (1, 2, 4) and out.dtype == np.float32
    np.testing.assert_allclose(out[0, 1], [1, 1, 1, 1])
    rgb = load_image(np.full((2, 3, 3), 0.5, np.float64))
    np.testing.assert_allclose(rgb[..., 3], 1.0)
    rgba = load_image(np.array([[[255, 0, 0, 128]]], np.uint8))
    np.testing.assert_allclose(rgba[0, 0], [1, 0, 0, 128 / 255], atol=1e-6)
    gray_alpha = load_image(np.array([[[65535, 0]]], np.uint16))
    np.testing.assert_allclose(gray_alpha[0, 0], [1, 1, 1, 0])


def test_files_pil_modes_and_16_bit_png(tmp_path):
    values = np.array([[0, 1000, 65535]], np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(values).save(path)
    out = load_image(path)
    np.testing.assert_allclose(out[0, :, 0], values[0] / 65535, atol=1e-6)
    palette = Image.new("P", (4, 2))
    assert load_image(palette).shape == (2, 4, 4)
    rgb_path = tmp_path / "rgb.jpg"
    Image.new("RGB", (5, 3), (255, 0, 0)).save(rgb_path)
    assert load_image(str(rgb_path)).shape == (3, 5, 4)


@pytest.mark.parametrize("make", [
    lambda tmp: tmp / "missing.png",
    lambda tmp: (tmp / "corrupt.png").write_bytes(b"\x89PNG not really") and tmp / "corrupt.png",
    lambda tmp: (tmp / "empty.png").write_bytes(b"") == 0 and tmp / "empty.png",
    lambda tmp: tmp,
])
def test_bad_files_raise_our_error(tmp_path, make):
    with pytest.raises(ImageInputError):
        load_image(make(tmp_path))


@pytest.mark.parametrize("bad", [
    np.zeros((0, 5, 3), np.uint8), np.zeros((4, 4, 5)), np.zeros((2, 2, 2, 2)), np.full((2, 2), 2.0),
    np.full((2, 2), np.nan), np.zeros((2, 2), np.int64), "not an image".encode(),
])
def test_bad_arrays_raise_our_error(bad):
    with pytest.raises(ImageInputError) as error:
        load_image(bad)
    assert isinstance(error.value, InvalidInputError)


def test_resize_keeps_aspect_warns_and_does_not_bleed_transparent_colour():
    image = np.zeros((100, 300, 4), np.float32)
    image[:, 150:] = (0.0, 1.0, 0.0, 1.0)
    image[:, :150, 0] = 1.0  # red, but fully transparent
    with pytest.warns(ResizeWarning):
        out = resize_long_side(image, 60)
    assert out.shape == (20, 60, 4)
    visible = out[..., 3] > 0.01
    assert out[visible][:, 0].max() < 0.02
    assert resize_long_side(image, None) is image
