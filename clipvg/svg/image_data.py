"""Decoding the pixels an SVG ``<image>`` (or ``feImage``) refers to.

``decode_image_href`` turns an ``href`` into an (H, W, 4) float32 straight-RGBA array in [0, 1]:
``data:`` URIs (base64 or percent-encoded) and local files (relative to the SVG's folder) holding PNG
(8/16-bit, greyscale, palette), JPEG (EXIF orientation applied, as browsers do), WebP or GIF (first
frame), or an SVG/SVGZ document, which clipvg itself renders. The network is never read: ``http:``,
``https:`` and every other scheme are refused. Every failure raises ``ImageDataError`` so that the
caller can skip the one element with a warning naming it. The reader reads an SVG image at once (torch-free,
``clipvg.svg.reader.read_svg``) and draws it when the Scene is built (``svg_texture``: torch).
"""
from __future__ import annotations

import base64
import binascii
import contextlib
import contextvars
import copy
import dataclasses
import functools
import gzip
import io
import math
import os
import re
import stat
import urllib.parse
import warnings
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Iterator, NamedTuple

import numpy as np

from ..errors import InvalidInputError
from .pending import Pending

if TYPE_CHECKING:
    import torch

    from .reader import ReadSVG

MAX_IMAGE_PIXELS = 1 << 25  # ~33.5 Mpx (a 5792 px square): larger images are refused before decoding
MAX_SVG_NESTING = 4  # SVG images inside SVG images deeper than this are refused (recursion guard)
RASTER_FORMATS = ("PNG", "JPEG", "GIF", "WEBP")  # what resvg and browsers decode in <image>
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]+):")  # two letters at least: "C:" is a Windows drive
_DATA = re.compile(r"^data:([^,]*?),(.*)$", re.DOTALL)
_OPEN_SVGS: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("clipvg_open_svg_images", default=())
_LOCAL_FILES: contextvars.ContextVar[bool] = contextvars.ContextVar("clipvg_local_image_files", default=True)
MAX_IMAGE_FILE_BYTES = 1 << 28  # 256 MiB: a local image file larger than this is refused before it is read


@contextlib.contextmanager
def without_local_files() -> Iterator[None]:
    """Inside the block, ``<image>`` and ``feImage`` read ``data:`` URIs only, never a local file (a server reading
    uploaded SVGs: an absolute name would read, and embed in the document it sends back, any file it can open)."""
    token = _LOCAL_FILES.set(False)
    try:
        yield
    finally:
        _LOCAL_FILES.reset(token)


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
    data = _read_file(path)
    mime = "image/svg+xml" if path.lower().endswith((".svg", ".svgz")) else ""
    return _source(data, mime, os.path.dirname(path), os.path.realpath(path))


def decode_image(source: ImageSource, svg_size: tuple[int, int] | None = None) -> np.ndarray:
    """(H, W, 4) float32 straight RGBA in [0, 1] of ``source``; an SVG is drawn at ``svg_size``
    (width, height) px, by default its own canvas size."""
    if source.is_svg:
        return _render_svg(source, svg_size)
    return _decode_raster(source.data, source.name)


def svg_texture(source: ImageSource, size: tuple[int, int]) -> Pending:
    """The (h, w, 4) float32 straight-RGBA texture of the SVG image ``source`` drawn at ``size`` (w, h) px, made
    when the Scene is built: the SVG is read now (without torch; ImageDataError as ``decode_image``)."""
    read = _load_svg_scene(source)
    return Pending(_draw_texture, (read, _svg_pixels(source, read, size)))


def image_size(source: ImageSource) -> tuple[float, float]:
    """The intrinsic (width, height) of ``source``: pixels of a raster (after EXIF rotation), the
    canvas size of an SVG."""
    if source.is_svg:
        read = _load_svg_scene(source)
        return read.width, read.height
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


