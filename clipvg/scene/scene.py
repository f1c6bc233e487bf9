"""The packed Scene: every path's geometry and paint in a few tensors, so the renderer and the
optimizer never loop over paths in Python.

Geometry (P points, S segments, Q subpaths, N paths):
    points                  (P, 2) float32 pixels, origin top-left, y down
    segment_degrees         (S,)   int64, 1 line | 2 quadratic | 3 cubic
    subpath_segment_offsets (Q+1,) int64, segments of subpath q are [o[q], o[q+1])
    subpath_point_offsets   (Q+1,) int64, points of subpath q are [o[q], o[q+1])
    subpath_closed          (Q,)   bool
    path_subpath_offsets    (N+1,) int64
Paint (per path):
    fill_color, stroke_color (N, 4) float32 straight RGBA; has_fill, has_stroke (N,) bool
    fill_gradient, stroke_gradient (N,) int64, -1 for a solid colour, else a gradient index
    stroke_width (N,) px; opacity (N,); evenodd (N,) bool; line_cap, line_join (N,) int64 indices into
    paint.CAPS / paint.JOINS; miter_limit (N,)
Gradients (G gradients, T stops):
    gradient_kind (G,) 0 linear | 1 radial; gradient_coords (G, 5): x1 y1 x2 y2 - (linear) or
    cx cy r fx fy (radial); gradient_transform (G, 6) SVG matrix; gradient_spread (G,) index into
    paint.SPREADS; gradient_stop_offsets (G+1,); stop_offsets (T,); stop_colors (T, 4)
Dashes: path_dash_offsets (N+1,) int64, dash_array (D,) px (path k's pattern is
    dash_array[o[k]:o[k+1]], empty for a solid stroke), dash_offset (N,) px
Layers: layer_names list[str]; path_layer (N,) int64; path_ids list[str | None].
Structure: tree (``clipvg.scene.tree.Group`` or None) lists what is drawn, in groups with opacity
    (group_opacity (G,) in [0, 1], one per group), clip paths, masks, filters and blend modes; None draws every path.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Iterator, Sequence

import numpy as np
import torch

from ..ragged import expand, owners
from .paint import (CAPS, JOINS, SPREADS, GradientStops, LinearGradient, Paint,
                    RadialGradient, Solid, Stroke, gradient_kind)
from .path import Path, Subpath
from .tree import Group, Image, Pattern, map_paths, number_groups

if TYPE_CHECKING:
    from ..crossings import EdgeLoad

_TENSOR_FIELDS = (
    "points", "segment_degrees", "subpath_segment_offsets", "subpath_point_offsets", "subpath_closed",
    "path_subpath_offsets", "fill_color", "stroke_color", "has_fill", "has_stroke", "fill_gradient",
    "stroke_gradient", "stroke_width", "opacity", "evenodd", "line_cap", "line_join", "miter_limit",
    "gradient_kind", "gradient_coords", "gradient_transform", "gradient_spread",
    "gradient_stop_offsets", "stop_offsets", "stop_colors", "path_layer", "path_dash_offsets", "dash_array",
    "dash_offset", "group_opacity",
)


@dataclass
class Scene:
    """A canvas of ``width`` x ``height`` pixels holding packed paths (see module docstring)."""

    width: float
    height: float
    points: torch.Tensor
    segment_degrees: torch.Tensor
    subpath_segment_offsets: torch.Tensor
    subpath_point_offsets: torch.Tensor
    subpath_closed: torch.Tensor
    path_subpath_offsets: torch.Tensor
    fill_color: torch.Tensor
    stroke_color: torch.Tensor
    has_fill: torch.Tensor
    has_stroke: torch.Tensor
    fill_gradient: torch.Tensor
    stroke_gradient: torch.Tensor
    stroke_width: torch.Tensor
    opacity: torch.Tensor
    evenodd: torch.Tensor
    line_cap: torch.Tensor
    line_join: torch.Tensor
    miter_limit: torch.Tensor
    gradient_kind: torch.Tensor
    gradient_coords: torch.Tensor
    gradient_transform: torch.Tensor
    gradient_spread: torch.Tensor
    gradient_stop_offsets: torch.Tensor
    stop_offsets: torch.Tensor
    stop_colors: torch.Tensor
    path_layer: torch.Tensor
    path_dash_offsets: torch.Tensor
    dash_array: torch.Tensor
    dash_offset: torch.Tensor
    group_opacity: torch.Tensor
    layer_names: list[str]
    path_ids: list[str | None]
    tree: Group | None = None

    def __post_init__(self) -> None:
        if isinstance(self.tree, dict):  # restored from plain data (a checkpoint)
            from .tree import tree_from_data
            self.tree = tree_from_data(self.tree)

    # ------------------------------------------------------------------ sizes and devices
    @property
    def num_paths(self) -> int:
        return len(self.path_subpath_offsets) - 1

    @property
    def device(self) -> torch.device:
        return self.points.device

    def __len__(self) -> int:
        return self.num_paths

    def to(self, device: str | torch.device) -> "Scene":
        """A copy on ``device``; leaf tensors stay leaves (gradients restart)."""
        return self._map(lambda t: t.detach().to(device))

    def clone(self) -> "Scene":
        """A deep, detached copy (requires_grad off)."""
        return self._map(lambda t: t.detach().clone())

    def _map(self, fn) -> "Scene":
        changes = {name: fn(getattr(self, name)) for name in _TENSOR_FIELDS}
        tree = None if self.tree is None else map_paths(self.tree, {i: i for i in range(self.num_paths)})
        for image in [] if tree is None else tree.images():  # textures follow the scene (device, copies)
            image.texture = fn(image.texture)
        return replace(self, layer_names=list(self.layer_names), path_ids=list(self.path_ids), tree=tree,
                       **changes)

    @property
    def is_flat(self) -> bool:
        """True when every path is drawn once, bottom to top, with no group effects (no tree, or a
        tree of plain groups over all paths): the renderer's fast path."""
        if self.tree is None:
            return True
        if self.tree.draws_textures():
            return False
        if any(g.clip is not None or g.mask is not None or g.filters or g.blend != "normal"
               for g in self.tree.groups()):
            return False
        opacity = self.group_opacity
        if len(opacity) and (opacity.requires_grad or bool((opacity < 1).any())):
            return False
        drawn = self.drawn_paths()
        return drawn == list(range(self.num_paths))

    def drawn_paths(self) -> list[int]:
        """Indices of the paths the tree draws (all paths without a tree), in drawing order."""
        return list(range(self.num_paths)) if self.tree is None else list(self.tree.drawn_paths())

    # ------------------------------------------------------------------ index maps
    def point_path_index(self) -> torch.Tensor:
        """(P,) int64: the path each control point belongs to."""
        path_of_subpath = owners(self.path_subpath_offsets)
        point_counts = self.subpath_point_offsets.diff()
        return path_of_subpath.repeat_interleave(point_counts)

    def edge_load(self) -> "EdgeLoad":
        """Per path, the grid lines its edges cross when drawn (``clipvg.crossings``: the renderer's memory
        beyond its pixels)."""
        from ..crossings import EdgeLoad

        width = torch.where(self.has_stroke, self.stroke_width.detach(), 0.0)
        arrays = (self.points.detach(), self.subpath_point_offsets.diff(), self.segment_degrees,
                  self.subpath_segment_offsets.diff(), owners(self.path_subpath_offsets), self.has_fill, width,
                  self.miter_limit.detach())
        return EdgeLoad.of(*(array.cpu().numpy() for array in arrays))

    def layer_paths(self, layer: str) -> torch.Tensor:
        """(K,) int64 indices of the paths in ``layer``."""
        if layer not in self.layer_names:
            raise KeyError(f"no layer {layer!r}; layers are {self.layer_names}")
        return torch.nonzero(self.path_layer == self.layer_names.index(layer)).flatten()

    # ------------------------------------------------------------------ optimisation
    def parameters(self, points: bool = True, colors: bool = True, stroke_widths: bool = False,
                   gradients: bool = False, paths: Sequence[int] | torch.Tensor | None = None,
                   dashes: bool = False, group_opacity: bool = False) -> list[torch.Tensor]:
        """The leaf tensors the renderer reads, with ``requires_grad`` on, for an optimizer.

        ``colors`` covers fill and stroke colours and gradient stop colours; ``gradients`` covers
        gradient geometry and stop offsets; ``dashes`` dash offsets; ``group_opacity`` the groups'
        opacities (not limited by ``paths``). With ``paths`` (indices or an (N,) bool mask) gradients
        of every other path are zeroed by hooks, so e.g. Adam leaves those entries bit-identical.
        """
        self._clear_hooks()
        chosen: list[tuple[str, torch.Tensor | None]] = []
        path_mask = None if paths is None else _as_mask(paths, self.num_paths, self.device)
        grad_mask = self._gradient_mask(path_mask)
        if points:
            chosen.append(("points", None if path_mask is None else path_mask[self.point_path_index()]))
        if colors:
            chosen += [("fill_color", path_mask), ("stroke_color", path_mask)]
            if len(self.stop_colors):
                chosen.append(("stop_colors", None if grad_mask is None else grad_mask[owners(self.gradient_stop_offsets)]))
        if stroke_widths:
            chosen.append(("stroke_width", path_mask))
        if gradients and len(self.gradient_coords):
            chosen += [("gradient_coords", grad_mask),
                       ("stop_offsets", None if grad_mask is None else grad_mask[owners(self.gradient_stop_offsets)])]
        if dashes:
            chosen.append(("dash_offset", path_mask))
        if group_opacity and len(self.group_opacity):
            chosen.append(("group_opacity", None))
        params = []
        for name, mask in chosen:
            tensor = getattr(self, name)
            if not tensor.is_leaf:
                tensor = tensor.detach()
                setattr(self, name, tensor)
            tensor.requires_grad_(True)
            if mask is not None:
                keep = mask.to(tensor.dtype).reshape(-1, *([1] * (tensor.dim() - 1)))
                self._hooks.append(tensor.register_hook(lambda g, keep=keep: g * keep))
            params.append(tensor)
        return params

    def _gradient_mask(self, path_mask: torch.Tensor | None) -> torch.Tensor | None:
        if path_mask is None:
            return None
        used = torch.zeros(len(self.gradient_kind), dtype=torch.bool, device=self.device)
        for index in (self.fill_gradient[path_mask], self.stroke_gradient[path_mask]):
            used[index[index >= 0]] = True
        return used

    def _clear_hooks(self) -> None:
        for handle in getattr(self, "_hooks", []):
            handle.remove()
        self._hooks = []

    def clamp_(self) -> "Scene":
        """Clamp colours, opacities and stop offsets to [0, 1] and stroke widths to >= 0, in place."""
        with torch.no_grad():
            for name in ("fill_color", "stroke_color", "stop_colors", "stop_offsets", "opacity", "group_opacity"):
                getattr(self, name).clamp_(0.0, 1.0)
            self.stroke_width.clamp_(min=0.0)
        return self

    # ------------------------------------------------------------------ per-path view
    def path(self, index: int) -> Path:
        """The per-path view of path ``index`` (numpy copies; edits do not write back)."""
        n = self.num_paths
        if not -n <= index < n:
            raise IndexError(f"path index {index} out of range for {n} paths")
        return self._view(self._host(), index % n)

    def paths(self) -> Iterator[Path]:
        """Iterate over per-path views, bottom to top (one device-to-host copy in all)."""
        host = self._host()
        return (self._view(host, i) for i in range(self.num_paths))

    def _host(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name).detach().cpu().numpy() for name in _TENSOR_FIELDS}

    def _view(self, h: dict[str, np.ndarray], index: int) -> Path:
        so, po = h["subpath_segment_offsets"], h["subpath_point_offsets"]
        q0, q1 = h["path_subpath_offsets"][index], h["path_subpath_offsets"][index + 1]
        subpaths = [Subpath(h["points"][po[q]:po[q + 1]], h["segment_degrees"][so[q]:so[q + 1]],
                            bool(h["subpath_closed"][q])) for q in range(q0, q1)]
        fill = _paint(h, "fill", index) if h["has_fill"][index] else None
        stroke = None
        if h["has_stroke"][index]:
            d0, d1 = h["path_dash_offsets"][index], h["path_dash_offsets"][index + 1]
            stroke = Stroke(_paint(h, "stroke", index), width=float(h["stroke_width"][index]),
                            cap=CAPS[int(h["line_cap"][index])], join=JOINS[int(h["line_join"][index])],
                            miter_limit=float(h["miter_limit"][index]),
                            dashes=tuple(float(v) for v in h["dash_array"][d0:d1]) if d1 > d0 else None,
                            dash_offset=float(h["dash_offset"][index]))
        return Path(subpaths, fill=fill, stroke=stroke,
                    fill_rule="evenodd" if h["evenodd"][index] else "nonzero",
                    opacity=float(h["opacity"][index]), layer=self.layer_names[int(h["path_layer"][index])],
                    id=self.path_ids[index])

    # ------------------------------------------------------------------ building
    @classmethod
    def from_paths(cls, paths: Sequence[Path], width: float, height: float,
                   layer_names: Sequence[str] | None = None, device: str | torch.device = "cpu",
                   tree: Group | None = None) -> "Scene":
        """Pack per-path views into a Scene. Layers are named by ``Path.layer``; ``layer_names`` fixes
        their order (bottom to top) and may list empty layers. ``tree`` (see ``clipvg.scene.tree``)
        gives groups, clip paths and masks over these paths; group opacities come from its groups."""
        return _pack(list(paths), float(width), float(height), layer_names, torch.device(device), tree)

    @classmethod
    def empty(cls, width: float, height: float, device: str | torch.device = "cpu") -> "Scene":
        """A Scene with no paths."""
        return cls.from_paths([], width, height, device=device)

    def subset(self, paths: Sequence[int] | torch.Tensor) -> "Scene":
        """A new Scene with only the given paths (in their original order), detached. Groups keep
        what they hold of them (clip shapes and mask contents go with their groups only when kept)."""
        mask = _as_mask(paths, self.num_paths, self.device)
        chosen = torch.nonzero(mask).flatten().tolist()
        kept = [self.path(i) for i in chosen]
        tree = None
        if self.tree is not None:
            tree = map_paths(self.tree, {old: new for new, old in enumerate(chosen)})
            self._sync_group_opacity(tree)
        return Scene.from_paths(kept, self.width, self.height, self.layer_names, self.device, tree)

    def _sync_group_opacity(self, tree: Group) -> None:
        """Copy the live group opacities into ``tree``'s groups (matched by their ``index``)."""
        values = self.group_opacity.detach().cpu().tolist()
        for group in tree.groups():
            if 0 <= group.index < len(values):
                group.opacity = float(values[group.index])

    def take(self, paths: Sequence[int] | torch.Tensor) -> "Scene":
        """A flat Scene of the given paths, in the given order, sharing autograd with this one
        (gradients flow back to this Scene's tensors); gradients tables are kept whole. For the
        renderer's off-screen passes."""
        device = self.device
        index = torch.as_tensor(paths, dtype=torch.int64, device=device).reshape(-1)
        sub_counts = self.path_subpath_offsets.diff()[index]
        subpaths = _ranges(self.path_subpath_offsets[:-1][index], sub_counts)
        seg_counts = self.subpath_segment_offsets.diff()[subpaths]
        pt_counts = self.subpath_point_offsets.diff()[subpaths]
        segments = _ranges(self.subpath_segment_offsets[:-1][subpaths], seg_counts)
        points = _ranges(self.subpath_point_offsets[:-1][subpaths], pt_counts)
        dash_counts = self.path_dash_offsets.diff()[index]
        dashes = _ranges(self.path_dash_offsets[:-1][index], dash_counts)

        def offsets(counts: torch.Tensor) -> torch.Tensor:
            return torch.cat([counts.new_zeros(1), torch.cumsum(counts, 0)])

        per_path = {name: getattr(self, name)[index] for name in (
            "fill_color", "stroke_color", "has_fill", "has_stroke", "fill_gradient", "stroke_gradient",
            "stroke_width", "opacity", "evenodd", "line_cap", "line_join", "miter_limit", "path_layer",
            "dash_offset")}
        return replace(
            self, points=self.points[points], segment_degrees=self.segment_degrees[segments],
            subpath_segment_offsets=offsets(seg_counts), subpath_point_offsets=offsets(pt_counts),
            subpath_closed=self.subpath_closed[subpaths], path_subpath_offsets=offsets(sub_counts),
            path_dash_offsets=offsets(dash_counts), dash_array=self.dash_array[dashes],
            group_opacity=self.group_opacity[:0], path_ids=[self.path_ids[i] for i in index.tolist()],
            layer_names=list(self.layer_names), tree=None, **per_path)


