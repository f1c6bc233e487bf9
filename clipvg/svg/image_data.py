"""Decoding the pixels an SVG ``<image>`` (or ``feImage``) refers to.

``decode_image_href`` turns an ``href`` into an (H, W, 4) float32 straight-RGBA array in [0, 1]:
``data:`` URIs (base64 or percent-encoded) and local files (relative to the SVG's folder) holding PNG
(8/16-bit, greyscale, palette), JPEG (EXIF orientation applied, as browsers do), WebP or GIF (first
frame), or an SVG/SVGZ document, which clipvg itself renders. The network is never read: ``http:``,
``https:`` and every other scheme are refused. Every failure raises ``ImageDataError`` so that the
caller can skip the one element with a warning naming it.
"""
from __future__ import annotations

import base64
import binascii
import contextvars
import functools
import gzip
import io
import os
import re
import urllib.parse
import warnings
from typing import NamedTuple

import numpy as np

from ..errors import InvalidInputError

MAX_IMAGE_PIXELS = 1 << 25  # ~33.5 Mpx (a 5792 px square): larger images are refused before decoding
MAX_SVG_NESTING = 4  # SVG images inside SVG images deeper than this are refused (recursion guard)
RASTER_FORMATS = ("PNG", "JPEG", "GIF", "WEBP")  # what resvg and browsers decode in <image>
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]+):")  # two letters at least: "C:" is a Windows drive
_DATA = re.compile(r"^data:([^,]*?),(.*)$", re.DOTALL)
_OPEN_SVGS: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("clipvg_open_svg_images", default=())


class ImageDataError(InvalidInputError):
    """An image reference cannot be turned into pixels (remote URL, missing file, corrupt data, too large)."""


class ImageSource(NamedTuple):
    """The bytes an href refers to: ``is_svg`` for SVG/SVGZ documents (already un-gzipped);
    ``base_dir`` the folder its own relative references resolve in; ``name`` for messages."""

    data: bytes
    is_svg: bool
    base_dir: str | None
    name: str


def decode_image_href(href: str, base_dir: str | None, *, svg_size: tuple[int, int] | None = None
                      ) -> np.ndarray:
    """(H, W, 4) float32 straight RGBA in [0, 1] of the image ``href`` refers to.

    ``base_dir``: the folder relative file names are resolved in (the referencing SVG's folder; None
    for SVG given as a string, where only absolute file names work); an SVG embedded as a data URI
    has no folder. ``svg_size`` (width, height) px:
    the size an SVG image is rendered at (default its own canvas size). Raises ``ImageDataError``
    for remote or unsupported URLs, missing files, undecodable data, images over MAX_IMAGE_PIXELS,
    and SVG images that include themselves.
    """
    return decode_image(read_image_href(href, base_dir), svg_size)


def read_image_href(href: str, base_dir: str | None) -> ImageSource:
    """The bytes behind ``href`` (a data: URI or a local file name, see ``decode_image_href``)."""
    href = (href or "").strip()
    if not href:
        raise ImageDataError("image has an empty href; point it at a file next to the SVG or a data: URI")
    if href.lower().startswith("data:"):
        mime, data = _data_uri(href)
        return _source(data, mime, None, href[:40] + "...")  # embedded SVG: no folder to read files from (as resvg)
    path = _local_path(href, base_dir)
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as error:
        raise ImageDataError(f"image file {path} cannot be read ({error.strerror or error}); check that it "
                             "exists next to the SVG") from None
    mime = "image/svg+xml" if path.lower().endswith((".svg", ".svgz")) else ""
    return _source(data, mime, os.path.dirname(path), os.path.realpath(path))


def decode_image(source: ImageSource, svg_size: tuple[int, int] | None = None) -> np.ndarray:
    """(H, W, 4) float32 straight RGBA in [0, 1] of ``source``; an SVG is drawn at ``svg_size``
    (width, height) px, by default its own canvas size."""
    if source.is_svg:
        return _render_svg(source, svg_size)
    return _decode_raster(source.data, source.name)


def image_size(source: ImageSource) -> tuple[float, float]:
    """The intrinsic (width, height) of ``source``: pixels of a raster (after EXIF rotation), the
    canvas size of an SVG."""
    if source.is_svg:
        scene = _load_svg_scene(source)
        return scene.width, scene.height
    height, width = _decode_raster(source.data, source.name).shape[:2]
    return float(width), float(height)


