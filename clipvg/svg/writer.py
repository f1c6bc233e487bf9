"""``save_svg`` / ``scene_to_svg_string``: a Scene -> SVG (svgwrite) that keeps everything it holds:
every subpath, fill rule, colours and opacities, strokes and dashes, gradients, layers and ids, and
the group tree: nested groups with ids and attributes, group opacity, clip paths, masks, filters (every
primitive, see ``clipvg.svg.filter_writer``), blend modes and isolation, pattern fills (``<pattern>``),
images (PNG data URIs), and ``<text>`` read from an SVG as itself while its glyphs are unedited."""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET

import numpy as np
import svgwrite
import torch

from ..errors import InvalidInputError
from ..scene import Scene
from ..scene.tree import ClipPath, Filter, Group, Image, Mask, Pattern
from .filter_writer import FilterWriter
from .image_data import png_data_uri
from .path_writer import PathWriter, write_text
from .text.source import unchanged


def save_svg(scene: Scene, path: str | os.PathLike, *, precision: int = 4) -> None:
    """Write ``scene`` to ``path`` atomically; coordinates get ``precision`` decimals (see
    ``scene_to_svg_string``)."""
    write_text(scene_to_svg_string(scene, precision=precision), path)


def scene_to_svg_string(scene: Scene, *, precision: int = 4) -> str:
    """The SVG document for ``scene``: width/height/viewBox of the canvas, one Inkscape layer
    ``<g>`` per run of paths in the same layer (empty layers too), gradients in ``<defs>`` in
    ``userSpaceOnUse`` pixels. Colours are written as hex (8 bits) plus opacity attributes.
    Raises InvalidInputError for a Scene holding NaN or infinite values."""
    for name in ("points", "fill_color", "stroke_color", "stroke_width", "opacity", "gradient_coords",
                 "gradient_transform", "stop_offsets", "stop_colors", "dash_array", "dash_offset", "group_opacity"):
        if not torch.isfinite(getattr(scene, name)).all():
            raise InvalidInputError(f"scene.{name} holds NaN or infinite values; cannot write an SVG")
    return _Writer(scene, precision).write()


class _Markup:
    """An SVG element given as markup (a kept ``<text>``), placed by ``transform``, for svgwrite to add."""

    def __init__(self, markup: str, transform: str) -> None:
        self.element = ET.fromstring(markup)
        self.element.set("transform", transform)

    def get_xml(self) -> ET.Element:
        return self.element


