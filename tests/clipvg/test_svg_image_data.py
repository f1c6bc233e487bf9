"""decode_image_href: data URIs, local files, formats and bit depths, refusals and errors."""
from __future__ import annotations

import base64
import io
import urllib.parse

import numpy as np
import pytest
from PIL import Image

from clipvg.svg import image_data
from clipvg.svg.image_data import ImageDataError, decode_image_href

RNG = np.random.default_rng(7)
RGBA = RNG.integers(0, 256, size=(5, 7, 4), dtype=np.uint8)


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def data_uri(data: bytes, mime: str = "image/png") -> str:
    text = base64.b64encode(data).decode()
    wrapped = "\n".join(text[i:i + 60] for i in range(0, len(text), 60))  # line breaks, as in real files
    return f"data:{mime};base64,{wrapped}"


def test_png_rgba_exact():
    decoded = decode_image_href(data_uri(encoded(Image.fromarray(RGBA, "RGBA"), "PNG")), None)
    assert decoded.dtype == np.float32 and decoded.shape == (5, 7, 4)
    np.testing.assert_allclose(decoded, RGBA / 255.0, atol=1e-6)


def test_percent_encoded_png_without_mime():
    data = encoded(Image.fromarray(RGBA, "RGBA"), "PNG")
    decoded = decode_image_href("data:," + urllib.parse.quote_from_bytes(data), None)
    np.testing.assert_allclose(decoded, RGBA / 255.0, atol=1e-6)


def test_sixteen_bit_grey_png_keeps_its_precision():
    grey = (np.arange(12, dtype=np.uint16).reshape(3, 4) * 5000 + 7)
    decoded = decode_image_href(data_uri(encoded(Image.fromarray(grey), "PNG")), None)
    np.testing.assert_allclose(decoded[..., 0], grey / 65535.0, atol=1e-6)
    np.testing.assert_array_equal(decoded[..., 3], 1.0)


def test_palette_png_with_transparency():
    palette = Image.fromarray(RGBA[..., :3], "RGB").convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    palette.info["transparency"] = 0
    decoded = decode_image_href(data_uri(encoded(palette, "PNG", transparency=0)), None)
    index = np.asarray(palette)
    np.testing.assert_array_equal(decoded[..., 3], (index != 0).astype(np.float32))


def test_jpeg_exif_orientation_is_applied():
    image = Image.fromarray(np.repeat(np.linspace(0, 255, 16, dtype=np.uint8)[None, :, None], 8, 0).repeat(3, 2))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    decoded = decode_image_href(data_uri(encoded(image, "JPEG", exif=exif, quality=95), "image/jpeg"), None)
    assert decoded.shape == (16, 8, 4)  # displayed upright: 8 wide, 16 high
    assert decoded[0, 4, 0] < 0.2 < 0.8 < decoded[-1, 4, 0]  # the dark left edge went to the top


@pytest.mark.parametrize("fmt", ["WEBP", "GIF"])
def test_webp_and_gif_first_frame(fmt):
    first = Image.new("RGB", (6, 4), (255, 0, 0))
    second = Image.new("RGB", (6, 4), (0, 0, 255))
    data = encoded(first, fmt, save_all=True, append_images=[second], lossless=True)
    decoded = decode_image_href(data_uri(data, "image/" + fmt.lower()), None)
    np.testing.assert_allclose(decoded[2, 3], [1, 0, 0, 1], atol=0.02)


def test_local_file_relative_to_base_dir(tmp_path):
    (tmp_path / "pics").mkdir()
    Image.fromarray(RGBA, "RGBA").save(tmp_path / "pics" / "a b.png")
    decoded = decode_image_href("pics/a%20b.png", str(tmp_path))
    np.testing.assert_allclose(decoded, RGBA / 255.0, atol=1e-6)


@pytest.mark.parametrize("href", ["https://example.com/a.png", "http://example.com/a.png", "ftp://x/a.png",
                                  "file:///etc/passwd"])
def test_urls_are_refused(href):
    with pytest.raises(ImageDataError, match="never reads"):
        decode_image_href(href, "/tmp")


def test_missing_file_and_relative_name_without_folder(tmp_path):
    with pytest.raises(ImageDataError, match="cannot be read"):
        decode_image_href("missing.png", str(tmp_path))
    with pytest.raises(ImageDataError, match="given as a string"):
        decode_image_href("missing.png", None)


@pytest.mark.parametrize("href", ["data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==", "data:image/png;base64,",
                                  "data:image/png;base64", "data:image/png;base64,!!!!"])
def test_corrupt_data_raises_our_error(href):
    with pytest.raises(ImageDataError):
        decode_image_href(href, None)


def test_pixel_cap(monkeypatch):
    monkeypatch.setattr(image_data, "MAX_IMAGE_PIXELS", 30)
    with pytest.raises(ImageDataError, match="scale it down"):
        decode_image_href(data_uri(encoded(Image.fromarray(RGBA, "RGBA"), "PNG")), None)


def test_svg_image_is_drawn_by_clipvg():
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="2"><rect width="2" height="2" fill="#f00"/></svg>'
    decoded = decode_image_href("data:image/svg+xml;utf8," + urllib.parse.quote(svg), None)
    assert decoded.shape == (2, 4, 4)
    np.testing.assert_allclose(decoded[:, :2], [[[1, 0, 0, 1]] * 2] * 2, atol=1e-5)
    np.testing.assert_allclose(decoded[:, 2:, 3], 0, atol=1e-5)
    assert decode_image_href("data:image/svg+xml;utf8," + urllib.parse.quote(svg), None, svg_size=(8, 4)).shape == (4, 8, 4)


def test_svg_image_including_itself_is_refused(tmp_path):
    (tmp_path / "loop.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/'
                                       'xlink" width="4" height="4"><image href="loop.svg" width="4" height="4"/>'
                                       '<rect width="1" height="1"/></svg>')
    with pytest.warns(UserWarning):  # the inner <image> is skipped with a warning, the rest is drawn
        decoded = decode_image_href("loop.svg", str(tmp_path))
    assert decoded[0, 0, 3] > 0.99


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_is_refused_before_it_is_read(device):
    with pytest.raises(ImageDataError, match="is not a regular file"):  # (was read until memory ran out)
        decode_image_href(device, None)


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    import os

    os.mkfifo(tmp_path / "pipe.png")
    with pytest.raises(ImageDataError, match="is not a regular file"):  # (opening it waited forever)
        decode_image_href("pipe.png", str(tmp_path))


def test_a_file_over_the_byte_cap_is_refused(tmp_path, monkeypatch):
    (tmp_path / "big.png").write_bytes(encoded(Image.fromarray(RGBA), "PNG"))
    monkeypatch.setattr(image_data, "MAX_IMAGE_FILE_BYTES", 100)
    with pytest.raises(ImageDataError, match="is over 0 MiB"):
        decode_image_href("big.png", str(tmp_path))


def test_without_local_files_only_data_uris_are_read(tmp_path):
    (tmp_path / "a.png").write_bytes(encoded(Image.fromarray(RGBA), "PNG"))
    with image_data.without_local_files():
        assert decode_image_href(data_uri(encoded(Image.fromarray(RGBA), "PNG")), None).shape == (5, 7, 4)
        for href in ("a.png", str(tmp_path / "a.png")):
            with pytest.raises(ImageDataError, match="opens no local files"):
                decode_image_href(href, str(tmp_path))
    assert decode_image_href("a.png", str(tmp_path)).shape == (5, 7, 4)  # outside the block: read