def _read_file(path: str) -> bytes:
    """The bytes of the regular file ``path``, at most MAX_IMAGE_FILE_BYTES; a device (``/dev/zero``), a FIFO (which
    would wait for a writer) or a directory is refused before anything is read."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO opens without waiting
    except OSError as error:
        raise ImageDataError(f"image file {path} cannot be read ({error.strerror or error}); check that it "
                             "exists next to the SVG") from None
    with os.fdopen(descriptor, "rb") as file:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise ImageDataError(f"image file {path} is not a regular file (a device, pipe or folder); point the "
                                 "image at a PNG, JPEG, WebP, GIF or SVG file")
        try:
            data = file.read(MAX_IMAGE_FILE_BYTES + 1)
        except OSError as error:
            raise ImageDataError(f"image file {path} cannot be read ({error.strerror or error})") from None
    if len(data) > MAX_IMAGE_FILE_BYTES:
        raise ImageDataError(f"image file {path} is over {MAX_IMAGE_FILE_BYTES >> 20} MiB; use a smaller image")
    return data


def _local_path(href: str, base_dir: str | None) -> str:
    """The file an href names; refuses every URL scheme (the network is never read), and every file inside
    ``without_local_files``."""
    if not _LOCAL_FILES.get():
        raise ImageDataError(f"image {href[:80]} is a file name, and this reader opens no local files (the web "
                             "editor reads images embedded as data: URIs only); embed the image in the SVG")
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


def _load_svg_scene(source: ImageSource) -> ReadSVG:
    """An SVG image read (``read_svg``: without torch; draw a copy, ``_draw``), guarded against including itself
    (also when it is drawn anew)."""
    with _opened(source):
        return _read_svg_scene(source)


@functools.lru_cache(maxsize=8)  # its size and its pixels are asked for one after the other
def _read_svg_scene(source: ImageSource) -> ReadSVG:
    """An SVG image read (call it through ``_load_svg_scene``)."""
    from ..errors import ClipvgError
    from .reader import read_svg

    try:
        text = source.data.decode("utf-8")
    except UnicodeDecodeError:
        text = source.data.decode("latin-1")
    try:
        return read_svg(text.lstrip("\ufeff \t\r\n"), base_dir=source.base_dir)
    except ClipvgError as error:
        raise ImageDataError(f"SVG image {source.name} cannot be read: {error}") from None


@contextlib.contextmanager
def _opened(source: ImageSource) -> Iterator[None]:
    """``source`` marked open (being loaded or drawn) inside the block; ImageDataError when it already
    is, or SVG images nest more than MAX_SVG_NESTING deep (an SVG image including itself)."""
    key = source.name if not source.name.endswith("...") else str(hash(source.data))
    open_svgs = _OPEN_SVGS.get()
    if key in open_svgs or len(open_svgs) >= MAX_SVG_NESTING:
        raise ImageDataError(f"SVG image {source.name} includes itself (or nests more than {MAX_SVG_NESTING} "
                             "SVG images deep); it is not drawn")
    token = _OPEN_SVGS.set(open_svgs + (key,))
    try:
        yield
    finally:
        _OPEN_SVGS.reset(token)


@dataclasses.dataclass(frozen=True)
class SVGRedraw:
    """An SVG image drawn anew, as vectors, at the output pixels (as resvg draws an SVG image), instead of
    resampling the texture made at load time, whose texels do not line up with the output pixels (its
    edges then blur by up to a texel). ``source``: the SVG document; ``natural``: its intrinsic
    (width, height) px."""

    source: ImageSource
    natural: tuple[float, float]

    def __call__(self, matrix: np.ndarray, texture_size: tuple[int, int], view: tuple[float, float, float, float],
                 width: int, height: int) -> tuple[np.ndarray, tuple[int, int]] | None:
        """For the load-time texture (``texture_size`` (w, h) texels, its part ``view`` (x, y, w, h texels)
        drawn) placed by ``matrix`` (3, 3) texel -> output px on a ``width`` x ``height`` canvas: the
        (h', w', 4) float32 straight-RGBA texture whose texels are the output pixels from (x0, y0) on
        (the view cut out, edges antialiased), and that (x0, y0); None when the placement is singular,
        the image lands outside the canvas, would take more than MAX_IMAGE_PIXELS, or is drawn inside
        itself."""
        to_texels = np.diag([texture_size[0] / self.natural[0], texture_size[1] / self.natural[1], 1.0])
        placement = np.asarray(matrix, dtype=np.float64) @ to_texels  # natural px -> output px
        if abs(np.linalg.det(placement[:2, :2])) < 1e-12:
            return None
        seen = tuple(float(v) for v in (view[0] / to_texels[0, 0], view[1] / to_texels[1, 1],
                                         view[2] / to_texels[0, 0], view[3] / to_texels[1, 1]))
        x, y, w, h = seen
        corners = placement[:2, :2] @ np.array([[x, x + w, x + w, x], [y, y, y + h, y + h]]) + placement[:2, 2:]
        seen = self._cut(seen, placement)
        x0, y0 = max(0, math.floor(corners[0].min())), max(0, math.floor(corners[1].min()))
        x1, y1 = min(width, math.ceil(corners[0].max())), min(height, math.ceil(corners[1].max()))
        if x1 <= x0 or y1 <= y0 or (x1 - x0) * (y1 - y0) > MAX_IMAGE_PIXELS:
            return None
        shifted = np.array([[1.0, 0, -x0], [0, 1.0, -y0], [0, 0, 1.0]]) @ placement
        affine = tuple(float(v) for v in shifted[:2].T.reshape(-1))  # a, b, c, d, e, f
        try:
            pixels = _render_svg_window(self.source, self.natural, affine, seen, (x1 - x0, y1 - y0))
        except ImageDataError:  # drawn inside itself (the load-time texture has its finite recursion)
            return None
        return pixels, (x0, y0)

    def _cut(self, seen: tuple[float, float, float, float], placement: np.ndarray) -> tuple[float, float, float, float]:
        """The rect (x, y, w, h, own px) the image is cut to: ``seen``, but one output pixel wider on each
        side where it is the image's own edge. Content reaching that edge then ends with its own
        antialiasing only (a cut there would antialias it twice; resvg draws it once), and what the
        image draws outside its viewBox shows at most one pixel (the texture holds only the pixels the
        image touches); a slice cuts at its exact edges."""
        x, y, w, h = seen
        grow = [1.0 / max(float(np.hypot(*placement[:2, k])), 1e-12) for k in (0, 1)]  # own px per output px
        left = x - grow[0] if abs(x) < 1e-9 * self.natural[0] else x
        top = y - grow[1] if abs(y) < 1e-9 * self.natural[1] else y
        right = x + w + (grow[0] if abs(x + w - self.natural[0]) < 1e-9 * self.natural[0] else 0.0)
        bottom = y + h + (grow[1] if abs(y + h - self.natural[1]) < 1e-9 * self.natural[1] else 0.0)
        return left, top, right - left, bottom - top


@functools.lru_cache(maxsize=4)  # an edit loop draws at one size: each image is drawn once (few: up to 512 MB each)
def _render_svg_window(source: ImageSource, natural: tuple[float, float], affine: tuple[float, ...],
                       seen: tuple[float, float, float, float], size: tuple[int, int]) -> np.ndarray:
    """(h, w, 4) float32 straight RGBA: an SVG image drawn on ``size`` (w, h) px through ``affine`` (a, b,
    c, d, e, f: its own px -> these px), cut to ``seen`` (x, y, w, h of its own px). Its root becomes a
    nested ``<svg>`` of its natural size (so its viewBox, percentages and stylesheet keep their meaning)
    inside an ``<svg>`` viewport that cuts it, inside a transformed group of a new root."""
    from .document import SVG_NS, parse_xml

    inner = parse_xml(source.data, source.name)
    for name in ("x", "y", "width", "height"):
        inner.attrib.pop(name, None)
    inner.attrib.update({"width": repr(natural[0]), "height": repr(natural[1]), "overflow": "visible"})
    outer = ET.Element(f"{{{SVG_NS}}}svg", {"width": str(size[0]), "height": str(size[1]),
                                            "viewBox": f"0 0 {size[0]} {size[1]}"})
    group = ET.SubElement(outer, f"{{{SVG_NS}}}g", {"transform": "matrix({})".format(" ".join(map(repr, affine)))})
    cut = ET.SubElement(group, f"{{{SVG_NS}}}svg", {**dict(zip(("x", "y", "width", "height"), map(repr, seen))),
                                                    "viewBox": " ".join(map(repr, seen))})
    cut.append(inner)
    wrapped = ImageSource(ET.tostring(outer), True, source.base_dir, f"{source.name} (drawn on {size[0]} x {size[1]} px)")
    with _opened(source), warnings.catch_warnings():  # what it cannot draw was reported when it was loaded
        warnings.simplefilter("ignore")
        return _render_svg(wrapped, size)


def _render_svg(source: ImageSource, svg_size: tuple[int, int] | None) -> np.ndarray:
    """An SVG image drawn by clipvg at ``svg_size`` (default its canvas size), straight RGBA."""
    read = _load_svg_scene(source)
    return _draw(read, _svg_pixels(source, read, svg_size))


def _svg_pixels(source: ImageSource, read: ReadSVG, svg_size: tuple[int, int] | None) -> tuple[int, int]:
    """The (width, height) px the SVG image ``source`` (``read``) is drawn at: ``svg_size``, by default its canvas
    size; ImageDataError over MAX_IMAGE_PIXELS."""
    width, height = svg_size or (max(1, round(read.width)), max(1, round(read.height)))
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageDataError(f"SVG image {source.name} would be drawn at {width} x {height} px, more than "
                             f"{MAX_IMAGE_PIXELS} pixels; give the <image> a smaller size")
    return int(width), int(height)


def _draw(read: ReadSVG, size: tuple[int, int]) -> np.ndarray:
    """(h, w, 4) float32 straight RGBA: ``read`` (a copy of it: a read SVG builds one Scene) drawn on ``size``
    (w, h) px by clipvg's renderer."""
    import torch

    from ..render.api import render

    with torch.no_grad():
        return render(copy.deepcopy(read).to_scene(), *size).numpy().astype(np.float32)


def _draw_texture(read: ReadSVG, size: tuple[int, int]) -> torch.Tensor:
    """``_draw`` as the tensor an Image's texture is (``svg_texture``)."""
    import torch

    return torch.from_numpy(_draw(read, size))


__all__ = ["MAX_IMAGE_PIXELS", "ImageDataError", "ImageSource", "SVGRedraw", "decode_image", "decode_image_href", "image_size",
           "png_data_uri", "read_image_href", "svg_texture"]
