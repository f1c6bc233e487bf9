"""Reading SVG filters: a ``filter`` property (``url(#id)`` references and CSS filter functions) ->
``clipvg.scene.tree.Filter`` nodes in canvas px, following resvg (usvg's filter conversion).

Lengths are resolved in the referencing element's user space (``filterUnits``/``primitiveUnits``,
objectBoundingBox or userSpaceOnUse), then mapped to canvas px with the element's transform: regions
by their bounding rectangle, standard deviations, offsets and radii by the transform's scale per axis
(as resvg), light positions by the whole transform. Numbers an optimiser may tune are tensors.
"""
from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np
from svgelements import Color

from ..scene.tree import Filter, FilterPrimitive, Group, Rect
from .css import declared
from .document import SVG_NS, XLINK_HREF, local_name, user_length
from .images import ImageDataError, image_node
from .pending import Pending

if TYPE_CHECKING:
    import torch

BBox = tuple[float, float, float, float]  # x0, y0, x1, y1 in the element's user space
DrawElement = Callable[[ET.Element, np.ndarray], "Group | None"]  # element, matrix (3, 3) -> its content
SOURCES = ("SourceGraphic", "SourceAlpha")
UNSUPPORTED_SOURCES = ("BackgroundImage", "BackgroundAlpha", "FillPaint", "StrokePaint")  # read as SourceGraphic
LIGHTS = ("feDistantLight", "fePointLight", "feSpotLight")
_FUNCTION = re.compile(r"\s*(url\(\s*[^)]*\)|[a-zA-Z-]+\([^)]*\))\s*,?")
_LENGTH = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(px|mm|cm|in|pt|pc|em|ex|%)?$")
_ANGLE_UNITS = {"deg": 1.0, "grad": 0.9, "rad": 180 / math.pi, "turn": 360.0, "": 1.0}
_PX = {"px": 1.0, "": 1.0, "mm": 96 / 25.4, "cm": 96 / 2.54, "in": 96.0, "pt": 96 / 72, "pc": 16.0}


class InvalidFilter(Exception):
    """A ``filter`` that makes its element not drawn (resvg: a link to nothing, an empty region)."""


def _tensor(*values: float) -> np.ndarray:
    """A parameter tensor-to-be: float32, (n,) or () for one value (see clipvg.svg.pending)."""
    return _float32(values if len(values) > 1 else values[0])


def _float32(values: float | list[float] | tuple[float, ...]) -> np.ndarray:
    """``values`` as float32, out-of-range ones as inf without a warning (as ``torch.tensor`` makes them)."""
    with np.errstate(over="ignore"):
        return np.array(values, dtype=np.float32)


def _color_function(name: str, *values: float) -> Pending:
    """``clipvg.render.filters.color``'s matrix function ``name`` of float32 ``values``, made with the Scene."""
    return Pending(_call_color_function, (name, *values))


def _call_color_function(name: str, *values: float) -> torch.Tensor:
    import torch

    from ..render.filters import color

    return getattr(color, name)(*(torch.tensor(v, dtype=torch.float32) for v in values))


MAX_CONVOLVE_ELEMENTS = 64 * 64  # an feConvolveMatrix kernel larger than this is not applied (order 1000: 40 s at 200 px)


def _numbers(text: str | None) -> list[float] | None:
    """The numbers of an attribute; None when it is missing or any of them is not a finite number ("1e309",
    "nan": the attribute is invalid, so its default applies)."""
    if text is None:
        return None
    try:
        values = [float(v) for v in re.split(r"[\s,]+", text.strip()) if v]
    except ValueError:
        return None
    return values if all(math.isfinite(v) for v in values) else None


def _number(text: str | None, default: float) -> float:
    values = _numbers(text)
    return values[0] if values and len(values) == 1 else default


def _property(element: ET.Element, name: str) -> str | None:
    """A presentation attribute of the element itself (see clipvg.svg.css.declared)."""
    return declared(element).get(name)


