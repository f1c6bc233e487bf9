"""``load_svg``: an SVG file -> Scene with its group structure.

Geometry and styles come from svgelements (shapes, transforms, CSS, ``use``, units, viewBox); the
element transform is baked into the points. Groups become ``clipvg.scene.Group`` nodes keeping their
ids, opacity, clip path, mask, filters and blend mode; top-level groups are also the Scene's layers. Clip
paths, masks and filters are read per referencing element (their geometry is baked with that
element's transform and bounding box) by parsing their content as a small document of its own;
so are markers, once per vertex, through their placement.

Reading is in two steps: ``read_svg`` (XML -> normalized tree -> paths as numpy arrays and the group tree,
with every check the reader makes) runs without torch, so that input the reader refuses is refused before
torch loads (``clipvg.input_check``); ``to_scene`` then builds the Scene's tensors and what the renderer's torch
code makes for the reader: stroke outlines and SVG images' textures (``clipvg.svg.pending``).
"""
from __future__ import annotations

import copy
import functools
import os
import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
from svgelements import SVG, SVG_STRUCT_ATTRIB, Group as SVGGroup, Matrix, Shape, Use, Viewbox

from ..crossings import EdgeLoad
from ..errors import SVGParseError
from ..limits import MAX_COORDINATE
from ..scene import CAPS, JOINS, Path, Solid, Stroke, Subpath
from ..scene.tree import BLEND_MODES, ClipPath, Filter, Group, Mask, Pattern
from .css import USE_INSTANCE, properties
from .cycles import break_reference_cycles, url_id
from .document import (SVG_NS, build_tree, check_canvas, extract_definitions, gc_paused, local_name, parse_xml,
                       read_source, source_name, strip_unsupported, user_length, warn_skipped)
from .filters import FilterReader, InvalidFilter, break_fe_image_cycles
from .geometry import Contour
from .images import IMAGE_KEY, ImageDataError, image_node, mark_images
from .markers import drop_marker_attributes, marker_placement, marker_references, paint_order, vertices
from .paint import PaintServers, matrix3, number, unit_number
from .patterns import chain_attr, pattern_chain, tile_of, units_value
from .pending import PendingOutline, check_outline_points, finish_outlines, tree_tensors
from .path_data import parse_path_data
from .point_count import element_label
from .shape_data import shape_bbox, shape_contours, shape_segments
from .structure import normalize
from .text import TEXT_BOX, text_box, texts_to_paths
from .text.source import SOURCE, signature

if TYPE_CHECKING:
    import torch

    from ..scene import Scene

INKSCAPE_NS = "http://www.inkscape.org/namespaces/inkscape"
INKSCAPE_LABEL = f"{{{INKSCAPE_NS}}}label"
INKSCAPE_GROUPMODE = f"{{{INKSCAPE_NS}}}groupmode"
DEFAULT_LAYER = "layer"
MAX_REFERENCE_DEPTH = 16  # clip paths inside masks inside clip paths ...: deeper chains are cut with a warning
MAX_MARKERS = 1000  # marker instances per document (each is its own small document to read); more are skipped
OUTLINE_OVERSAMPLE = 8  # a stroke outlined under a non-uniform transform is flattened this much finer than the canvas
# attributes a clip path's or mask's content inherits from the <clipPath>/<mask> element
_NOT_INHERITED = {"id", "transform", "x", "y", "width", "height", "clipPathUnits", "maskUnits", "maskContentUnits",
                  "clip-path", "mask", "filter", "opacity", "style", "class", "display"}


@dataclass
class ReadSVG:
    """An SVG file read without torch: ``paths`` (numpy points, canvas px), the canvas ``width`` x ``height``
    px, the ``layers`` in order, the group ``tree`` over the paths (with numpy arrays where the Scene holds
    tensors: ``clipvg.svg.pending``), the file's ``name`` (for messages) and the stroke ``outlines`` the
    Scene's paths get when it is built (``PendingOutline``: until then their paths stand in for them)."""

    paths: list[Path]
    width: float
    height: float
    layers: list[str]
    tree: Group
    name: str
    outlines: list[PendingOutline] = field(default_factory=list)

    @property
    def num_paths(self) -> int:
        return len(self.paths)

    @property
    def num_points(self) -> int:
        """Control points in all: the Scene's ``len(points)``, except that a pending stroke outline counts its
        shape's points (the outline's polygons have more; the renderer checks the Scene's count)."""
        return sum(len(subpath.points) for path in self.paths for subpath in path.subpaths)

    @property
    def is_flat(self) -> bool:
        """The Scene's ``is_flat``: nothing drawn from a texture, no group effects or opacity under 1 (in
        float32, as the Scene holds it), every path drawn once in order."""
        if self.tree.draws_textures() or any(
                g.clip is not None or g.mask is not None or g.filters or g.blend != "normal" or np.float32(g.opacity) < 1
                for g in self.tree.groups()):
            return False
        return list(self.tree.drawn_paths()) == list(range(len(self.paths)))

    def edge_load(self) -> EdgeLoad:
        """The Scene's ``edge_load`` (a pending stroke outline counted as its shape stroked)."""
        subpaths = [(index, subpath) for index, path in enumerate(self.paths) for subpath in path.subpaths]
        return EdgeLoad.of(np.concatenate([s.points for _, s in subpaths]) if subpaths else np.zeros((0, 2)),
                           np.array([len(s.points) for _, s in subpaths], dtype=np.int64),
                           np.concatenate([s.degrees for _, s in subpaths]) if subpaths else np.zeros(0, np.int64),
                           np.array([len(s.degrees) for _, s in subpaths], dtype=np.int64),
                           np.array([index for index, _ in subpaths], dtype=np.int64),
                           np.array([path.fill is not None for path in self.paths], dtype=bool),
                           np.array([0.0 if path.stroke is None else path.stroke.width for path in self.paths]),
                           np.array([4.0 if path.stroke is None else path.stroke.miter_limit for path in self.paths]))

    def to_scene(self, device: str | torch.device = "cpu") -> Scene:
        """The Scene of what was read, on ``device`` (loads torch). Use once: the tree goes into the Scene."""
        from ..scene import Scene

        finish_outlines(self.paths, self.tree, self.outlines)
        return Scene.from_paths(self.paths, self.width, self.height, self.layers, device, tree=tree_tensors(self.tree))


