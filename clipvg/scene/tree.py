"""Group structure of a Scene: nested groups with opacity, clip paths, masks and blur.

A Scene without a tree draws its paths bottom to top. A Scene with a tree draws what its root
``Group`` lists: path indices and nested groups, in order. Paths that give a clip path its shape or
make up a mask's content are Scene paths too (so their points get gradients), listed by the
``ClipPath`` or the mask's ``Group``, not by the drawn tree. All geometry is in canvas pixels
(transforms are baked in when an SVG is read).

A group's opacity lives in ``Scene.group_opacity[group.index]`` (a tensor, so it can be optimised);
``Group.opacity`` is the value a new Scene is built with.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Iterator, Union

MASK_KINDS = ("luminance", "alpha")
Rect = tuple[float, float, float, float]  # x, y, width, height in canvas px


@dataclass
class ClipPath:
    """The union of the fills of ``paths`` (Scene path indices; each path's fill rule is its
    clip-rule), itself clipped by ``clip`` when set (a ``clip-path`` on the ``<clipPath>``)."""

    paths: list[int]
    clip: ClipPath | None = None
    id: str | None = None


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


@dataclass
class Blur:
    """A Gaussian blur (SVG ``feGaussianBlur``) of standard deviation ``std`` (x, y) canvas px, its
    result cut to ``region`` (canvas px; None: everywhere). ``linear_rgb``: blur linear-light values
    (SVG's default ``color-interpolation-filters: linearRGB``), else sRGB values."""

    std: tuple[float, float]
    region: Rect | None = None
    id: str | None = None
    linear_rgb: bool = True


@dataclass
class Group:
    """A group: ``children`` are Scene path indices and nested groups, bottom to top.

    A group with ``opacity`` < 1, a ``clip``, a ``mask`` or a ``blur`` is drawn in isolation (its
    content composited on its own, then faded, clipped, masked, blurred) as SVG specifies; one without
    them is only structure. ``attributes`` are extra SVG attributes written back (e.g. Inkscape's
    ``inkscape:label``/``inkscape:groupmode``). ``index`` is set by the Scene (its ``group_opacity``
    slot).
    """

    children: list[Union[Group, int]] = field(default_factory=list)
    id: str | None = None
    opacity: float = 1.0
    clip: ClipPath | None = None
    mask: Mask | None = None
    blur: Blur | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    index: int = -1

    def groups(self) -> Iterator[Group]:
        """This group and every group below it (mask contents included), depth first."""
        yield self
        for child in self.children:
            if isinstance(child, Group):
                yield from child.groups()
        if self.mask is not None:
            yield from self.mask.content.groups()

    def drawn_paths(self) -> Iterator[int]:
        """The path indices this group draws directly or through nested groups (not clip shapes
        or mask content)."""
        for child in self.children:
            if isinstance(child, Group):
                yield from child.drawn_paths()
            else:
                yield child

    def has_effects(self) -> bool:
        """Whether this group or one below it needs an isolated (off-screen) render."""
        return any(g.opacity < 1 or g.clip is not None or g.mask is not None or g.blur is not None
                   for g in self.groups())


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
        return ClipPath([mapping[p] for p in clip.paths if p in mapping], clip_copy(clip.clip), clip.id)

    def group_copy(group: Group, keep_empty: bool = False) -> Group | None:
        children: list[Group | int] = []
        for child in group.children:
            if isinstance(child, Group):
                copied = group_copy(child)
                if copied is not None:
                    children.append(copied)
            elif child in mapping:
                children.append(mapping[child])
        if not children and not keep_empty:
            return None
        mask = None
        if group.mask is not None:
            content = group_copy(group.mask.content, keep_empty=True)
            mask = Mask(content, group.mask.kind, group.mask.region, group.mask.id)
        blur = None if group.blur is None else Blur(group.blur.std, group.blur.region, group.blur.id)
        return Group(children, group.id, group.opacity, clip_copy(group.clip), mask, blur,
                     dict(group.attributes), group.index)

    return group_copy(root, keep_empty=True)


# ---------------------------------------------------------------------- plain data (checkpoints)
def tree_to_data(node):
    """The tree as nested dicts/lists of plain values (what ``torch.load(weights_only=True)`` reads)."""
    if node is None or isinstance(node, (int, float, str)):
        return node
    if isinstance(node, (list, tuple)):
        return [tree_to_data(v) for v in node]
    if isinstance(node, dict):
        return {k: tree_to_data(v) for k, v in node.items()}
    data = {"type": type(node).__name__}
    for f in fields(node):
        data[f.name] = tree_to_data(getattr(node, f.name))
    return data


_TYPES = {"Group": Group, "ClipPath": ClipPath, "Mask": Mask, "Blur": Blur}
_TUPLES = {"std", "region"}


def tree_from_data(data):
    """Inverse of ``tree_to_data``."""
    if isinstance(data, dict) and data.get("type") in _TYPES:
        cls = _TYPES[data["type"]]
        values = {}
        for f in fields(cls):
            value = tree_from_data(data.get(f.name))
            if f.name in _TUPLES and value is not None:
                value = tuple(value)
            if value is not None or f.name in ("clip", "mask", "blur", "id", "region"):
                values[f.name] = value
        return cls(**values)
    if isinstance(data, list):
        return [tree_from_data(v) for v in data]
    return data


__all__ = ["MASK_KINDS", "Blur", "ClipPath", "Group", "Mask", "map_paths", "number_groups", "tree_from_data",
           "tree_to_data"]