class _Writer(PathWriter):
    """Builds the svgwrite Drawing for one Scene: its paths (``PathWriter``) and its group tree."""

    def __init__(self, scene: Scene, precision: int) -> None:
        super().__init__(scene.width, scene.height, scene.path_ids, precision)
        self.scene = scene

    def write(self) -> str:
        """The SVG text (no XML declaration)."""
        if self.scene.tree is not None:
            return self.write_tree()
        return self.write_paths(list(self.scene.paths()), self.scene.layer_names)

    def write_tree(self) -> str:
        self.views = list(self.scene.paths())
        self.group_opacity = self.scene.group_opacity.detach().cpu().tolist()
        self.defined: dict[int, str] = {}  # id(ClipPath | Mask | Filter) -> its element id
        self.filter_writer = FilterWriter(self.drawing, lambda v: self.nums(np.asarray(
            v.detach().cpu() if isinstance(v, torch.Tensor) else v, dtype=np.float64).reshape(-1)), self.fe_image)
        tree = self.scene.tree
        layers_written = set()
        for child in tree.children:
            self.drawing.add(self.node(child))
            if isinstance(child, Group) and child.attributes.get("inkscape:groupmode") == "layer":
                layers_written.add(child.attributes.get("inkscape:label"))
        used = {self.views[i].layer for i in tree.drawn_paths()}
        for name in self.scene.layer_names:  # empty layers stay
            if name not in used and name not in layers_written:
                self.layer(name)
        return self.drawing.tostring()

    def node(self, node):
        if isinstance(node, Image):
            return self.image(node)
        if isinstance(node, Pattern):
            return self.pattern_fill(node)
        if not isinstance(node, Group):
            return self.path(self.views[int(node)])
        attributes = {}
        if node.id:
            attributes["id"] = self.fresh_id(node.id)
        for key, value in node.attributes.items():
            attributes[key] = value
        opacity = self.group_opacity[node.index] if 0 <= node.index < len(self.group_opacity) else node.opacity
        if opacity != 1.0:
            attributes["opacity"] = self.num(opacity)
        if node.clip is not None:
            attributes["clip-path"] = f"url(#{self.clip(node.clip)})"
        if node.mask is not None:
            attributes["mask"] = f"url(#{self.mask(node.mask)})"
        if node.filters:
            attributes["filter"] = " ".join(f"url(#{self.filter(f)})" for f in node.filters)
        style = ([f"mix-blend-mode:{node.blend}"] if node.blend != "normal" else []) + \
            (["isolation:isolate"] if node.isolate else [])
        if style:
            attributes["style"] = ";".join(style)
        group = self.drawing.g(**attributes)
        source = node.source_text
        if source is not None and unchanged(source, (self.views[i] for i in node.drawn_paths())):
            group.add(_Markup(source["markup"], "matrix({})".format(" ".join(f"{v:.10g}" for v in source["transform"]))))
            return group  # an unedited text: its <text> (10 digits: glyphs land where they were read)
        for child in node.children:
            group.add(self.node(child))
        return group

    def image(self, image: Image) -> svgwrite.image.Image:
        """An ``<image>`` holding the texture as a PNG data URI, placed by its transform; its view as a
        clip rect in image px."""
        height, width = image.texture.shape[:2]
        element = self.drawing.image(href=png_data_uri(image.texture.detach().cpu().numpy()), insert=(0, 0),
                                     size=(width, height), preserveAspectRatio="none",
                                     transform="matrix({})".format(" ".join(self.num(v) for v in image.transform)))
        if image.id:
            element["id"] = self.fresh_id(image.id)
        if image.opacity != 1.0:
            element["opacity"] = self.num(image.opacity)
        if image.sampling == "nearest":
            element["style"] = "image-rendering:optimizeSpeed"
        if image.view is not None:
            name = self.fresh_id("image-view")
            clip = self.drawing.clipPath(id=name, clipPathUnits="userSpaceOnUse")
            x, y, w, h = image.view
            clip.add(self.drawing.rect(insert=(self.num(x), self.num(y)), size=(self.num(w), self.num(h))))
            self.drawing.defs.add(clip)
            element["clip-path"] = f"url(#{name})"
        return element

    def pattern_fill(self, pattern: Pattern) -> svgwrite.path.Path:
        """The area a pattern fills as a ``<path>`` painted with a ``<pattern>`` in ``<defs>``: one tile in
        tile px (userSpaceOnUse, at 0, 0), placed by its ``patternTransform``, its content inside."""
        name, new = self.defined_name(pattern, "pattern")
        if new:
            width, height = pattern.size
            element = self.drawing.pattern(id=name, patternUnits="userSpaceOnUse", width=self.num(width),
                                           height=self.num(height), patternTransform=f"matrix({self.nums(pattern.transform)})")
            element.add(self.node(pattern.content))
            self.drawing.defs.add(element)
        area = self.views[pattern.path]
        attributes = {"d": self.data(area.subpaths), "fill": f"url(#{name})"}
        if area.fill_rule == "evenodd":
            attributes["fill-rule"] = "evenodd"
        if pattern.opacity != 1.0:
            attributes["fill-opacity"] = self.num(pattern.opacity)
        return self.drawing.path(**attributes)

    def defined_name(self, definition: ClipPath | Mask | Filter | Pattern, base: str) -> tuple[str, bool]:
        """The element id of ``definition`` and whether it is new (to be written now)."""
        if id(definition) in self.defined:
            return self.defined[id(definition)], False
        name = self.fresh_id(definition.id or base)
        self.defined[id(definition)] = name
        return name, True

    def region(self, region: tuple[float, float, float, float] | None) -> dict[str, str]:
        """x/y/width/height of a mask or filter region (None: three times the canvas around it)."""
        w, h = self.scene.width, self.scene.height
        x, y, width, height = region if region is not None else (-w, -h, 3 * w, 3 * h)
        return {"x": self.num(x), "y": self.num(y), "width": self.num(width), "height": self.num(height)}

    def clip(self, clip: ClipPath) -> str:
        name, new = self.defined_name(clip, "clip")
        if not new:
            return name
        element = self.drawing.clipPath(id=name, clipPathUnits="userSpaceOnUse")
        if clip.clip is not None:
            element["clip-path"] = f"url(#{self.clip(clip.clip)})"
        for index in clip.paths:
            element.add(self.clip_shape(index))
        for part in clip.parts:  # children with a clip-path of their own
            if part.parts:  # nested further: the part as a clipPath of its own, on a rect over everything
                w, h = self.scene.width, self.scene.height
                element.add(self.drawing.rect(insert=(self.num(-w), self.num(-h)), size=(self.num(3 * w),
                                              self.num(3 * h)), clip_path=f"url(#{self.clip(part)})"))
                continue
            for index in part.paths:
                shape = self.clip_shape(index)
                if part.clip is not None:
                    shape["clip-path"] = f"url(#{self.clip(part.clip)})"
                element.add(shape)
        self.drawing.defs.add(element)
        return name

    def clip_shape(self, index: int) -> svgwrite.path.Path:
        """Path ``index`` as a clipPath child (its geometry and clip-rule)."""
        path = self.views[index]
        attributes = {"d": self.data(path.subpaths)}
        if path.id:
            attributes["id"] = path.id
        if path.fill_rule == "evenodd":
            attributes["clip-rule"] = "evenodd"
        return self.drawing.path(**attributes)

    def mask(self, mask: Mask) -> str:
        name, new = self.defined_name(mask, "mask")
        if not new:
            return name
        element = self.drawing.mask(id=name, maskUnits="userSpaceOnUse", maskContentUnits="userSpaceOnUse",
                                    **self.region(mask.region))
        if mask.kind == "alpha":
            element["style"] = "mask-type:alpha"
        content = self.node(mask.content)
        for child in content.elements:
            element.add(child)
        for key in ("opacity", "clip-path", "mask", "filter"):
            if key in content.attribs:  # the content's own effects stay on a group inside the mask
                element.elements = [content]
                break
        self.drawing.defs.add(element)
        return name

    def filter(self, filter: Filter) -> str:
        name, new = self.defined_name(filter, "filter")
        if new:
            self.drawing.defs.add(self.filter_writer.filter(filter, name, self.region(filter.region)))
        return name

    def fe_image(self, content: Group, shift: tuple[float, float]) -> str:
        """An feImage's content as a ``<g>`` in ``<defs>`` (moved by -``shift``: readers draw an feImage's
        element from its subregion's corner); returns its id."""
        name = self.fresh_id("fe-image")
        group = self.drawing.g(id=name, transform=f"translate({self.num(-shift[0])} {self.num(-shift[1])})")
        group.add(self.node(content))
        self.drawing.defs.add(group)
        return name