def load_svg(source: str | os.PathLike, *, device: str | torch.device = "cpu", base_dir: str | None = None) -> Scene:
    """Read an SVG file (or SVG markup given as a string starting with '<') into a Scene.

    The canvas is the SVG viewport in pixels (96 dpi for physical units). The Scene's tree keeps the
    groups with their ids, opacity (drawn as an isolated group), ``clip-path`` (nested, any
    transform, clip-rule), ``mask`` (luminance or alpha) and ``filter`` when it is one
    ``feGaussianBlur``; dashed strokes keep their dashes. Top-level ``<g>`` elements (Inkscape
    layers included) are also layers named by ``inkscape:label`` or ``id``; shapes outside any group
    go to the layer ``"layer"``. ``<image>`` elements become ``Image`` nodes (textured quads; see
    ``clipvg.svg.images``); markers, ``paint-order`` and ``context-fill``/``context-stroke`` are
    expanded into ordinary paths and groups (``clipvg.svg.markers``). What cannot be drawn is
    skipped with one ``UnsupportedSVGWarning`` naming each kind (an unusable image by its id and reason).
    ``base_dir``: the folder ``<image>`` file names resolve in (default the SVG file's folder; none
    for markup given as a string). Raises SVGParseError for a missing, empty, malformed or absurdly
    large file. ``read_svg(...).to_scene(device)``.
    """
    return _read_svg(source, base_dir).to_scene(device)


def read_svg(source: str | os.PathLike, *, base_dir: str | None = None) -> ReadSVG:
    """``load_svg``'s reading, without torch: every check it makes and every warning it gives, up to the
    paths and the group tree (``ReadSVG``); SVGParseError likewise."""
    return _read_svg(source, base_dir)


def _read_svg(source: str | os.PathLike, base_dir: str | None) -> ReadSVG:
    try:
        return _read_document(source, base_dir)
    except RecursionError:  # the group_depth limit raised past what the reader's recursion (and svgelements') takes
        raise SVGParseError(f"{source_name(source)}: its elements (with <use> expanded) nest too deeply to read; lower the "
                            "group_depth limit (--max-group-depth) or flatten the groups") from None
    finally:
        parse_path_data.cache_clear()  # long path data parsed for this document (kept while its shapes were read)


def _read_document(source: str | os.PathLike, base_dir: str | None) -> ReadSVG:
    with gc_paused():  # a large file makes objects by the hundred thousand; any cyclic garbage goes after
        data, name = read_source(source)
        if base_dir is None and name != "<string>":
            base_dir = os.path.dirname(os.path.abspath(name))
        root = parse_xml(data, name)
        drop_marker_attributes(root)
        skipped = normalize(root, name)
        skipped.update(break_reference_cycles(root))
        size = _root_size(root)
        text_notes = texts_to_paths(root, size, name)
        images = mark_images(root)  # after text: colour bitmap glyphs are <image>s
        servers = PaintServers(root, size)
        definitions = extract_definitions(root)
        break_fe_image_cycles(root, definitions)
        skipped.update(strip_unsupported(root))
        skipped.update(text_notes)
        svg = build_tree(root, name)
        width, height = float(svg.width), float(svg.height)
        check_canvas(width, height, name)
        viewport = (svg.viewbox.width, svg.viewbox.height) if svg.viewbox else (width, height)
        reader = _Reader(root, name, servers, skipped, definitions, viewport, images, base_dir)
        tree = reader.read(svg)
        _check_finite(reader.paths, name, {id(outline.path) for outline in reader.outlines})
        check_outline_points(reader.paths, reader.outlines, name)
        if not any(root.get(name) for name in ("width", "height", "viewBox")):
            width, height = _content_extent(reader.paths, width, height)
        for kind, count in servers.unresolved.items():
            skipped[f"{kind} (drawn with its fallback colour)"] += count
        skipped.update(servers.notes)
        warn_skipped(skipped, name)
        return ReadSVG(reader.paths, width, height, reader.layers, tree, name, reader.outlines)


def _check_finite(paths: list[Path], name: str, outlined: set[int]) -> None:
    """SVGParseError naming the first shape whose coordinates overflowed (e.g. 1e309, or a huge transform); for
    the stand-ins of stroke outlines (``id`` in ``outlined``: ``PendingOutline``) the stroke's reach too."""
    for index, path in enumerate(paths):
        reach = _stroke_reach(path.stroke) if id(path) in outlined else 0.0
        if not all((np.abs(subpath.points) <= MAX_COORDINATE - reach).all() for subpath in path.subpaths):
            label = f"id={path.id!r}" if path.id else f"number {index + 1}"
            raise SVGParseError(f"{name}: the shape {label} has a coordinate too large (over {MAX_COORDINATE:g} px "
                                "after its transforms, or not a number); fix its numbers")


def _no_area(path: Path) -> bool:
    """Whether the stroke of ``path`` covers nothing: butt caps on open subpaths of zero length (SVG draws only
    the caps of a zero-length subpath)."""
    return path.stroke.cap == "butt" and all(not s.closed and (s.points == s.points[0]).all() for s in path.subpaths)


