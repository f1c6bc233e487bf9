"""The reader's numbers before torch: what ``clipvg.svg.reader.read_svg`` puts in the tree where the Scene holds
tensors, and ``tree_tensors``, which makes them tensors when the Scene is built (``to_scene``).

Filter parameters are float32 numpy arrays (the same values ``torch.tensor(..., dtype=torch.float32)`` holds;
``torch.from_numpy`` keeps them bit for bit), or a ``Pending`` for a value computed by torch code (a colour
matrix from ``clipvg.render.filters.color``); image textures are (h, w, 4) float32 arrays, or a ``Pending`` for
an SVG image, which clipvg's renderer draws (``clipvg.svg.image_data.svg_texture``). A stroke outlined by the
renderer's stroke code (under a non-uniform transform, or painted with a pattern) is a ``PendingOutline``:
``finish_outlines`` makes it when the Scene is built; ``check_outline_points`` checks the points it will have
against the limits from a bound first. Reading stays torch-free, so a file the reader refuses is refused before
torch loads.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from ..limits import ResourceLimits, resource_limits
from ..scene import Path, Stroke, Subpath
from .outline_bound import outline_point_bound
from .point_count import PointTally
from .text.source import signature

if TYPE_CHECKING:
    import torch

    from ..scene.tree import Group


@dataclass(frozen=True)
class Pending:
    """A tensor made when the Scene is built: ``build(*args)``."""

    build: Callable[..., torch.Tensor]
    args: tuple = ()


@dataclass(frozen=True)
class PendingOutline:
    """A stroke drawn as the fill of its outline, made when the Scene is built (``finish_outlines``): the outline
    of ``subpaths`` (the shape in its own space times ``fine``) stroked with ``stroke`` (widths times ``fine``
    too), mapped to the canvas by ``ctm`` (3, 3; own space -> canvas px) over ``fine``, becomes the subpaths of
    ``path``. Until then ``path`` stands in for it with the shape's canvas geometry and a stroke as wide as the
    widest the transform makes it (``path.stroke``), so that reading sees bounds the outline stays within (the
    canvas of an SVG without a size, a marker's clip, the coordinate check) and counts the shape's own points;
    ``element`` names the shape in messages (``point_count.element_label``)."""

    path: Path
    subpaths: list[Subpath]
    stroke: Stroke
    ctm: np.ndarray
    fine: float
    element: str = "a shape"

    def point_bound(self) -> int:
        """At most how many points the outline will have (``clipvg.svg.outline_bound``; torch-free)."""
        return outline_point_bound(self.subpaths, self.stroke)

    def finish(self) -> None:
        """Give ``path`` the outline's polygons (filled with nonzero; no stroke), or nothing to draw when the
        stroke has no area (a zero-length subpath with butt caps)."""
        from ..render.outline import stroke_outline

        loops = stroke_outline(self.subpaths, self.stroke)
        if loops:
            self.path.subpaths = [Subpath.polygon(loop @ (self.ctm[:2, :2].T / self.fine) + self.ctm[:2, 2])
                                  for loop in loops]
        else:
            self.path.fill = None
        self.path.stroke = None


def finish_outlines(paths: list[Path], tree: Group, outlines: list[PendingOutline]) -> None:
    """Make every outline of ``outlines`` (loads torch), then the glyph signatures of the texts that draw one
    (``Group.source_text``, read from ``paths``), which were taken from the stand-ins."""
    for outline in outlines:
        outline.finish()
    made = {id(outline.path) for outline in outlines}
    for group in tree.groups() if made else ():
        if group.source_text is not None and any(id(paths[i]) in made for i in group.drawn_paths()):
            group.source_text.update(signature(paths[i] for i in group.drawn_paths()))


def check_outline_points(paths: list[Path], outlines: list[PendingOutline], name: str,
                         limits: ResourceLimits | None = None) -> None:
    """SVGParseError (its ``limit`` set) when the bound on an outline's points (``PendingOutline.point_bound``)
    is over the points_per_path limit, or the points of ``paths`` with those bounds in place of the stand-ins'
    over the points limit (``limits``: default those in force), so that such a file is refused while reading,
    before the outlines are made."""
    tally = PointTally(name, limits or resource_limits())
    for outline in outlines:
        tally.add_outline(outline.point_bound(), outline.element)
    standing = {id(outline.path) for outline in outlines}
    tally.check_drawn(sum(len(s.points) for path in paths if id(path) not in standing for s in path.subpaths))


def tree_tensors(tree: Group) -> Group:
    """``tree`` (in place) with its arrays and ``Pending`` values made tensors: image textures and filter
    parameters, in mask, feImage and pattern contents too. An array shared by several parameters becomes one
    tensor shared likewise."""
    import torch

    made: dict[int, torch.Tensor] = {}

    def tensor(value: Any) -> Any:
        if isinstance(value, Pending):
            return value.build(*value.args)
        if isinstance(value, (np.ndarray, np.generic)):
            if id(value) not in made:
                made[id(value)] = torch.from_numpy(np.asarray(value))
            return made[id(value)]
        if isinstance(value, dict):
            return {key: tensor(item) for key, item in value.items()}
        if isinstance(value, list):
            return [tensor(item) for item in value]
        return value

    for image in tree.images():
        image.texture = tensor(image.texture)
    for group in tree.groups():
        for primitive in (p for f in group.filters for p in f.primitives):
            primitive.params = tensor(primitive.params)
    return tree


__all__ = ["Pending", "PendingOutline", "check_outline_points", "finish_outlines", "tree_tensors"]
