"""Group structure of a Scene: nested groups with opacity, clip paths, masks, filters and blend modes.

A Scene without a tree draws its paths bottom to top. A Scene with a tree draws what its root
``Group`` lists: path indices and nested groups, in order. Paths that give a clip path its shape or
make up a mask's content are Scene paths too (so their points get gradients), listed by the
``ClipPath`` or the mask's ``Group``, not by the drawn tree. All geometry is in canvas pixels
(transforms are baked in when an SVG is read).

A group's opacity lives in ``Scene.group_opacity[group.index]`` (a tensor, so it can be optimised);
``Group.opacity`` is the value a new Scene is built with.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Callable, Iterator, Union

if TYPE_CHECKING:  # torch loads with the Scene, not with the tree: the SVG reader builds trees without it
    import torch

MASK_KINDS = ("luminance", "alpha")
Rect = tuple[float, float, float, float]  # x, y, width, height in canvas px


@dataclass
class ClipPath:
    """The union of the fills of ``paths`` (Scene path indices; each path's fill rule is its
    clip-rule) and of ``parts`` (clip paths of their own: children of the ``<clipPath>`` that have a
    ``clip-path`` themselves), itself clipped by ``clip`` when set (a ``clip-path`` on the ``<clipPath>``)."""

    paths: list[int]
    clip: ClipPath | None = None
    id: str | None = None
    parts: list[ClipPath] = field(default_factory=list)


@dataclass
class Mask:
    """``content`` drawn off-screen; its luminance (``kind`` "luminance", sRGB coefficients
    0.2125/0.7154/0.0721, times alpha) or its alpha ("alpha") scales what the group draws, inside
    ``region`` (canvas px; None: everywhere)."""

    content: Group
    kind: str = "luminance"
    region: Rect | None = None
    id: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in MASK_KINDS:
            raise ValueError(f"mask kind must be one of {MASK_KINDS}, got {self.kind!r}")


BLEND_MODES = ("normal", "multiply", "screen", "overlay", "darken", "lighten", "color-dodge", "color-burn",
               "hard-light", "soft-light", "difference", "exclusion", "hue", "saturation", "color", "luminosity")


@dataclass
class FilterPrimitive:
    """One SVG filter primitive. ``kind`` is its element name (``"feGaussianBlur"``, ``"feFlood"`` ...,
    see ``clipvg.render.filters.PRIMITIVES``); ``inputs`` are ``"SourceGraphic"``, ``"SourceAlpha"`` or
    an earlier primitive's ``result``; ``subregion`` is in canvas px. ``params`` holds the primitive's
    values in canvas px: numbers as tensors (an optimiser can reach them, e.g. ``params["std"]`` (2,)),
    choices as strings. ``content``: what an ``feImage`` draws (Scene paths, like a mask's content).
    ``linear_rgb``: work on linear-light values (``color-interpolation-filters: linearRGB``)."""

    kind: str
    inputs: list[str] = field(default_factory=list)
    result: str = ""
    subregion: Rect | None = None
    linear_rgb: bool = True
    params: dict = field(default_factory=dict)
    content: Group | None = None


@dataclass
class Filter:
    """An SVG ``<filter>`` (or a CSS filter function): ``primitives`` run in order inside ``region``
    (canvas px; None: the whole canvas); the last one's result replaces what the group draws."""

    primitives: list[FilterPrimitive]
    region: Rect | None = None
    id: str | None = None

    @classmethod
    def blur(cls, std: tuple[float, float], region: Rect | None = None, id: str | None = None,
             linear_rgb: bool = True) -> Filter:
        """A one-``feGaussianBlur`` filter of standard deviation ``std`` (x, y) canvas px."""
        import torch

        return cls([FilterPrimitive("feGaussianBlur", ["SourceGraphic"], "result1", region, linear_rgb,
                                    {"std": torch.tensor([float(std[0]), float(std[1])])})], region, id)

    def tensors(self) -> list[torch.Tensor]:
        """Every numeric parameter tensor of the primitives (what an optimiser can update)."""
        import torch

        found: list[torch.Tensor] = []

        def collect(value) -> None:
            if isinstance(value, torch.Tensor) and value.is_floating_point():
                found.append(value)
            elif isinstance(value, dict):
                for item in value.values():
                    collect(item)
            elif isinstance(value, list):
                for item in value:
                    collect(item)

        for primitive in self.primitives:
            collect(primitive.params)
        return found


@dataclass(eq=False)
class Image:
    """A raster image (SVG ``<image>``): ``texture`` (h, w, 4) straight RGBA in [0, 1] (a tensor an
    optimiser can update) drawn as a quad through ``transform`` (a, b, c, d, e, f: SVG matrix order),
    image px (texel corners at integers) -> canvas px, faded by ``opacity``. ``sampling``: "bicubic"
    (``image-rendering`` auto/optimizeQuality), "nearest" (pixelated/optimizeSpeed) or "bilinear" (a
    texture made at about the drawn resolution, such as a rendered SVG image).
    ``view``: the part drawn (x, y, w, h image px; None: the whole texture). ``redraw``: for an SVG
    image, what draws it anew at the output resolution (``clipvg.svg.image_data.SVGRedraw``; used
    while ``texture`` needs no gradient)."""

    texture: torch.Tensor
    transform: tuple[float, float, float, float, float, float] = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    opacity: float = 1.0
    sampling: str = "bicubic"
    view: Rect | None = None
    id: str | None = None
    redraw: Callable | None = field(default=None, metadata={"checkpoint": False})  # drawn from texture after a restore


@dataclass(eq=False)
class Pattern:
    """The fill area of Scene path ``path`` (its fill rule; the path itself is not drawn) painted with a
    repeated tile (SVG ``<pattern>``): ``content`` (its paths in tile px, one tile spanning (0, 0) to
    ``size``) is drawn once into a texture that repeats every ``size`` along both axes, placed by
    ``transform`` (a, b, c, d, e, f: SVG matrix order, tile px -> canvas px), faded by ``opacity``.
    ``sampling``: "auto" (the texel under each pixel when the tile lands on the pixel grid by a
    translation, else bicubic, as tiny-skia) or "bicubic" (always filtered)."""

    path: int
    content: Group
    size: tuple[float, float]
    transform: tuple[float, float, float, float, float, float] = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    opacity: float = 1.0
    id: str | None = None
    sampling: str = "auto"


@dataclass
class Group:
    """A group: ``children`` are Scene path indices and nested groups, bottom to top.

    A group with ``opacity`` < 1, a ``clip``, a ``mask``, ``filters``, a ``blend`` mode other than
    "normal" (CSS ``mix-blend-mode``, one of ``BLEND_MODES``) or ``isolate`` is drawn in isolation (its
    content composited on its own, then filtered, clipped, masked, faded and blended onto what is below)
    as SVG specifies; one without them is only structure. ``attributes`` are extra SVG attributes written back (e.g. Inkscape's
    ``inkscape:label``/``inkscape:groupmode``). ``index`` is set by the Scene (its ``group_opacity``
    slot). ``source_text``: for the group of an SVG ``<text>``, its source (``markup``, ``transform``
    (a..f, its user space -> canvas px) and the glyphs' ``signature``, see ``clipvg.svg.text.source``),
    so the writer writes the ``<text>`` back while the glyphs are unedited.
    """

    children: list[Union[Group, int, Image, Pattern]] = field(default_factory=list)
    id: str | None = None
    opacity: float = 1.0
    clip: ClipPath | None = None
    mask: Mask | None = None
    filters: list[Filter] = field(default_factory=list)
    blend: str = "normal"
    isolate: bool = False
    attributes: dict[str, str] = field(default_factory=dict)
    index: int = -1
    source_text: dict | None = None

    def groups(self) -> Iterator[Group]:
        """This group and every group below it (mask, filter and pattern contents included), depth first."""
        yield self
        for child in self.children:
            if isinstance(child, Group):
                yield from child.groups()
            elif isinstance(child, Pattern):
                yield from child.content.groups()
        if self.mask is not None:
            yield from self.mask.content.groups()
        for primitive in (p for f in self.filters for p in f.primitives):
            if primitive.content is not None:
                yield from primitive.content.groups()

    def drawn_paths(self) -> Iterator[int]:
        """The path indices this group draws directly or through nested groups (not clip shapes
        or mask content)."""
        for child in self.children:
            if isinstance(child, Group):
                yield from child.drawn_paths()
            elif not isinstance(child, (Image, Pattern)):
                yield child

    def images(self) -> Iterator[Image]:
        """Every Image this group or one below it (mask and filter contents included) draws."""
        return (child for g in self.groups() for child in g.children if isinstance(child, Image))

    def patterns(self) -> Iterator[Pattern]:
        """Every Pattern this group or one below it (mask, filter and pattern contents included) draws."""
        return (child for g in self.groups() for child in g.children if isinstance(child, Pattern))

    def draws_textures(self) -> bool:
        """Whether this group or one below it (mask, filter and pattern contents included) draws an Image
        or a Pattern (something sampled from a texture, not only filled paths)."""
        return next(self.images(), None) is not None or next(self.patterns(), None) is not None

    def has_effects(self) -> bool:
        """Whether this group or one below it needs an isolated (off-screen) render."""
        return any(g.opacity < 1 or g.clip is not None or g.mask is not None or g.filters or g.blend != "normal"
                   or g.isolate for g in self.groups())


def number_groups(root: Group) -> list[Group]:
    """Set ``index`` of every group (depth first) and return them in that order."""
    groups = list(root.groups())
    for index, group in enumerate(groups):
        group.index = index
    return groups


def map_paths(root: Group, mapping: dict[int, int]) -> Group | None:
    """A copy of the tree with path indices renamed by ``mapping``; paths (and clip shapes) not in it are
    dropped, and a group left empty is dropped too (None for an empty root)."""

    def clip_copy(clip: ClipPath | None) -> ClipPath | None:
        if clip is None:
            return None
        return ClipPath([mapping[p] for p in clip.paths if p in mapping], clip_copy(clip.clip), clip.id,
                        [clip_copy(part) for part in clip.parts])

    def group_copy(group: Group, keep_empty: bool = False) -> Group | None:
        children: list[Group | int | Image] = []
        for child in group.children:
            if isinstance(child, Group):
                copied = group_copy(child)
                if copied is not None:
                    children.append(copied)
            elif isinstance(child, Image):
                children.append(replace(child))
            elif isinstance(child, Pattern):
                if child.path in mapping:
                    children.append(replace(child, path=mapping[child.path],
                                            content=group_copy(child.content, keep_empty=True)))
            elif child in mapping:
                children.append(mapping[child])
        if not children and not keep_empty:
            return None
        mask = None
        if group.mask is not None:
            content = group_copy(group.mask.content, keep_empty=True)
            mask = Mask(content, group.mask.kind, group.mask.region, group.mask.id)
        filters = [Filter([replace(p, params=dict(p.params), content=None if p.content is None
                                   else group_copy(p.content, keep_empty=True)) for p in f.primitives],
                          f.region, f.id) for f in group.filters]
        return Group(children, group.id, group.opacity, clip_copy(group.clip), mask, filters, group.blend,
                     group.isolate, dict(group.attributes), group.index, group.source_text)

    return group_copy(root, keep_empty=True)


# ---------------------------------------------------------------------- plain data (checkpoints)
def tree_to_data(node):
    """The tree as nested dicts/lists of plain values (what ``torch.load(weights_only=True)`` reads)."""
    import torch

    if node is None or isinstance(node, (int, float, str, torch.Tensor)):
        return node
    if isinstance(node, (list, tuple)):
        return [tree_to_data(v) for v in node]
    if isinstance(node, dict):
        return {k: tree_to_data(v) for k, v in node.items()}
    data = {"type": type(node).__name__}
    for f in fields(node):
        if f.metadata.get("checkpoint", True):
            data[f.name] = tree_to_data(getattr(node, f.name))
    return data


_TYPES = {"Group": Group, "ClipPath": ClipPath, "Mask": Mask, "Filter": Filter, "FilterPrimitive": FilterPrimitive,
          "Image": Image, "Pattern": Pattern}
_TUPLES = {"region", "subregion", "transform", "view", "size"}


def _blur_from_data(data: dict) -> Filter:
    """A checkpoint's old single-blur node (``Blur``: std, region, id, linear_rgb) as a Filter."""
    return Filter.blur(tuple(data["std"]), None if data.get("region") is None else tuple(data["region"]),
                       data.get("id"), data.get("linear_rgb", True))


def tree_from_data(data):
    """Inverse of ``tree_to_data`` (also reads old checkpoints' ``Blur`` nodes, as filters)."""
    if isinstance(data, dict) and data.get("type") == "Blur":
        return _blur_from_data(data)
    if isinstance(data, dict) and data.get("type") in _TYPES:
        cls = _TYPES[data["type"]]
        values = {}
        for f in fields(cls):
            value = tree_from_data(data.get(f.name))
            if f.name in _TUPLES and value is not None:
                value = tuple(value)
            if value is not None or f.name in ("clip", "mask", "id", "region", "subregion", "content", "view"):
                values[f.name] = value
        if cls is Group and data.get("blur") is not None:
            values["filters"] = [_blur_from_data(data["blur"])]
        return cls(**values)
    if isinstance(data, list):
        return [tree_from_data(v) for v in data]
    return data


__all__ = ["BLEND_MODES", "MASK_KINDS", "ClipPath", "Filter", "FilterPrimitive", "Group", "Image", "Mask", "Pattern",
           "map_paths", "number_groups", "tree_from_data",
           "tree_to_data"]