def _stroke_reach(stroke: Stroke) -> float:
    """How far (px) a stroke's outline may reach from its path: half its width times the miter limit (or 1)."""
    return stroke.width / 2 * max(stroke.miter_limit, 1.0)


def _content_extent(paths: list[Path], width: float, height: float) -> tuple[float, float]:
    """The canvas of an SVG without width, height and viewBox: up to the far corner of its shapes'
    geometry and half their stroke width (resvg's stroke bounding box; a browser would show 300 x 150);
    ``width``, ``height`` when nothing is drawn."""
    corners = [np.concatenate([s.points for s in p.subpaths]).max(0) + (float(p.stroke.width) / 2 if p.stroke else 0.0)
               for p in paths if p.subpaths]
    if not corners:
        return width, height
    far = np.max(corners, axis=0)
    return (float(far[0]), float(far[1])) if (far > 0).all() else (width, height)


def _root_size(root: ET.Element) -> tuple[float, float]:
    if root.get("viewBox"):
        try:
            box = Viewbox(root.get("viewBox"))
            if box.width and box.height:
                return float(box.width), float(box.height)
        except Exception:  # an unreadable viewBox: svgelements reports it later
            pass
    return tuple(user_length(root.get(n, "100%"), 1000.0) for n in ("width", "height"))


def _own(node) -> dict:
    return node.values.get(SVG_STRUCT_ATTRIB, {})


def _clip_path(children: list, clip: ClipPath | None, reference: str | None) -> ClipPath:
    """The ClipPath of clip content ``children`` (path indices and groups): groups with a clip of their
    own become its parts, others are flattened into its paths; ``clip`` clips the whole."""
    paths, parts = [], []
    for child in children:
        if isinstance(child, Group) and child.clip is not None:
            parts.append(_clip_path(child.children, child.clip, None))
        elif isinstance(child, Group):
            flat = _clip_path(child.children, None, None)
            paths += flat.paths
            parts += flat.parts
        elif isinstance(child, int):
            paths.append(child)
    return ClipPath(paths, clip, reference, parts)


def _map_rect(matrix: np.ndarray, x: float, y: float, w: float, h: float) -> tuple[float, float, float, float]:
    """Canvas bounding rect of the user-space rect (x, y, w, h) mapped by ``matrix`` (3, 3)."""
    corners = np.array([[x, y, 1], [x + w, y, 1], [x, y + h, 1], [x + w, y + h, 1]], dtype=np.float64) @ matrix.T
    lo, hi = corners[:, :2].min(0), corners[:, :2].max(0)
    return float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1])


def _matrix_text(m: np.ndarray) -> str:
    return "matrix({})".format(" ".join(repr(float(v)) for v in (m[0, 0], m[1, 0], m[0, 1], m[1, 1], m[0, 2], m[1, 2])))