def concat(scenes: Sequence[Scene]) -> Scene:
    """Stack scenes bottom to top on the first one's canvas; layers with the same name merge."""
    if not scenes:
        raise ValueError("concat needs at least one scene")
    names: list[str] = []
    for scene in scenes:
        names += [n for n in scene.layer_names if n not in names]
    paths = [p for scene in scenes for p in scene.paths()]
    tree = None
    if any(scene.tree is not None for scene in scenes):
        tree, start = Group(), 0
        for scene in scenes:
            if scene.tree is None:
                tree.children += list(range(start, start + scene.num_paths))
            else:
                part = map_paths(scene.tree, {i: start + i for i in range(scene.num_paths)})
                scene._sync_group_opacity(part)
                tree.children.append(part)
            start += scene.num_paths
    return Scene.from_paths(paths, scenes[0].width, scenes[0].height, names, scenes[0].device, tree)


# ---------------------------------------------------------------------- helpers
def _paint(h: dict[str, np.ndarray], kind: str, index: int) -> Paint:
    """The fill or stroke (``kind``) paint of path ``index`` from host arrays ``h``."""
    g = int(h[f"{kind}_gradient"][index])
    if g < 0:
        return Solid(tuple(float(v) for v in h[f"{kind}_color"][index]))
    s0, s1 = h["gradient_stop_offsets"][g], h["gradient_stop_offsets"][g + 1]
    stops = GradientStops(h["stop_offsets"][s0:s1], h["stop_colors"][s0:s1])
    c = [float(v) for v in h["gradient_coords"][g]]
    transform = tuple(float(v) for v in h["gradient_transform"][g])
    spread = SPREADS[int(h["gradient_spread"][g])]
    if int(h["gradient_kind"][g]) == 0:
        return LinearGradient((c[0], c[1]), (c[2], c[3]), stops, transform, spread)
    return RadialGradient((c[0], c[1]), c[2], stops, (c[3], c[4]), transform, spread)


