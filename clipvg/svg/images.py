"""SVG ``<image>`` elements -> ``clipvg.scene.tree.Image`` nodes.

Before svgelements reads the document, each ``<image>`` becomes an empty ``<g>`` carrying the
image's own attributes (so its transform, opacity, clip-path, mask, filter and cascaded style come
through as for any group) and a key into a table of the original elements. The reader then asks
``image_node`` for the textured quad: x/y/width/height (``auto`` or missing sizes from the image's
intrinsic size), ``preserveAspectRatio`` (every align value, meet/slice, none; slice crops the
texture to the viewport) and ``image-rendering``. An SVG image also carries an ``SVGRedraw``, so the
renderer draws its vectors anew at the output pixels.
"""
from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import numpy as np

from ..scene.tree import Image
from .document import SVG_NS, XLINK_HREF, local_name, user_length
from .image_data import (MAX_IMAGE_PIXELS, ImageDataError, SVGRedraw, decode_image, image_size, read_image_href,
                         svg_texture)

IMAGE_KEY = "clipvg-image"  # attribute of the <g> standing for an <image>: its index in the table
SVG_OVERSAMPLE = 4  # an SVG image's load-time texture (saved; drawn where SVGRedraw cannot be): texels per canvas px
MIN_SVG_TEXTURE_SIDE = 768  # its longer side at least (sharp when rendered larger than the canvas; ~0.5 s to draw)
MAX_SVG_TEXTURE_SIDE = 4096
_ALIGNS = {"xMin": 0.0, "xMid": 0.5, "xMax": 1.0, "YMin": 0.0, "YMid": 0.5, "YMax": 1.0}
_NEAREST = {"optimizeSpeed", "pixelated", "crisp-edges"}


def mark_images(root: ET.Element) -> list[ET.Element]:
    """Replace every ``<image>`` under ``root`` by a ``<g>`` keyed into the returned table, in place."""
    table: list[ET.Element] = []
    for element in root.iter():
        if local_name(element.tag) != "image":
            continue
        table.append(ET.Element(element.tag, dict(element.attrib)))
        for name in ("x", "y", "width", "height", "href", XLINK_HREF, "preserveAspectRatio"):
            element.attrib.pop(name, None)
        element.tag = f"{{{SVG_NS}}}g"
        element.set(IMAGE_KEY, str(len(table) - 1))
        element[:] = []
    return table


def image_node(element: ET.Element, values: dict, ctm: np.ndarray, viewport: tuple[float, float],
               base_dir: str | None) -> Image | None:
    """The Image drawn for ``element`` (an original ``<image>``) under ``ctm`` (3, 3) user -> canvas
    px, or None when it draws nothing (zero size, hidden). ``values``: its cascaded style. Raises
    ImageDataError when the referenced image cannot be had."""
    if values.get("visibility") in ("hidden", "collapse") or values.get("display") == "none":
        return None
    href = element.get("href") or element.get(XLINK_HREF) or ""
    source = read_image_href(href, base_dir)
    pixels = None if source.is_svg else decode_image(source)  # a raster is decoded once, its size read from it
    natural_w, natural_h = image_size(source) if pixels is None else (float(pixels.shape[1]), float(pixels.shape[0]))
    if natural_w <= 0 or natural_h <= 0:
        return None
    x, y = (user_length(element.get(name) or "0", viewport[axis]) for axis, name in enumerate("xy"))
    width, height = _size(element, viewport, natural_w, natural_h)
    if width <= 0 or height <= 0:
        return None
    placement, view = _fit(natural_w, natural_h, x, y, width, height, element.get("preserveAspectRatio") or "")
    to_canvas = ctm @ placement
    sampling = "nearest" if values.get("image-rendering", "auto") in _NEAREST else "bicubic"
    if source.is_svg:
        scale = max(math.sqrt(abs(np.linalg.det(to_canvas[:2, :2]))) * SVG_OVERSAMPLE,
                    MIN_SVG_TEXTURE_SIDE / max(natural_w, natural_h))
        tw = max(1, min(MAX_SVG_TEXTURE_SIDE, math.ceil(natural_w * scale)))
        th = max(1, min(MAX_SVG_TEXTURE_SIDE, math.ceil(natural_h * scale)))
        while tw * th > MAX_IMAGE_PIXELS:
            tw, th = max(1, tw // 2), max(1, th // 2)
        texture = svg_texture(source, (tw, th))  # drawn when the Scene is built
        sampling = "bilinear"  # drawn as vectors: image-rendering does not apply (resvg, browsers)
        texel = np.diag([natural_w / tw, natural_h / th, 1.0])
        to_canvas = to_canvas @ texel
        view = None if view is None else (view[0] * tw / natural_w, view[1] * th / natural_h,
                                          view[2] * tw / natural_w, view[3] * th / natural_h)
    else:
        texture = np.ascontiguousarray(pixels)
    m = to_canvas
    return Image(texture,  # a tensor once the Scene is built (svg.pending)
                 (float(m[0, 0]), float(m[1, 0]), float(m[0, 1]), float(m[1, 1]), float(m[0, 2]), float(m[1, 2])),
                 sampling=sampling, view=view, id=element.get("id"),
                 redraw=SVGRedraw(source, (natural_w, natural_h)) if source.is_svg else None)


def _size(element: ET.Element, viewport: tuple[float, float], natural_w: float, natural_h: float
          ) -> tuple[float, float]:
    """width/height in user units: ``auto`` or missing ones from the intrinsic size (keeping its ratio
    when the other is given)."""
    given = []
    for axis, name in enumerate(("width", "height")):
        text = (element.get(name) or "").strip()
        given.append(None if text in ("", "auto") else user_length(text, viewport[axis]))
    width, height = given
    if width is None and height is None:
        return natural_w, natural_h
    if width is None:
        return height * natural_w / natural_h, height
    if height is None:
        return width, width * natural_h / natural_w
    return width, height


def _fit(natural_w: float, natural_h: float, x: float, y: float, width: float, height: float, aspect: str
         ) -> tuple[np.ndarray, tuple[float, float, float, float] | None]:
    """(3, 3) image px -> user units placing the image in the viewport (x, y, width, height) by
    ``preserveAspectRatio``, and the part of the image that shows (image px x, y, w, h; None: all)."""
    words = aspect.replace("defer", "").split()
    align = words[0] if words else "xMidYMid"
    slice_ = len(words) > 1 and words[1] == "slice"
    if align == "none":
        return np.array([[width / natural_w, 0, x], [0, height / natural_h, y], [0, 0, 1.0]]), None
    match = re.fullmatch(r"(x(?:Min|Mid|Max))(Y(?:Min|Mid|Max))", align)
    ax, ay = (_ALIGNS[match.group(1)], _ALIGNS[match.group(2)]) if match else (0.5, 0.5)
    scale = (max if slice_ else min)(width / natural_w, height / natural_h)
    left = x + (width - natural_w * scale) * ax
    top = y + (height - natural_h * scale) * ay
    placement = np.array([[scale, 0, left], [0, scale, top], [0, 0, 1.0]])
    if not slice_:
        return placement, None
    view = ((x - left) / scale, (y - top) / scale, width / scale, height / scale)
    return placement, view


__all__ = ["IMAGE_KEY", "ImageDataError", "image_node", "mark_images"]