class _Reader:
    """Walks the svgelements tree, collecting paths, layer names, groups and skipped features."""

    def __init__(self, root: ET.Element, name: str, servers: PaintServers, skipped: Counter[str],
                 definitions: dict[str, ET.Element], viewport: tuple[float, float],
                 images: list[ET.Element] | None = None, base_dir: str | None = None) -> None:
        self.root = root
        self.images = images or []  # the original <image> elements (see clipvg.svg.images)
        self.base_dir = base_dir
        self.name = name
        self.servers = servers
        self.skipped = skipped
        self.definitions = definitions
        self.viewport = viewport
        self.by_id = {e.get("id"): e for e in root.iter() if e.get("id")}
        self.paths: list[Path] = []
        self.layers: list[str] = []
        self._ids: set[str] = set()
        self._chain: tuple[str, ...] = ()
        self._hidden: dict[int, list[np.ndarray]] = {}  # id(group) -> canvas points of its hidden shapes  # clip paths / masks / filters being read (cycle guard)
        self._markers_drawn = 0
        self.outlines: list[PendingOutline] = []  # strokes outlined when the Scene is built
        self._contexts: list[dict] = []  # per marker being read: its shape's fill/stroke (see _paint_source)
        self.filters = FilterReader(definitions, self.by_id, viewport, skipped, self._fe_image_content, base_dir)

    # ------------------------------------------------------------------ drawn tree
    def read(self, svg: SVG) -> Group:
        """Read the document; each top-level group is a layer."""
        tree = Group()
        loose: Group | None = None  # shapes and <use> outside any group: the layer "layer"
        for index, child in enumerate(svg):
            if isinstance(child, SVGGroup) and not isinstance(child, SVG) and USE_INSTANCE not in _own(child):
                own = _own(child)
                layer = own.get(INKSCAPE_LABEL) or child.id or f"layer{index + 1}"
                self._add_layer(layer)
                attributes = {"inkscape:groupmode": "layer", "inkscape:label": layer}
                group = self._group(child, layer, attributes)
                if group is not None:
                    tree.children.append(group)
                loose = None
            else:
                if loose is None:
                    loose = Group(attributes={"inkscape:groupmode": "layer", "inkscape:label": DEFAULT_LAYER})
                    tree.children.append(loose)
                self._node(child, DEFAULT_LAYER, loose)
        tree.children = [c for c in tree.children if not (isinstance(c, Group) and c.id is None
                                                           and not c.children and c.attributes.get(
                                                               "inkscape:label") == DEFAULT_LAYER)]
        return tree

    def _add_layer(self, layer: str) -> None:
        if layer not in self.layers:
            self.layers.append(layer)

    def _node(self, node: object, layer: str, parent: Group, clip_mode: bool = False) -> None:
        if isinstance(node, (SVGGroup, Use)):
            group = self._group(node, layer, None, clip_mode)
            if group is not None:
                parent.children.append(group)
        elif isinstance(node, Shape):
            own = _own(node)
            contours = shape_contours(node)  # walked once: the path and its outline
            path = self._path(node, contours, layer, clip_mode)
            if path is None:
                if node.values.get("visibility") in ("hidden", "collapse"):  # not drawn, yet in bounding boxes
                    self._hidden.setdefault(id(parent), []).extend(
                        c.mapped(matrix3(node.transform)).points for c in contours)
                return
            self._add_layer(layer)
            index = len(self.paths)
            self.paths.append(path)
            opacity = 1.0 if clip_mode else unit_number(own.get("opacity"))
            bbox = functools.cache(lambda: shape_bbox(node))
            try:  # a clipPath's child may have a clip-path of its own (a part of the clip, see ClipPath)
                clip, mask, filters = (self._clip(url_id(own.get("clip-path")), matrix3(node.transform), bbox), None,
                                       []) if clip_mode else self._effects(own, matrix3(node.transform), bbox,
                                                                          node.values)
            except InvalidFilter:
                return  # a filter linking to nothing: the element is not drawn (as resvg, Chrome)
            blend, isolate = ("normal", False) if clip_mode else _blending(own)
            drawn: list[Group | int] = [index]
            stroke_tiles = None if clip_mode else self._pattern_stroke(node, contours, path, bbox)
            outline = None if clip_mode else self._stroke_as_fill(node, contours, path)
            if outline is not None:
                drawn.append(len(self.paths))
                self.paths.append(outline)
            pattern = None if clip_mode else self._pattern_fill(node, index, bbox)
            if pattern is not None:
                drawn.insert(0, pattern)
            if stroke_tiles is not None:
                drawn.append(stroke_tiles)
            if not clip_mode:
                drawn = self._paint_order(node, drawn, index, outline is not None or stroke_tiles is not None)
            both = len(drawn) > 1 or (path.fill is not None and path.stroke is not None)
            if clip is None and mask is None and not filters and blend == "normal" and not (opacity < 1 and both):
                path.opacity = opacity  # exact for a path drawn with one paint
                parent.children.extend(drawn)
            else:
                parent.children.append(Group(drawn, opacity=opacity, clip=clip, mask=mask, filters=filters,
                                             blend=blend, isolate=isolate))

    def _group(self, node, layer: str, attributes: dict | None, clip_mode: bool = False) -> Group | None:
        own = _own(node)
        group = Group(id=own.get("id"), attributes=dict(attributes or {}))
        if own.get(IMAGE_KEY) is not None and not clip_mode:
            image = self._image(node, int(own[IMAGE_KEY]))
            if image is not None:
                group.children.append(image)
        if USE_INSTANCE in own:  # context-fill/-stroke with a paint server inside: laid out in the <use>'s space
            self._contexts.append(self._context(node, functools.cache(lambda: _content_bbox(node))))
        try:
            for child in node:
                self._node(child, layer, group, clip_mode)
        finally:
            if USE_INSTANCE in own:
                self._contexts.pop()
        bbox = functools.cache(lambda: text_box(own.get(TEXT_BOX)) or self._group_bbox(group, matrix3(node.transform)))
        if clip_mode:  # a clipPath's child (a <use>, a text) may have a clip-path of its own
            if group.children:
                group.clip = self._clip(url_id(own.get("clip-path")), matrix3(node.transform), bbox)
            return group if group.children else None
        group.opacity = unit_number(own.get("opacity"))
        try:
            group.clip, group.mask, group.filters = self._effects(own, matrix3(node.transform), bbox, node.values)
        except InvalidFilter:
            return None  # a filter linking to nothing: the group is not drawn (as resvg, Chrome)
        group.blend, group.isolate = _blending(own)
        if own.get(SOURCE) and not group.draws_textures():
            glyphs = signature(self.paths[i] for i in group.drawn_paths())  # the text kept while they stay
            if glyphs is not None:
                ctm = [float(v) for v in matrix3(node.transform)[:2].T.reshape(-1)]  # a, b, c, d, e, f
                group.source_text = {"markup": own[SOURCE], "transform": ctm, **glyphs}
        if not group.children and group.id is None and not attributes and not group.filters:
            return None
        if (group.opacity < 1 and group.clip is None and group.mask is None and not group.filters
                and group.blend == "normal"
                and len(group.children) == 1 and isinstance(group.children[0], int)):
            path = self.paths[group.children[0]]
            if path.fill is None or path.stroke is None:  # one paint: fading the path is exact
                path.opacity *= group.opacity
                group.opacity = 1.0
        return group

    def _hidden_points(self, group: Group) -> list[np.ndarray]:
        """Canvas points (N, 2) of the hidden shapes in ``group`` and its subgroups."""
        found = list(self._hidden.get(id(group), []))
        for child in group.children:
            if isinstance(child, Group):
                found += self._hidden_points(child)
        return found

    def _group_bbox(self, group: Group, ctm: np.ndarray) -> tuple[float, float, float, float] | None:
        """The group's bounding box in its own user space (from its paths' baked points)."""
        bounds = _local_bounds([self.paths[i] for i in group.drawn_paths()], ctm, self._hidden_points(group))
        if bounds is None:
            return None
        (x0, y0), (x1, y1) = bounds
        return float(x0), float(y0), float(x1), float(y1)

    def _image(self, node: SVGGroup, key: int):
        """The Image node for the ``<image>`` standing as ``node``, or None (skipped with a warning
        naming it when its data cannot be had)."""
        element = self.images[key]
        try:
            return image_node(element, node.values, matrix3(node.transform), self.viewport, self.base_dir)
        except ImageDataError as error:
            self.skipped[f"image{' #' + element.get('id') if element.get('id') else ''} ({error})"] += 1
            return None

    # ------------------------------------------------------------------ paths
    def _path(self, shape: Shape, contours: list[Contour], layer: str, clip_mode: bool = False) -> Path | None:
        """The Scene path for one shape (its ``contours`` in its own coordinates), or None when it draws nothing."""
        values = shape.values
        if values.get("visibility") in ("hidden", "collapse"):
            return None
        ctm = matrix3(shape.transform)
        subpaths = [contour.mapped(ctm) for contour in contours]
        if not subpaths:
            return None
        path_id = shape.id if shape.id not in self._ids else None
        if path_id:
            self._ids.add(path_id)
        if clip_mode:  # a clip shape: its fill geometry with the clip-rule
            return Path(subpaths, fill=Solid((0.0, 0.0, 0.0, 1.0)), fill_rule="evenodd"
                        if values.get("clip-rule") == "evenodd" else "nonzero", layer=layer, id=path_id)
        bbox = functools.cache(lambda: shape_bbox(shape))
        fill_value, fill_space, fill_bbox = self._paint_source(values.get("fill"), shape.transform, bbox)
        if self._pattern_element(url_id(fill_value)) is not None:
            fill_value = "none"  # drawn by _pattern_fill: a Pattern under the path
        fill = self.servers.paint(fill_value, unit_number(values.get("fill-opacity")), fill_space, fill_bbox)
        stroke_value, stroke_space, stroke_bbox = self._paint_source(values.get("stroke"), shape.transform, bbox)
        if self._pattern_element(url_id(stroke_value)) is not None:  # _pattern_stroke fills its outline
            stroke_value = stroke_value.partition(")")[2].strip() or "black"  # a stand-in: the fallback colour
        stroke_paint = self.servers.paint(stroke_value, unit_number(values.get("stroke-opacity")), stroke_space,
                                          stroke_bbox)
        stroke = None
        width = shape.implicit_stroke_width or 0.0
        if stroke_paint is not None and width > 0:
            cap, join = values.get("stroke-linecap", "butt"), values.get("stroke-linejoin", "miter")
            dashes, offset = self._dashes(shape, values)
            stroke = Stroke(stroke_paint, width=float(width), cap=cap if cap in CAPS else "butt",
                            join=join if join in JOINS else "miter",
                            miter_limit=max(number(values.get("stroke-miterlimit"), 4.0), 1.0),
                            dashes=dashes, dash_offset=offset)
        return Path(subpaths, fill=fill, stroke=stroke,
                    fill_rule="evenodd" if values.get("fill-rule") == "evenodd" else "nonzero",
                    layer=layer, id=path_id)

    def _stroke_as_fill(self, shape: Shape, contours: list[Contour], path: Path, always: bool = False) -> Path | None:
        """Under a non-uniform scale or a skew (or ``always``) a stroke's width varies with direction: its
        outline, made in the shape's own space and transformed, is a filled path, returned (``path`` loses its
        stroke); the renderer's stroke code makes it when the Scene is built (``PendingOutline``: the returned
        path stands in for it until then). None (nothing changed) under a similarity, or for a stroke that has
        no outline (``_no_area``)."""
        ctm = matrix3(shape.transform)
        if path.stroke is None or (_is_similarity(ctm) and not always) or _no_area(path):
            return None
        scale = float(np.sqrt(abs(np.linalg.det(ctm[:2, :2]))))
        if scale == 0:
            return None
        stretch = float(np.linalg.norm(ctm[:2, :2], 2))  # the longest axis
        # flattened in a space OUTLINE_OVERSAMPLE times finer than the canvas along the longest axis, so the
        # polygon stays within the renderer's tolerance when the canvas is drawn zoomed in
        fine = OUTLINE_OVERSAMPLE * stretch
        stroke = copy.copy(path.stroke)
        stroke.width *= fine / scale
        stroke.dashes = None if stroke.dashes is None else tuple(d * fine / scale for d in stroke.dashes)
        stroke.dash_offset *= fine / scale
        own = [contour.mapped(np.diag([fine, fine, 1.0])) for contour in contours]
        stand_in = Path(list(path.subpaths), fill=stroke.paint, layer=path.layer,
                        stroke=replace(path.stroke, width=path.stroke.width * stretch / scale))
        self.outlines.append(PendingOutline(stand_in, own, stroke, ctm, fine,
                                            element_label(shape.values.get("tag", "path"), shape.id)))
        path.stroke = None
        return stand_in

    def _dashes(self, shape: Shape, values: dict) -> tuple[tuple[float, ...] | None, float]:
        """Dash lengths and offset in canvas px (scaled like the stroke width)."""
        text = (values.get("stroke-dasharray") or "none").strip()
        if text in ("none", "", "inherit"):
            return None, 0.0
        m = shape.transform
        scale = float(np.sqrt(abs(m.a * m.d - m.b * m.c)))
        try:
            dashes = tuple(user_length(v, self.viewport[0]) * scale for v in re.split(r"[\s,]+", text) if v)
        except Exception:
            self.skipped["unreadable stroke-dasharray (drawn solid)"] += 1
            return None, 0.0
        try:
            offset = user_length((values.get("stroke-dashoffset") or "0").strip(), self.viewport[0]) * scale
        except Exception:
            offset = 0.0
        return dashes, offset

    # ------------------------------------------------------------------ paint order, markers, context paints
    def _paint_order(self, shape: Shape, drawn: list[Group | int], index: int, outlined: bool) -> list[Group | int]:
        """``drawn`` (a pattern fill, the path, its stroke outline) with the shape's markers, in its
        ``paint-order``; a path's stroke is split off when something comes between fill and stroke."""
        order = paint_order(shape.values.get("paint-order"))
        path = self.paths[index]
        fill_items, stroke_items = (drawn[:-1], drawn[-1:]) if outlined else (list(drawn), [])
        if not outlined and path.stroke is not None:
            if path.fill is None:
                fill_items, stroke_items = [d for d in drawn if d != index], [index]
            elif order.index("stroke") != order.index("fill") + 1:
                stroke_path = copy.copy(path)
                stroke_path.fill, stroke_path.id, path.stroke = None, None, None
                stroke_items = [len(self.paths)]
                self.paths.append(stroke_path)
        parts = {"fill": fill_items, "stroke": stroke_items, "markers": self._markers(shape)}
        return [item for name in order for item in parts[name]]

    def _markers(self, shape: Shape) -> list[Group]:
        """One group per marker drawn on ``shape`` (content through its placement, clipped to its viewport)."""
        references = marker_references(shape.values)
        if not references:
            return []
        ctm = matrix3(shape.transform)
        stroke_width = float(shape.stroke_width) if shape.stroke_width is not None else 1.0
        context = self._context(shape, functools.cache(lambda: shape_bbox(shape)))
        groups = []
        for vertex in vertices(shape_segments(shape)):
            reference = url_id(references.get(vertex.kind))
            element = self._definition(reference, "marker")
            placement = None if element is None else marker_placement(element, ctm, vertex, stroke_width,
                                                                       self.viewport)
            if placement is None:
                continue
            if self._markers_drawn >= MAX_MARKERS:
                self.skipped[f"markers beyond the first {MAX_MARKERS} (not drawn)"] += 1
                continue
            self._markers_drawn += 1
            matrix, outline = placement
            self._chain += (reference,)
            self._contexts.append(context)
            try:
                content = self._fragment(element, matrix)
            finally:
                self._chain = self._chain[:-1]
                self._contexts.pop()
            clip = None
            if outline is not None and not self._inside(content, outline):
                self.paths.append(Path([Subpath.polygon(outline)], fill=Solid((0.0, 0.0, 0.0, 1.0))))
                clip = ClipPath([len(self.paths) - 1])
            groups.append(Group([content], clip=clip))
        return groups

    def _inside(self, content: Group, polygon: np.ndarray) -> bool:
        """Whether ``content`` (plain paths only: no images, patterns or group effects) lies within the convex
        ``polygon`` (K, 2) canvas px, strokes included, so that clipping to it changes nothing."""
        if content.draws_textures() or content.has_effects():
            return False
        paths = [self.paths[i] for i in content.drawn_paths()]
        if not paths:
            return True
        points = np.concatenate([s.points for p in paths for s in p.subpaths]).astype(np.float64)
        margin = max((_stroke_reach(p.stroke) for p in paths if p.stroke), default=0.0)
        edges = np.roll(polygon, -1, axis=0) - polygon
        normals = np.stack([-edges[:, 1], edges[:, 0]], 1) / np.linalg.norm(edges, axis=1).clip(1e-12)[:, None]
        distance = np.einsum("nkd,kd->nk", points[:, None, :] - polygon[None], normals)  # to each edge's line
        orientation = np.sign(edges[0, 0] * edges[1, 1] - edges[0, 1] * edges[1, 0]) or 1.0
        return bool((distance * orientation >= margin).all())

    def _context(self, element, bbox) -> dict:
        """The fill and stroke of a context element (a marked shape, a ``<use>``) as ``_paint_source`` gives them."""
        return {kind: self._paint_source(element.values.get(kind), element.transform, bbox) for kind in ("fill", "stroke")}

    def _paint_source(self, value: str | None, transform: Matrix, bbox) -> tuple[str | None, Matrix, object]:
        """(paint value, the user space -> canvas transform and bounding box its paint server is laid out
        in): ``context-fill``/``context-stroke`` become the paint of the shape the marker being read is
        on or of the ``<use>`` being read (colours there are resolved by the cascade), in its space;
        "none" without one."""
        if value not in ("context-fill", "context-stroke"):
            return value, transform, bbox
        if not self._contexts:
            return "none", transform, bbox
        return self._contexts[-1][value[len("context-"):]]

    # ------------------------------------------------------------------ patterns
    def _pattern_element(self, reference: str | None) -> ET.Element | None:
        element = self.definitions.get(reference) if reference else None
        return element if element is not None and local_name(element.tag) == "pattern" else None

    def _pattern_stroke(self, shape: Shape, contours: list[Contour], path: Path, bbox) -> Pattern | None:
        """A ``<pattern>`` stroke as a pattern fill of the stroke's outline (``path`` loses its stand-in
        stroke), or None when the stroke is no pattern."""
        value = self._paint_source(shape.values.get("stroke"), shape.transform, bbox)[0]
        element = self._pattern_element(url_id(value))
        if path.stroke is None or element is None:
            return None
        units = chain_attr(pattern_chain(element, self.definitions), "patternUnits")
        if self._units_frame(units, "objectBoundingBox", bbox) is None:  # an empty box: the fallback colour, if any
            if not value.partition(")")[2].strip():
                path.stroke = None
            return None
        outline = self._stroke_as_fill(shape, contours, path, always=True)
        if outline is None:
            return None
        self.paths.append(outline)  # the area the pattern fills, not drawn itself
        return self._pattern_fill(shape, len(self.paths) - 1, bbox, "stroke")

    def _pattern_fill(self, shape: Shape, index: int, bbox, kind: str = "fill") -> Pattern | None:
        """The ``<pattern>`` fill of ``shape`` as a Pattern filling the fill area of path ``index`` (or,
        for ``kind`` "stroke", filling path ``index``: the stroke's outline), or None when its paint is
        no pattern or the pattern draws nothing."""
        value, space, bbox = self._paint_source(shape.values.get(kind), shape.transform, bbox)
        reference = url_id(value)
        if self._pattern_element(reference) is None:
            return None
        element = self._definition(reference, "pattern")
        tile = None if element is None else tile_of(pattern_chain(element, self.definitions), matrix3(space), bbox,
                                                     self.viewport, matrix3(shape.transform))
        if tile is None:
            return None
        self._chain += (reference,)
        try:
            content = self._fragment(tile.content, tile.content_matrix)
        finally:
            self._chain = self._chain[:-1]
        if kind == "fill":  # the fill geometry alone: the area the pattern fills, not drawn itself
            area = copy.copy(self.paths[index])
            area.fill, area.stroke, area.id = Solid((0.0, 0.0, 0.0, 1.0)), None, None
            self.paths.append(area)
            index = len(self.paths) - 1
        return Pattern(index, content, tile.size, tile.transform, unit_number(shape.values.get(f"{kind}-opacity")),
                       reference, tile.sampling)

    # ------------------------------------------------------------------ clip paths, masks, filters
    def _effects(self, own: dict, ctm: np.ndarray, bbox, values: dict | None = None
                 ) -> tuple[ClipPath | None, Mask | None, list[Filter]]:
        """The element's clip path, mask and filters. Raises InvalidFilter when its ``filter`` links to
        nothing (the element is then not drawn)."""
        clip = self._clip(url_id(own.get("clip-path")), ctm, bbox)
        mask = self._mask(url_id(own.get("mask")), ctm, bbox)
        values = values or {}
        filters = self.filters.read(own.get("filter"), ctm, bbox, values.get("color"), _font_size(values))
        return clip, mask, filters

    def _fe_image_content(self, element: ET.Element, matrix: np.ndarray) -> Group | None:
        """What an ``feImage`` linking to ``element`` draws, through ``matrix`` (canvas px per user
        unit); None for a link back into itself."""
        key = f"feImage#{element.get('id')}"
        if key in self._chain or len(self._chain) >= MAX_REFERENCE_DEPTH:
            self.skipped["feImage that draws itself (transparent)"] += 1
            return None
        holder = ET.Element(f"{{{SVG_NS}}}g")
        holder.append(copy.deepcopy(element))
        self._chain += (key,)
        try:
            return self._fragment(holder, matrix)
        finally:
            self._chain = self._chain[:-1]

    def _definition(self, reference: str | None, kind: str) -> ET.Element | None:
        if reference is None:
            return None
        element = self.definitions.get(reference)
        if element is None or local_name(element.tag) != kind:
            self.skipped[f"{kind} reference to missing #{reference} (ignored)"] += 1
            return None
        if reference in self._chain:
            self.skipped[f"{kind} #{reference} that refers to itself (ignored)"] += 1
            return None
        if len(self._chain) >= MAX_REFERENCE_DEPTH:
            self.skipped[f"{kind} nested more than {MAX_REFERENCE_DEPTH} deep (ignored)"] += 1
            return None
        return element

    def _units_frame(self, units: str | None, default: str, bbox) -> np.ndarray | None:
        """(3, 3) from unit space to user space: identity for userSpaceOnUse, the bounding box for
        objectBoundingBox (None when that box is empty); a missing or invalid ``units`` is ``default``."""
        if units_value(units, default) != "objectBoundingBox":
            return np.eye(3)
        box = bbox()
        if box is None or box[2] <= box[0] or box[3] <= box[1]:
            return None
        return np.array([[box[2] - box[0], 0, box[0]], [0, box[3] - box[1], box[1]], [0, 0, 1.0]])

    def _clip(self, reference: str | None, ctm: np.ndarray, bbox) -> ClipPath | None:
        element = self._definition(reference, "clipPath")
        if element is None:
            return None
        frame = self._units_frame(element.get("clipPathUnits"), "userSpaceOnUse", bbox)
        if frame is None:
            return ClipPath([], id=reference)  # an empty box clips everything away
        own_transform = matrix3(Matrix(element.get("transform", "")))
        self._chain += (reference,)
        try:
            content = self._fragment(element, ctm @ own_transform @ frame, clip_mode=True)
            nested = self._clip(url_id(properties(element).get("clip-path")), ctm, bbox)
        finally:
            self._chain = self._chain[:-1]
        return _clip_path(content.children, nested, reference)

    def _mask(self, reference: str | None, ctm: np.ndarray, bbox) -> Mask | None:
        element = self._definition(reference, "mask")
        if element is None:
            return None
        frame = self._units_frame(element.get("maskUnits"), "objectBoundingBox", bbox)
        kind = "alpha" if properties(element).get("mask-type") == "alpha" else "luminance"
        if frame is None:
            return Mask(Group(), kind, (0.0, 0.0, 0.0, 0.0), reference)
        region = self._region(element, frame, ctm, element.get("maskUnits") or "objectBoundingBox")
        content_frame = self._units_frame(element.get("maskContentUnits"), "userSpaceOnUse", bbox)
        if content_frame is None:
            return Mask(Group(), kind, region, reference)
        self._chain += (reference,)
        try:
            content = self._fragment(element, ctm @ content_frame)
            nested = self._mask(_mask_of_mask(element, self.definitions, self._chain), ctm, bbox)
        finally:
            self._chain = self._chain[:-1]
        if nested is not None:  # a mask on the <mask>: its content is masked
            content = Group([content], mask=nested)
        matrix = ctm @ frame
        if abs(matrix[0, 1]) > 1e-9 or abs(matrix[1, 0]) > 1e-9:  # a rotated or skewed region: clip to its shape
            x, y, w, h = self._region_box(element, element.get("maskUnits") or "objectBoundingBox")
            corners = np.array([[x, y, 1], [x + w, y, 1], [x + w, y + h, 1], [x, y + h, 1.0]]) @ matrix.T
            self.paths.append(Path([Subpath(corners[:, :2], [1, 1, 1, 1], True)], fill=Solid((0.0, 0.0, 0.0, 1.0))))
            content = Group([content], clip=ClipPath([len(self.paths) - 1]))
        return Mask(content, kind, region, reference)

    def _region(self, element: ET.Element, frame: np.ndarray, ctm: np.ndarray, units: str
                ) -> tuple[float, float, float, float]:
        """The canvas rect bounding a mask's or filter's x/y/width/height region."""
        return _map_rect(ctm @ frame, *self._region_box(element, units))

    def _region_box(self, element: ET.Element, units: str) -> tuple[float, float, float, float]:
        """A mask's or filter's x, y, width, height in its ``units`` (default -10 %, 120 %)."""
        defaults = {"x": "-10%", "y": "-10%", "width": "120%", "height": "120%"}
        values = []
        for axis, attribute in enumerate(("x", "y", "width", "height")):
            text = element.get(attribute, defaults[attribute])
            if units == "objectBoundingBox":
                values.append(number(text, number(defaults[attribute], 0.0)))
            else:
                values.append(user_length(text, self.viewport[axis % 2]))
        x, y, w, h = values
        return x, y, w, h

    def _fragment(self, element: ET.Element, matrix: np.ndarray, clip_mode: bool = False) -> Group:
        """The content of a ``<clipPath>``/``<mask>`` read as a document of its own, drawn through
        ``matrix`` (canvas px per content unit); its paths are appended to the Scene's paths."""
        width, height = self.viewport
        doc = ET.Element(f"{{{SVG_NS}}}svg", {"width": repr(float(width)), "height": repr(float(height))})
        inherited = {k: v for k, v in element.attrib.items() if local_name(k) not in _NOT_INHERITED}
        wrapper = ET.SubElement(doc, f"{{{SVG_NS}}}g", {**inherited, "transform": _matrix_text(matrix)})
        wrapper.extend(copy.deepcopy(list(element)))
        skipped = strip_unsupported(doc)
        self.skipped.update(skipped)
        svg = build_tree(doc, self.name)
        group = Group()
        for child in svg:
            self._node(child, self.layers[-1] if self.layers else DEFAULT_LAYER, group, clip_mode)
        inner = group.children[0] if len(group.children) == 1 else None
        if (isinstance(inner, Group) and inner.id is None and inner.opacity == 1 and inner.clip is None
                and inner.mask is None and not inner.filters and inner.blend == "normal" and not inner.isolate):
            return inner  # the wrapper that carried the transform: its children are the content
        return group