def _ranges(starts: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """Concatenated index ranges [starts[i], starts[i] + counts[i])."""
    owner, local = expand(counts)
    return starts[owner] + local


def _as_mask(paths: Sequence[int] | torch.Tensor, n: int, device: torch.device) -> torch.Tensor:
    paths = torch.as_tensor(paths, device=device)
    if paths.dtype == torch.bool:
        if paths.shape != (n,):
            raise ValueError(f"a path mask must have shape ({n},), got {tuple(paths.shape)}")
        return paths
    mask = torch.zeros(n, dtype=torch.bool, device=device)
    mask[paths.long()] = True
    return mask


def _pack(paths: list[Path], width: float, height: float, layer_names: Sequence[str] | None,
          device: torch.device, tree: Group | None = None) -> Scene:
    names = list(layer_names or [])
    for p in paths:
        if p.layer not in names:
            names.append(p.layer)
    subpaths = [s for p in paths for s in p.subpaths]
    seg_counts = [len(s.degrees) for s in subpaths]
    pt_counts = [len(s.points) for s in subpaths]
    gradients: list[LinearGradient | RadialGradient] = []

    def paint_fields(paint: Paint | None) -> tuple[list[float], int]:
        if paint is None:
            return [0.0, 0.0, 0.0, 0.0], -1
        if isinstance(paint, Solid):
            return [float(v) for v in paint.rgba], -1
        gradients.append(paint)
        return [float(v) for v in paint.stops.colors[-1]], len(gradients) - 1

    fills = [paint_fields(p.fill) for p in paths]
    strokes = [paint_fields(p.stroke.paint if p.stroke else None) for p in paths]
    f32 = dict(dtype=torch.float32, device=device)
    i64 = dict(dtype=torch.int64, device=device)

    def cat(arrays: list[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
        return np.concatenate(arrays) if arrays else np.zeros(shape, np.float32)

    def offsets(counts: list[int]) -> torch.Tensor:
        return torch.tensor(np.concatenate([[0], np.cumsum(counts, dtype=np.int64)]), **i64)

    groups = number_groups(tree) if tree is not None else []
    if tree is not None:
        _check_tree(tree, len(paths))
    dash_lists = [list(p.stroke.dashes) if p.stroke is not None and p.stroke.dashes else [] for p in paths]
    coords = []
    for g in gradients:
        if isinstance(g, LinearGradient):
            coords.append([*g.start, *g.end, 0.0])
        else:
            focal = g.focal if g.focal is not None else g.center
            coords.append([*g.center, g.radius, *focal])
    return Scene(
        width=width, height=height,
        points=torch.tensor(cat([s.points for s in subpaths], (0, 2)), **f32).reshape(-1, 2),
        segment_degrees=torch.tensor(cat([s.degrees for s in subpaths], (0,)), **i64),
        subpath_segment_offsets=offsets(seg_counts),
        subpath_point_offsets=offsets(pt_counts),
        subpath_closed=torch.tensor([s.closed for s in subpaths], dtype=torch.bool, device=device),
        path_subpath_offsets=offsets([len(p.subpaths) for p in paths]),
        fill_color=torch.tensor([f[0] for f in fills], **f32).reshape(-1, 4),
        stroke_color=torch.tensor([s[0] for s in strokes], **f32).reshape(-1, 4),
        has_fill=torch.tensor([p.fill is not None for p in paths], dtype=torch.bool, device=device),
        has_stroke=torch.tensor([p.stroke is not None for p in paths], dtype=torch.bool, device=device),
        fill_gradient=torch.tensor([f[1] for f in fills], **i64),
        stroke_gradient=torch.tensor([s[1] for s in strokes], **i64),
        stroke_width=torch.tensor([p.stroke.width if p.stroke else 0.0 for p in paths], **f32),
        opacity=torch.tensor([p.opacity for p in paths], **f32),
        evenodd=torch.tensor([p.fill_rule == "evenodd" for p in paths], dtype=torch.bool, device=device),
        line_cap=torch.tensor([CAPS.index(p.stroke.cap) if p.stroke else 0 for p in paths], **i64),
        line_join=torch.tensor([JOINS.index(p.stroke.join) if p.stroke else 0 for p in paths], **i64),
        miter_limit=torch.tensor([p.stroke.miter_limit if p.stroke else 4.0 for p in paths], **f32),
        gradient_kind=torch.tensor([gradient_kind(g) for g in gradients], **i64),
        gradient_coords=torch.tensor(coords, **f32).reshape(-1, 5),
        gradient_transform=torch.tensor([list(g.transform) for g in gradients] or np.zeros((0, 6)), **f32).reshape(-1, 6),
        gradient_spread=torch.tensor([SPREADS.index(g.spread) for g in gradients], **i64),
        gradient_stop_offsets=offsets([len(g.stops.offsets) for g in gradients]),
        stop_offsets=torch.tensor(cat([g.stops.offsets for g in gradients], (0,)), **f32),
        stop_colors=torch.tensor(cat([g.stops.colors for g in gradients], (0, 4)), **f32).reshape(-1, 4),
        path_layer=torch.tensor([names.index(p.layer) for p in paths], **i64),
        path_dash_offsets=offsets([len(d) for d in dash_lists]),
        dash_array=torch.tensor([v for d in dash_lists for v in d], **f32),
        dash_offset=torch.tensor([p.stroke.dash_offset if p.stroke else 0.0 for p in paths], **f32),
        group_opacity=torch.tensor([g.opacity for g in groups], **f32),
        layer_names=names,
        path_ids=[p.id for p in paths],
        tree=tree,
    )


def _check_tree(tree: Group, num_paths: int) -> None:
    """Raise ValueError for path indices out of range or a group or clip path that contains itself."""
    seen: set[int] = set()

    def clip_ok(clip, chain: tuple) -> None:
        while clip is not None:
            if id(clip) in chain:
                raise ValueError("a clip path refers to itself")
            chain += (id(clip),)
            for p in clip.paths:
                if not 0 <= p < num_paths:
                    raise ValueError(f"clip path index {p} out of range for {num_paths} paths")
            for part in clip.parts:
                clip_ok(part, chain)
            clip = clip.clip

    def visit(group: Group) -> None:
        if id(group) in seen:
            raise ValueError("a group appears twice in the tree (or contains itself)")
        seen.add(id(group))
        clip_ok(group.clip, ())
        for child in group.children:
            if isinstance(child, Group):
                visit(child)
            elif isinstance(child, Image):
                if child.texture.dim() != 3 or child.texture.shape[-1] != 4:
                    raise ValueError(f"image texture must be (H, W, 4), got {tuple(child.texture.shape)}")
            elif isinstance(child, Pattern):
                if not 0 <= child.path < num_paths:
                    raise ValueError(f"pattern path index {child.path} out of range for {num_paths} paths")
                visit(child.content)
            elif not 0 <= int(child) < num_paths:
                raise ValueError(f"tree path index {child} out of range for {num_paths} paths")
        if group.mask is not None:
            visit(group.mask.content)

    visit(tree)




