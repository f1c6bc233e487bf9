"""Random views of regions of interest, as sampling geometry: CLIPVG's crops, perspective and flips.

A view maps its output square, in normalised coordinates u in [-1, 1]^2 (x right, y down), through
`to_patch` (a homography: flip, then inverse perspective) to patch coordinates q, and `q` through the
affine `patch_to_canvas` to canvas pixels (origin top-left, pixel i spans [i, i + 1]). Output pixels
whose q falls outside [-1, 1]^2 are white, like torchvision's RandomPerspective fill; canvas points
outside the view's ROI box are white too (the ROI is cut out and padded with white).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import torch

Box = tuple[int, int, int, int]  # (x, y, w, h) in canvas pixels


@dataclass(frozen=True)
class ViewParams:
    """Per-ROI augmentation settings (see `losses.ROI`)."""

    num_patches: int
    crop_ratio: float
    perspective: float
    flip_prob: float
    view_crop: float
    whole_view: bool


@dataclass(frozen=True)
class Views:
    """A batch of V views: geometry only, no pixels.

    roi_index: `(V,)` int64, the ROI each view belongs to; is_patch: `(V,)` bool (False: whole-ROI view);
    to_patch: `(V, 3, 3)` float32 homography u -> q; patch_to_canvas: `(V, 2, 3)` float32 affine q -> pixels.
    """

    roi_index: torch.Tensor
    is_patch: torch.Tensor
    to_patch: torch.Tensor
    patch_to_canvas: torch.Tensor

    def __len__(self) -> int:
        return self.roi_index.shape[0]

    def _map(self, fn) -> Views:
        return Views(*(fn(getattr(self, f.name)) for f in fields(self)))

    def to(self, device: torch.device) -> Views:
        """The same views with their tensors on `device`."""
        return self._map(lambda t: t.to(device))

    def select(self, index: torch.Tensor) -> Views:
        """The views at `index` (bool mask or int64 indices)."""
        return self._map(lambda t: t[index])

    @staticmethod
    def cat(parts: Sequence[Views]) -> Views:
        """Concatenate view batches in order."""
        return Views(*(torch.cat([getattr(p, f.name) for p in parts]) for f in fields(Views)))


def homography(src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
    """Solve the `(N, 3, 3)` homographies (h33 = 1) mapping 4 points `src (N, 4, 2)` onto `dst (N, 4, 2)`."""
    x, y = src.double().unbind(-1)
    X, Y = dst.double().unbind(-1)
    one, zero = torch.ones_like(x), torch.zeros_like(x)
    rows_x = torch.stack([x, y, one, zero, zero, zero, -X * x, -X * y], dim=-1)
    rows_y = torch.stack([zero, zero, zero, x, y, one, -Y * x, -Y * y], dim=-1)
    a = torch.cat([rows_x, rows_y], dim=1)  # (N, 8, 8)
    h = torch.linalg.solve(a, torch.cat([X, Y], dim=1))
    return torch.cat([h, torch.ones_like(h[:, :1])], dim=1).view(-1, 3, 3).float()


_CORNERS = torch.tensor([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])


def perspective_to_patch(n: int, distortion: float, flip_prob: float, generator: torch.Generator) -> torch.Tensor:
    """Random output->patch homographies `(n, 3, 3)` for torchvision-style RandomPerspective + flip.

    Each patch corner moves inwards by U[0, distortion] of the half side (normalised units) along x and y,
    as in `torchvision.transforms.RandomPerspective(distortion_scale=distortion)`; the result is then
    flipped horizontally with probability `flip_prob`.
    """
    inward = torch.rand(n, 4, 2, generator=generator) * distortion
    moved = _CORNERS - _CORNERS.sign() * inward  # where the patch corners land in the output
    to_patch = homography(moved, _CORNERS.expand(n, 4, 2))
    flip = torch.ones(n, 3)
    flip[:, 0] = torch.where(torch.rand(n, generator=generator) < flip_prob, -1.0, 1.0)
    return to_patch @ torch.diag_embed(flip)


def square_to_canvas(left: torch.Tensor, top: torch.Tensor, side: torch.Tensor | float) -> torch.Tensor:
    """Affines `(n, 2, 3)` mapping q in [-1, 1]^2 onto the canvas squares [left, left+side] x [top, top+side]."""
    half = torch.as_tensor(side, dtype=torch.float32).expand_as(left) / 2
    zero = torch.zeros_like(left)
    return torch.stack([torch.stack([half, zero, left + half], -1), torch.stack([zero, half, top + half], -1)], 1)


def _uniform(n: int, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=generator)


def sample_roi_views(box: Box, roi_index: int, params: ViewParams, generator: torch.Generator) -> Views:
    """Draw one ROI's views: the whole-ROI view (if enabled) then `num_patches` patches.

    Whole view: the box padded with white to a square of side max(w, h), centred, then a random crop of
    `view_crop` of that side. Patch: a random square of side `crop_ratio * max(w, h)` placed like
    `RandomCrop(pad_if_needed=True, fill=white)` on the box, then random perspective and flip.
    """
    x, y, w, h = box
    side = float(max(w, h))
    parts = []
    if params.whole_view:
        crop = params.view_crop * side
        left = _uniform(1, x + (w - side) / 2, x + (w - side) / 2 + side - crop, generator)
        top = _uniform(1, y + (h - side) / 2, y + (h - side) / 2 + side - crop, generator)
        parts.append(Views(torch.tensor([roi_index]), torch.tensor([False]), torch.eye(3).unsqueeze(0),
                           square_to_canvas(left, top, crop)))
    n = params.num_patches
    if n:
        s = params.crop_ratio * side
        left = x + _uniform(n, min(0.0, w - s), max(0.0, w - s), generator)
        top = y + _uniform(n, min(0.0, h - s), max(0.0, h - s), generator)
        to_patch = perspective_to_patch(n, params.perspective, params.flip_prob, generator)
        parts.append(Views(torch.full((n,), roi_index), torch.ones(n, dtype=torch.bool), to_patch,
                           square_to_canvas(left, top, s)))
    return Views.cat(parts)


def reference_views(boxes: Sequence[Box]) -> Views:
    """The deterministic whole-ROI view of each box: its white-padded square, uncropped."""
    left = torch.tensor([x + (w - max(w, h)) / 2 for x, _, w, h in boxes], dtype=torch.float32)
    top = torch.tensor([y + (h - max(w, h)) / 2 for _, y, w, h in boxes], dtype=torch.float32)
    side = torch.tensor([float(max(w, h)) for *_, w, h in boxes])
    n = len(boxes)
    return Views(torch.arange(n), torch.zeros(n, dtype=torch.bool), torch.eye(3).expand(n, 3, 3),
                 square_to_canvas(left, top, side))


def view_coordinates(views: Views, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Canvas pixel coordinates `(V, size, size, 2)` (x, y) sampled by each output pixel centre, and
    `(V, size, size)` bool: True where the pixel lies inside its patch (else it is white fill).
    Computed on the views' device."""
    u = (torch.arange(size, dtype=torch.float32, device=views.to_patch.device) * 2 + 1) / size - 1
    gy, gx = torch.meshgrid(u, u, indexing="ij")
    out = torch.stack([gx, gy, torch.ones_like(gx)], -1).view(1, -1, 3)  # (1, S*S, 3)
    q = out @ views.to_patch.transpose(1, 2)  # (V, S*S, 3)
    q = q[..., :2] / q[..., 2:]
    inside = (q.abs() <= 1).all(-1)
    xy = torch.cat([q, torch.ones_like(q[..., :1])], -1) @ views.patch_to_canvas.transpose(1, 2)
    return xy.view(-1, size, size, 2), inside.view(-1, size, size)