def _local_bounds(paths: list[Path], matrix: np.ndarray, extra: list[np.ndarray] = ()
                  ) -> tuple[np.ndarray, np.ndarray] | None:
    """(low, high) corners (2,) of the bounding box of the points of ``paths`` and ``extra`` (canvas
    px) in the space that ``matrix`` (3, 3) maps to the canvas; None without points or for a
    singular matrix."""
    points = [s.points for p in paths for s in p.subpaths] + list(extra)
    if not points:
        return None
    try:
        inverse = np.linalg.inv(matrix)
    except np.linalg.LinAlgError:
        return None
    mapped = np.concatenate(points).astype(np.float64) @ inverse[:2, :2].T + inverse[:2, 2]
    return mapped.min(0), mapped.max(0)


def _mask_of_mask(element: ET.Element, definitions: dict[str, ET.Element], chain: tuple[str, ...]) -> str | None:
    """The id of the mask a ``<mask>`` element is itself masked by, or None when there is none or
    following ``mask`` attributes from it comes back to a mask in ``chain`` (then, as resvg does, the
    attribute is ignored)."""
    first = url_id(properties(element).get("mask"))
    seen, current = set(chain), first
    while current is not None:
        if current in seen:
            return None
        seen.add(current)
        target = definitions.get(current)
        current = url_id(properties(target).get("mask")) if target is not None else None
    return first