def _color(text: str | None, current: str | None, default: tuple[float, float, float, float]
           ) -> tuple[float, float, float, float]:
    """A CSS colour as straight RGBA in [0, 1]; ``currentColor`` is ``current``; unreadable -> default."""
    if text is None:
        return default
    text = text.strip()
    if text == "currentColor":
        text = current or "black"
    color = Color(text)
    if color.value is None:
        return default
    return color.red / 255, color.green / 255, color.blue / 255, color.alpha / 255


def _scale(ctm: np.ndarray) -> tuple[float, float]:
    """The transform's scale per axis as resvg takes it (tiny-skia's ``get_scale``: row norms)."""
    return float(math.hypot(ctm[0, 0], ctm[0, 1])), float(math.hypot(ctm[1, 0], ctm[1, 1]))


def _map_rect(ctm: np.ndarray, rect: Rect) -> Rect:
    x, y, w, h = rect
    corners = np.array([[x, y, 1], [x + w, y, 1], [x, y + h, 1], [x + w, y + h, 1]], dtype=np.float64) @ ctm.T
    lo, hi = corners[:, :2].min(0), corners[:, :2].max(0)
    return float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1])


def _in_box(rect: Rect, box: BBox) -> Rect:
    """resvg's ``bbox_transform``: ``rect`` in units of ``box`` (x0, y0, x1, y1) -> user space."""
    w, h = box[2] - box[0], box[3] - box[1]
    return rect[0] * w + box[0], rect[1] * h + box[1], rect[2] * w, rect[3] * h


def break_fe_image_cycles(root: ET.Element, definitions: dict[str, ET.Element]) -> None:
    """An element that an ``feImage`` draws and that uses that feImage's own filter loses its
    ``filter`` (set to none, everywhere it is drawn), as usvg does; in place."""
    by_id = {e.get("id"): e for e in root.iter() if e.get("id")}
    for filter_id, element in definitions.items():
        if local_name(element.tag) != "filter":
            continue
        for fe_image in element.iter():
            if not isinstance(fe_image.tag, str) or local_name(fe_image.tag) != "feImage":
                continue
            target = by_id.get((fe_image.get("href") or fe_image.get(XLINK_HREF) or "").strip().lstrip("#"))
            value = target.get("filter", "") if target is not None else ""
            if re.search(r"url\(\s*['\"]?#" + re.escape(filter_id) + r"['\"]?\s*\)", value):
                target.set("filter", "none")