def _source(data: bytes, mime: str, base_dir: str | None, name: str) -> ImageSource:
    if not data:
        raise ImageDataError(f"image {name} holds no data")
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not (mime.startswith("image/svg") or head.startswith((b"<", b"\x1f\x8b"))):
        return ImageSource(data, False, base_dir, name)
    if head.startswith(b"\x1f\x8b"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as error:
            raise ImageDataError(f"image {name} is not a readable SVGZ ({error})") from None
    return ImageSource(data, True, base_dir, name)


def png_data_uri(pixels: np.ndarray) -> str:
    """A ``data:image/png;base64,`` URI of ``pixels`` (H, W, 4) straight RGBA in [0, 1] (8 bits)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.round(np.clip(pixels, 0, 1) * 255).astype(np.uint8), "RGBA").save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _data_uri(href: str) -> tuple[str, bytes]:
    """(media type, payload bytes) of a ``data:`` URI."""
    match = _DATA.match(href)
    if match is None:
        raise ImageDataError("image data: URI has no ',' before its data; write data:image/png;base64,<data>")
    header, payload = match.group(1).strip(), match.group(2)
    parts = [p.strip().lower() for p in header.split(";")]
    if "base64" in parts:
        text = re.sub(r"[\s]+", "", urllib.parse.unquote(payload))
        try:
            data = base64.b64decode(text + "=" * (-len(text) % 4), validate=False)
        except (binascii.Error, ValueError) as error:
            raise ImageDataError(f"image data: URI has invalid base64 data ({error})") from None
    else:
        data = urllib.parse.unquote_to_bytes(payload)
    return parts[0] if parts else "", data


def _local_path(href: str, base_dir: str | None) -> str:
    """The file an href names; refuses every URL scheme (the network is never read)."""
    scheme = _SCHEME.match(href)
    if scheme is not None:
        raise ImageDataError(f"image {href[:80]} is not fetched: clipvg never reads {scheme.group(1)}: URLs; "
                             "save the image next to the SVG and refer to it by a relative file name")
    path = urllib.parse.unquote(href.split("#", 1)[0])
    if os.path.isabs(path):
        return path
    if base_dir is None:
        raise ImageDataError(f"image {href[:80]} is a relative file name but the SVG was given as a string; "
                             "load the SVG from its file (or give an absolute file name)")
    return os.path.normpath(os.path.join(base_dir, path))


def _decode_raster(data: bytes, name: str) -> np.ndarray:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=RASTER_FORMATS)
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ImageDataError(f"image {name} is {width} x {height} px, more than {MAX_IMAGE_PIXELS} pixels; "
                                     "scale it down before embedding it")
            image.seek(0)  # GIF/WebP animations: the first frame
            image.load()
            image = ImageOps.exif_transpose(image) if image.format == "JPEG" else image
    except ImageDataError:
        raise
    except UnidentifiedImageError:
        raise ImageDataError(f"image {name} is not a PNG, JPEG, GIF, WebP or SVG image") from None
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as error:
        raise ImageDataError(f"image {name} cannot be decoded ({error})") from None
    return _to_rgba(image)


def _to_rgba(image) -> np.ndarray:
    """(H, W, 4) float32 straight RGBA in [0, 1] of a PIL image of any mode (16-bit greys kept exact)."""
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        grey = np.asarray(image, dtype=np.float64)
        grey = grey / (65535.0 if image.mode != "I" or grey.max(initial=0) > 255 else 255.0)
        grey = np.clip(grey, 0, 1).astype(np.float32)
        return np.stack([grey, grey, grey, np.ones_like(grey)], axis=-1)
    if image.mode == "F":
        grey = np.clip(np.asarray(image, dtype=np.float32), 0, 1)
        return np.stack([grey, grey, grey, np.ones_like(grey)], axis=-1)
    return np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0


@functools.lru_cache(maxsize=8)  # its size and its pixels are asked for one after the other
def _load_svg_scene(source: ImageSource):
    """The Scene of an SVG image, guarded against including itself."""
    from ..errors import ClipvgError
    from .reader import load_svg

    key = source.name if not source.name.endswith("...") else str(hash(source.data))
    open_svgs = _OPEN_SVGS.get()
    if key in open_svgs or len(open_svgs) >= MAX_SVG_NESTING:
        raise ImageDataError(f"SVG image {source.name} includes itself (or nests more than {MAX_SVG_NESTING} "
                             "SVG images deep); it is not drawn")
    try:
        text = source.data.decode("utf-8")
    except UnicodeDecodeError:
        text = source.data.decode("latin-1")
    token = _OPEN_SVGS.set(open_svgs + (key,))
    try:
        return load_svg(text.lstrip("\ufeff \t\r\n"), base_dir=source.base_dir)
    except ClipvgError as error:
        raise ImageDataError(f"SVG image {source.name} cannot be read: {error}") from None
    finally:
        _OPEN_SVGS.reset(token)


def _render_svg(source: ImageSource, svg_size: tuple[int, int] | None) -> np.ndarray:
    """An SVG image drawn by clipvg at ``svg_size`` (default its canvas size), straight RGBA."""
    import torch

    from ..render.api import render

    scene = _load_svg_scene(source)
    width, height = svg_size or (max(1, round(scene.width)), max(1, round(scene.height)))
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageDataError(f"SVG image {source.name} would be drawn at {width} x {height} px, more than "
                             f"{MAX_IMAGE_PIXELS} pixels; give the <image> a smaller size")
    with torch.no_grad():
        return render(scene, int(width), int(height)).numpy().astype(np.float32)


__all__ = ["MAX_IMAGE_PIXELS", "ImageDataError", "ImageSource", "decode_image", "decode_image_href", "image_size",
           "png_data_uri", "read_image_href"]