def _is_similarity(m: np.ndarray, tolerance: float = 1e-4) -> bool:
    """Whether the linear part of ``m`` (3, 3) is a rotation times a uniform scale (maybe mirrored)."""
    a, b, c, d = m[0, 0], m[1, 0], m[0, 1], m[1, 1]
    size = max(abs(a), abs(b), abs(c), abs(d), 1e-12)
    return abs(a * a + b * b - c * c - d * d) <= tolerance * size * size and abs(a * c + b * d) <= tolerance * size * size


def _font_size(values: dict) -> float:
    """The element's font size in user units (16 when unset or not a plain number), for em lengths."""
    try:
        return float(str(values.get("font-size", "16")).removesuffix("px"))
    except ValueError:
        return 16.0


def _blending(own: dict) -> tuple[str, bool]:
    """The element's ``mix-blend-mode`` (unknown values read as normal) and whether ``isolation`` is
    isolate (CSS-only properties: the cascade drops attributes of those names)."""
    mode = (own.get("mix-blend-mode") or "normal").strip()
    return (mode if mode in BLEND_MODES else "normal"), (own.get("isolation") or "").strip() == "isolate"


def _content_bbox(node) -> tuple[float, float, float, float] | None:
    """The fill bounding box of a group's shapes in the group's own user space."""
    try:
        inverse = np.linalg.inv(matrix3(node.transform))
    except np.linalg.LinAlgError:
        return None
    corners = []
    for element in node.select():
        box = shape_bbox(element) if isinstance(element, Shape) else None
        if box is not None:
            x0, y0, x1, y1 = box
            to_group = inverse @ matrix3(element.transform)
            corners.append(np.array([[x0, y0, 1], [x1, y0, 1], [x0, y1, 1], [x1, y1, 1.0]]) @ to_group.T)
    if not corners:
        return None
    points = np.concatenate(corners)
    return float(points[:, 0].min()), float(points[:, 1].min()), float(points[:, 0].max()), float(points[:, 1].max())


__all__ = ["ReadSVG", "load_svg", "read_svg"]