@dataclass(eq=False)
class FilterReader:
    """Turns ``filter`` properties into Filter nodes. ``definitions``: filters by id; ``by_id``: every
    element (feImage targets); ``draw``: reads an element as content drawn through a matrix (feImage);
    ``base_dir``: where feImage file names resolve; ``skipped`` counts what is not drawn."""

    definitions: dict[str, ET.Element]
    by_id: dict[str, ET.Element]
    viewport: tuple[float, float]
    skipped: Counter[str]
    draw: DrawElement
    base_dir: str | None

    # ------------------------------------------------------------------ the property
    def read(self, value: str | None, ctm: np.ndarray, bbox: Callable[[], BBox | None], color: str | None = None,
             font_size: float = 16.0) -> list[Filter]:
        """The filters of a ``filter`` property value, in order (empty for none or an unreadable list).
        Raises InvalidFilter when the element must not be drawn (only links to nothing)."""
        if value is None or value.strip() in ("", "none"):
            return []
        items, rest = [], value.strip()
        while rest:
            match = _FUNCTION.match(rest)
            if match is None:
                self.skipped[f"filter value {value!r} that cannot be read (drawn unfiltered)"] += 1
                return []
            items.append(match.group(1))
            rest = rest[match.end():].strip()
        filters: list[Filter] = []
        invalid_links = False
        for item in items:
            name, _, args = item.partition("(")
            args = args[:-1].strip()
            if name == "url":
                reference = re.sub(r"^['\"]?#?|['\"]?$", "", args)
                try:
                    filters.append(self._element(reference, ctm, bbox))
                except InvalidFilter:
                    invalid_links = True
                continue
            try:
                primitive = self._function(name, args, color, font_size)
            except ValueError:
                self.skipped[f"filter function {item!r} that cannot be read (drawn unfiltered)"] += 1
                return []
            box = bbox()
            if box is None or box[2] <= box[0] or box[3] <= box[1]:
                continue
            wide = primitive.kind in ("feGaussianBlur", "feDropShadow")
            region = _map_rect(ctm, _in_box((-0.5, -0.5, 2.0, 2.0) if wide else (-0.1, -0.1, 1.2, 1.2), box))
            primitive = _to_canvas(primitive, ctm)
            primitive.subregion = region
            filters.append(Filter([primitive], region))
        if not filters and invalid_links:
            raise InvalidFilter(value)
        return filters

    # ------------------------------------------------------------------ CSS filter functions
    def _function(self, name: str, args: str, color: str | None, font_size: float) -> FilterPrimitive:
        """One CSS filter function as a primitive in user units (sRGB, on SourceGraphic). Raises
        ValueError for an unknown function or bad arguments."""
        if "," in args:
            raise ValueError(args)  # CSS filter functions take space-separated values
        parts = args.split()

        def length(text: str) -> float:
            match = _LENGTH.match(text)
            if match is None or match.group(2) == "%":
                raise ValueError(text)
            unit = match.group(2) or ""
            scale = font_size if unit == "em" else font_size / 2 if unit == "ex" else _PX[unit]
            return float(match.group(1)) * scale

        def amount(default: float) -> float:
            if len(parts) > 1:
                raise ValueError(args)
            if not parts:
                return default
            text = parts[0]
            value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
            if value < 0:
                raise ValueError(text)
            return value

        def primitive(kind: str, **params) -> FilterPrimitive:
            return FilterPrimitive(kind, ["SourceGraphic"], "result", None, False, params)

        if name == "blur":
            std = length(parts[0]) if parts else 0.0
            if len(parts) > 1 or std < 0:
                raise ValueError(args)
            return primitive("feGaussianBlur", std=_tensor(std, std))
        if name == "drop-shadow":
            colors = [p for p in parts if _LENGTH.match(p) is None]
            lengths = [length(p) for p in parts if _LENGTH.match(p) is not None]
            if len(colors) > 1 or len(lengths) not in (2, 3) or (colors and colors[0] not in (parts[0], parts[-1])):
                raise ValueError(args)
            tint = _color(colors[0] if colors else None, color, _color(color or "black", None, (0, 0, 0, 1)))
            std = lengths[2] if len(lengths) == 3 else 0.0
            if std < 0:
                raise ValueError(args)
            return primitive("feDropShadow", std=_tensor(std, std), offset=_tensor(lengths[0], lengths[1]),
                             color=_tensor(*tint))
        if name == "hue-rotate":
            if len(parts) > 1:
                raise ValueError(args)
            match = re.match(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(deg|grad|rad|turn)?$", parts[0]) \
                if parts else None
            if parts and (match is None or (match.group(2) is None and float(match.group(1)) != 0)):
                raise ValueError(args)  # an angle needs its unit unless it is 0 (CSS)
            degrees = float(match.group(1)) * _ANGLE_UNITS[match.group(2) or ""] if match else 0.0
            return primitive("feColorMatrix", matrix=_color_function("hue_rotate_matrix", degrees))
        if name == "saturate":
            return primitive("feColorMatrix", matrix=_color_function("saturate_matrix", amount(1.0)))
        if name in ("grayscale", "sepia"):
            a = 1 - min(amount(1.0), 1.0)
            rows = ((0.2126, 0.7152, 0.0722), (0.2126, 0.7152, 0.0722), (0.2126, 0.7152, 0.0722)) \
                if name == "grayscale" else ((0.393, 0.769, 0.189), (0.349, 0.686, 0.168), (0.272, 0.534, 0.131))
            matrix = np.zeros((4, 5), dtype=np.float32)
            for i in range(3):
                for j in range(3):
                    matrix[i, j] = rows[i][j] * (1 - a) + (a if i == j else 0.0)
            matrix[3, 3] = 1.0
            return primitive("feColorMatrix", matrix=matrix)
        linear = {"brightness": lambda v: (v, 0.0), "contrast": lambda v: (v, 0.5 - 0.5 * v)}
        if name in linear:
            slope, intercept = linear[name](amount(1.0))
            func = {"type": "linear", "slope": _tensor(slope), "intercept": _tensor(intercept)}
            return primitive("feComponentTransfer", functions=[func, dict(func), dict(func), None])
        if name == "invert":
            v = min(amount(1.0), 1.0)
            return primitive("feComponentTransfer", functions=[{"type": "table", "values": _tensor(v, 1 - v)}
                                                               for _ in range(3)] + [None])
        if name == "opacity":
            v = min(amount(1.0), 1.0)
            return primitive("feComponentTransfer", functions=[None, None, None,
                                                               {"type": "table", "values": _tensor(0.0, v)}])
        raise ValueError(name)

    # ------------------------------------------------------------------ <filter> elements
    def _chain(self, element: ET.Element) -> list[ET.Element]:
        chain, current = [element], element
        while len(chain) < 16:
            target = self.definitions.get((current.get("href") or current.get(XLINK_HREF) or "").lstrip("#"))
            if target is None or any(target is c for c in chain):
                break
            if local_name(target.tag) != "filter":
                raise InvalidFilter("href to a non-filter")
            chain.append(target)
            current = target
        return chain

    def _element(self, reference: str, ctm: np.ndarray, bbox: Callable[[], BBox | None]) -> Filter:
        element = self.definitions.get(reference)
        if element is None or local_name(element.tag) != "filter":
            self.skipped[f"filter reference to missing #{reference} (element not drawn)"] += 1
            raise InvalidFilter(reference)
        chain = self._chain(element)

        def attr(name: str) -> str | None:
            return next((e.get(name) for e in chain if e.get(name) is not None), None)

        units = attr("filterUnits") if attr("filterUnits") in ("userSpaceOnUse", "objectBoundingBox") \
            else "objectBoundingBox"
        primitive_units = attr("primitiveUnits") if attr("primitiveUnits") in ("userSpaceOnUse", "objectBoundingBox") \
            else "userSpaceOnUse"
        box = bbox()
        if box is not None and (box[2] <= box[0] or box[3] <= box[1]):
            box = None
        defaults = ("-10%", "-10%", "120%", "120%")
        rect = [self._length(attr(n), units, axis, d) for axis, (n, d) in enumerate(zip(("x", "y", "width", "height"),
                                                                                          defaults))]
        if rect[2] <= 0 or rect[3] <= 0:
            self.skipped["filter with an empty region (element not drawn)"] += 1
            raise InvalidFilter(reference)
        if units == "objectBoundingBox":
            if box is None:
                raise InvalidFilter(reference)
            rect = list(_in_box(tuple(rect), box))
        holder = next((e for e in chain if len(e)), None)
        if holder is None:
            raise InvalidFilter(reference)
        if primitive_units == "objectBoundingBox" and box is None:
            raise InvalidFilter(reference)
        primitives = self._primitives(holder, element, primitive_units, box, tuple(rect), ctm)
        if not primitives:
            raise InvalidFilter(reference)
        return Filter(primitives, _map_rect(ctm, tuple(rect)), reference)

    def _length(self, text: str | None, units: str, axis: int, default: str | None) -> float | None:
        text = text if text is not None else default
        if text is None:
            return None
        if units == "objectBoundingBox":
            text = text.strip()
            try:
                return float(text[:-1]) / 100 if text.endswith("%") else float(text)
            except ValueError:
                return _number(default, 0.0) if default else None
        return user_length(text, self.viewport[axis % 2])

    def _primitives(self, holder: ET.Element, element: ET.Element, units: str, box: BBox | None, region: Rect,
                    ctm: np.ndarray) -> list[FilterPrimitive]:
        primitives: list[FilterPrimitive] = []
        names: set[str] = set()
        index = 1
        scale = (box[2] - box[0], box[3] - box[1]) if units == "objectBoundingBox" else (1.0, 1.0)
        for child in holder:
            if not isinstance(child.tag, str):
                continue
            kind = local_name(child.tag)
            if not kind.startswith("fe") or kind in ("feFuncR", "feFuncG", "feFuncB", "feFuncA", "feMergeNode",
                                                      *LIGHTS):
                continue
            subregion = self._subregion(child, kind, units, box, region)
            if subregion is None:
                break
            params, inputs = self._params(child, kind, scale, primitives, ctm, box, units, subregion)
            if params is None:
                self.skipped[f"filter primitive <{kind}> (ignored)"] += 1
                continue
            if params.pop("dummy", False):
                kind = "feFlood"  # an invalid primitive: transparent, as resvg
            space = _property(child, "color-interpolation-filters") or _property(element, "color-interpolation-filters")
            result = child.get("result")
            if result:
                names.add(result)
                index += 1
            else:
                while f"result{index}" in names:
                    index += 1
                result = f"result{index}"
                index += 1
            primitive = FilterPrimitive(kind, inputs, result, subregion, space != "sRGB", params)
            primitive = _to_canvas(primitive, ctm)
            if kind == "feImage":
                self._image(child, primitive, ctm, subregion[2:])
            primitives.append(primitive)
        return primitives

    def _subregion(self, child: ET.Element, kind: str, units: str, box: BBox | None, region: Rect) -> Rect | None:
        values = [self._length(child.get(n), units, axis, None)
                  for axis, n in enumerate(("x", "y", "width", "height"))]
        if units == "objectBoundingBox":
            fractions = tuple(v if v is not None else d for v, d in zip(values, (0.0, 0.0, 1.0, 1.0)))
            if fractions[2] <= 0 or fractions[3] <= 0:
                return None
            if kind in ("feFlood", "feImage"):
                return _in_box(fractions, box)
            return region[0] * fractions[2] + fractions[0], region[1] * fractions[3] + fractions[1], \
                region[2] * fractions[2], region[3] * fractions[3]
        rect = tuple(v if v is not None else r for v, r in zip(values, region))
        return rect if rect[2] > 0 and rect[3] > 0 else None

    def _input(self, child: ET.Element, name: str, primitives: list[FilterPrimitive]) -> str:
        value = child.get(name)
        previous = primitives[-1].result if primitives else "SourceGraphic"
        if value is None:
            return previous
        value = value.strip()
        if value in UNSUPPORTED_SOURCES:
            self.skipped[f"filter input {value} (read as SourceGraphic, as resvg)"] += 1
            return "SourceGraphic"
        if value in SOURCES:
            return value
        return value if any(p.result == value for p in primitives) else previous

    def _params(self, child: ET.Element, kind: str, scale: tuple[float, float], primitives: list[FilterPrimitive],
                ctm: np.ndarray, box: BBox | None, units: str, subregion: Rect) -> tuple[dict | None, list[str]]:
        """The primitive's parameters (user units times ``scale``) and its inputs; None for an
        unknown element."""
        first = [self._input(child, "in", primitives)]
        both = first + [self._input(child, "in2", primitives)]
        sx, sy = scale
        if kind in ("feGaussianBlur", "feDropShadow"):
            values = _numbers(child.get("stdDeviation", "0" if kind == "feGaussianBlur" else "2"))
            std = (values * 2)[:2] if values and len(values) in (1, 2) else [0.0, 0.0]
            std = [max(v, 0.0) if v >= 0 else 0.0 for v in std]
            params = {"std": _tensor(std[0] * sx, std[1] * sy)}
            if kind == "feDropShadow":
                params["offset"] = _tensor(_number(child.get("dx"), 2.0) * sx, _number(child.get("dy"), 2.0) * sy)
                params["color"] = _tensor(*self._flood_color(child))
            return params, first
        if kind == "feOffset":
            return {"offset": _tensor(_number(child.get("dx"), 0.0) * sx, _number(child.get("dy"), 0.0) * sy)}, first
        if kind == "feFlood":
            return {"color": _tensor(*self._flood_color(child))}, []
        if kind == "feBlend":
            mode = child.get("mode", "normal")
            return {"mode": mode if mode in _BLEND_MODES else "normal"}, both
        if kind == "feComposite":
            operator = child.get("operator", "over")
            operator = operator if operator in ("over", "in", "out", "atop", "xor", "arithmetic") else "over"
            return {"operator": operator, "k": _tensor(*(_number(child.get(f"k{i}"), 0.0) for i in range(1, 5)))}, both
        if kind == "feMerge":
            nodes = [n for n in child if isinstance(n.tag, str) and local_name(n.tag) == "feMergeNode"]
            return {}, [self._input(n, "in", primitives) for n in nodes]
        if kind == "feTile":
            return {}, first
        if kind == "feColorMatrix":
            return {"matrix": _color_matrix(child)}, first
        if kind == "feComponentTransfer":
            functions: list[dict | None] = [None] * 4
            for node in child:
                if isinstance(node.tag, str) and local_name(node.tag) in ("feFuncR", "feFuncG", "feFuncB", "feFuncA"):
                    functions["RGBA".index(local_name(node.tag)[-1])] = _transfer_function(node)
            return {"functions": functions}, first
        if kind == "feMorphology":
            return {"operator": "dilate" if child.get("operator") == "dilate" else "erode",
                    "radius": _tensor(*_morphology_radius(child.get("radius"), sx, sy))}, first
        if kind == "feConvolveMatrix":
            params = _convolve(child)
            if params is None:
                return _dummy(), []
            if params["kernel"].size > MAX_CONVOLVE_ELEMENTS:  # its cost is pixels x kernel elements
                self.skipped[f"feConvolveMatrix of over {MAX_CONVOLVE_ELEMENTS} kernel values (drawn transparent)"] += 1
                return _dummy(), []
            return params, first
        if kind == "feDisplacementMap":
            channel = {c: c for c in "RGBA"}
            return {"scale": _tensor(_number(child.get("scale"), 0.0) * (sx + sy) / 2),
                    "x_channel": channel.get(child.get("xChannelSelector", "A"), "A"),
                    "y_channel": channel.get(child.get("yChannelSelector", "A"), "A")}, both
        if kind == "feTurbulence":
            return _turbulence(child, ctm), []
        if kind in ("feDiffuseLighting", "feSpecularLighting"):
            params = self._lighting(child, kind)
            return (_dummy(), []) if params is None else (params, first)
        if kind == "feImage":
            return {}, []
        return None, []

    def _flood_color(self, child: ET.Element) -> tuple[float, float, float, float]:
        r, g, b, a = _color(_property(child, "flood-color"), _property(child, "color"), (0.0, 0.0, 0.0, 1.0))
        opacity = _property(child, "flood-opacity")
        if opacity is not None:
            text = opacity.strip()
            try:
                value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
            except ValueError:
                value = 1.0
            a *= min(max(value, 0.0), 1.0)
        return r, g, b, a

    def _lighting(self, child: ET.Element, kind: str) -> dict | None:
        light_element = next((n for n in child if isinstance(n.tag, str) and local_name(n.tag) in LIGHTS), None)
        if light_element is None:
            return None
        specular = kind == "feSpecularLighting"
        exponent = _number(child.get("specularExponent"), 1.0)
        if specular and not 1.0 <= exponent <= 128.0:
            return None
        text = _property(child, "lighting-color")
        current = _property(child, "color")
        color = (1.0, 1.0, 1.0, 1.0) if text is None else _color(text, current or "black", (1.0, 1.0, 1.0, 1.0))
        light_kind = local_name(light_element.tag)

        def value(name: str) -> float:
            return _number(light_element.get(name), 0.0)

        if light_kind == "feDistantLight":
            light = {"type": "distant", "azimuth": _tensor(value("azimuth")), "elevation": _tensor(value("elevation"))}
        else:
            point = [value("x"), value("y"), value("z")]  # user units even under objectBoundingBox (resvg)
            light = {"type": "point" if light_kind == "fePointLight" else "spot", "position": _tensor(*point)}
            if light_kind == "feSpotLight":
                target = [value("pointsAtX"), value("pointsAtY"), value("pointsAtZ")]
                spot_exponent = _number(light_element.get("specularExponent"), 1.0)
                cone = light_element.get("limitingConeAngle")
                light.update(points_at=_tensor(*target), exponent=_tensor(spot_exponent if spot_exponent > 0 else 1.0),
                             cone=None if cone is None else _number(cone, 90.0))
        constant = "specularConstant" if specular else "diffuseConstant"
        params = {"color": _tensor(*color[:3]), "surface_scale": _tensor(_number(child.get("surfaceScale"), 1.0)),
                  "constant": _tensor(_number(child.get(constant), 1.0)), "light": light}
        if specular:
            params["exponent"] = _tensor(exponent)
        return params

    def _image(self, child: ET.Element, primitive: FilterPrimitive, ctm: np.ndarray, size: tuple[float, float]
               ) -> None:
        """An feImage's content: a referenced element, or image data fitted into the subregion's ``size``
        (user units), drawn through the transform's scale per axis from the canvas subregion's whole-pixel
        origin (as resvg: under a rotation or skew the content stays upright)."""
        href = (child.get("href") or child.get(XLINK_HREF) or "").strip()
        sx, sy = _scale(ctm)
        placement = np.array([[sx, 0, math.floor(primitive.subregion[0])], [0, sy, math.floor(primitive.subregion[1])],
                              [0, 0, 1.0]])
        if href.startswith("#"):
            target = self.by_id.get(href[1:])
            if target is None:
                self.skipped[f"feImage reference to missing {href} (transparent)"] += 1
                return
            primitive.content = self.draw(target, placement)
            return
        if not href:
            return
        picture = ET.Element(f"{{{SVG_NS}}}image", {"href": href, "x": "0", "y": "0", "width": repr(size[0]),
                                                     "height": repr(size[1]),
                                                     "preserveAspectRatio": child.get("preserveAspectRatio", "")})
        try:
            node = image_node(picture, {"image-rendering": _property(child, "image-rendering") or "auto"}, placement,
                              self.viewport, self.base_dir)
        except ImageDataError as error:
            self.skipped[f"feImage whose image cannot be read ({error}; transparent)"] += 1
            return
        primitive.content = Group([node]) if node is not None else None


_BLEND_MODES = ("normal", "multiply", "screen", "overlay", "darken", "lighten", "color-dodge", "color-burn",
                "hard-light", "soft-light", "difference", "exclusion", "hue", "saturation", "color", "luminosity")


def _dummy() -> dict:
    """resvg's stand-in for an invalid primitive: a transparent flood."""
    return {"color": _tensor(0.0, 0.0, 0.0, 0.0), "dummy": True}


def _color_matrix(child: ET.Element) -> np.ndarray | Pending:
    kind = child.get("type", "matrix")
    values = _numbers(child.get("values"))
    identity = np.eye(4, 5, dtype=np.float32)
    if kind == "saturate":
        if values is None:
            return identity
        return _color_function("saturate_matrix", min(max(values[0], 0.0), 1.0) if values else 1.0)
    if kind == "hueRotate":
        if values is None:
            return identity
        return _color_function("hue_rotate_matrix", values[0] if values else 0.0)
    if kind == "luminanceToAlpha":
        return _color_function("luminance_to_alpha_matrix")
    if values is not None and len(values) == 20:
        return _float32(values).reshape(4, 5)
    return identity


def _transfer_function(node: ET.Element) -> dict | None:
    kind = node.get("type")
    if kind == "identity" or kind is None:
        return None
    if kind in ("table", "discrete"):
        values = _numbers(node.get("tableValues")) or []
        return {"type": kind, "values": _float32(values)}
    if kind == "linear":
        return {"type": kind, "slope": _tensor(_number(node.get("slope"), 1.0)),
                "intercept": _tensor(_number(node.get("intercept"), 0.0))}
    if kind == "gamma":
        return {"type": kind, "amplitude": _tensor(_number(node.get("amplitude"), 1.0)),
                "exponent": _tensor(_number(node.get("exponent"), 1.0)),
                "offset": _tensor(_number(node.get("offset"), 0.0))}
    return None


def _morphology_radius(text: str | None, sx: float, sy: float) -> tuple[float, float]:
    values = _numbers(text)
    if values is None:
        return sx, sy
    rx, ry = (values[0], values[1]) if len(values) == 2 else (values[0], values[0]) if len(values) == 1 else (0.0, 0.0)
    if rx == 0 and ry == 0:
        rx = ry = 1.0
    elif rx == 0:
        rx = 1.0
    elif ry == 0:
        ry = 1.0
    if rx < 0 or ry < 0:
        return sx, sy
    return rx * sx, ry * sy


def _convolve(child: ET.Element) -> dict | None:
    order = _numbers(child.get("order"))
    cols = rows = 3
    if order:
        x = int(order[0])
        y = int(order[1]) if len(order) > 1 else x
        if x > 0 and y > 0:
            cols, rows = x, y
    if order and (order[0] != int(order[0]) or (len(order) > 1 and order[1] != int(order[1]))):
        return None
    values = _numbers(child.get("kernelMatrix")) or []
    if len(values) != cols * rows:
        return None
    total = round(sum(values) * 1e6) / 1e6
    divisor = _number(child.get("divisor"), total if total != 0 else 1.0)
    if divisor == 0:
        return None

    def target(name: str, size: int) -> int | None:
        value = int(_number(child.get(name), size // 2))
        return value if 0 <= value < size else None

    tx, ty = target("targetX", cols), target("targetY", rows)
    if tx is None or ty is None:
        return None
    edge = child.get("edgeMode", "duplicate")
    return {"kernel": _float32(values).reshape(rows, cols), "target": [tx, ty],
            "divisor": _tensor(divisor), "bias": _tensor(_number(child.get("bias"), 0.0)),
            "edge_mode": edge if edge in ("none", "wrap") else "duplicate",
            "preserve_alpha": child.get("preserveAlpha") == "true"}


def _turbulence(child: ET.Element, ctm: np.ndarray) -> dict:
    values = _numbers(child.get("baseFrequency")) or []
    fx, fy = (values[0], values[1]) if len(values) == 2 else (values[0], values[0]) if len(values) == 1 else (0.0, 0.0)
    if fx < 0 or fy < 0:
        fx = fy = 0.0
    octaves = _number(child.get("numOctaves"), 1.0)
    sx, sy = _scale(ctm)
    return {"base_frequency": _tensor(fx, fy), "octaves": int(round(max(octaves, 0.0))),
            "seed": int(math.trunc(_number(child.get("seed"), 0.0))), "stitch": child.get("stitchTiles") == "stitch",
            "type": "fractalNoise" if child.get("type") == "fractalNoise" else "turbulence",
            "transform": _tensor(sx, sy, float(ctm[0, 2]), float(ctm[1, 2]))}


def _to_canvas(primitive: FilterPrimitive, ctm: np.ndarray) -> FilterPrimitive:
    """The primitive's user-space lengths mapped to canvas px by ``ctm`` (3, 3)."""
    sx, sy = _scale(ctm)
    axes = _float32([sx, sy])
    q = primitive.params
    with np.errstate(all="ignore"):  # float32 overflow to inf, inf * 0 to nan, as torch does silently
        for key in ("std", "offset", "radius"):
            if key in q:
                q[key] = q[key] * axes
        if "scale" in q:
            q["scale"] = q["scale"] * (sx + sy) / 2
    light = q.get("light")
    if light is not None and "position" in light:
        z = math.hypot(ctm[0, 0], ctm[1, 1]) / math.sqrt(2)
        for key in ("position", "points_at"):
            if key in light:
                p = light[key]
                mapped = ctm @ np.array([float(p[0]), float(p[1]), 1.0])
                light[key] = _tensor(float(mapped[0]), float(mapped[1]), float(p[2]) * z)
    if primitive.subregion is not None:
        primitive.subregion = _map_rect(ctm, primitive.subregion)
    return primitive


__all__ = ["FilterReader", "InvalidFilter", "break_fe_image_cycles"]
