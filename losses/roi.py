"""CLIPVG's ROI CLIP loss: per region, w_roi * L(whole view) + w_patch * mean L(patches), batched."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from losses.augment import Box, ViewParams, Views, reference_views, sample_roi_views
from losses.clip_model import ClipModel, check_prompt
from losses.directional import DirectionalClipLoss
from losses.errors import LossInputError
from losses.warp import render_views


@dataclass(frozen=True)
class ROI:
    """A region of interest and its prompt.

    box: (x, y, w, h) canvas pixels, or None for the whole canvas. Defaults follow CLIPVG: whole-view
    weight `w_roi` 30, patch weight `w_patch` 80, 64 patches of side `crop_ratio` (0.8) x the box's
    longer side, random `perspective` 0.3 and horizontal flips with `flip_prob` 0.3 (official code);
    the whole view is cropped to `view_crop` (98 %) of its white-padded square.
    """

    prompt: str
    box: tuple[int, int, int, int] | None = None
    source_prompt: str = "A photo"
    w_roi: float = 30.0
    w_patch: float = 80.0
    num_patches: int = 64
    crop_ratio: float = 0.8
    perspective: float = 0.3
    flip_prob: float = 0.3
    view_crop: float = 0.98

    def __post_init__(self) -> None:
        check_prompt(self.prompt)
        check_prompt(self.source_prompt)
        if self.prompt.strip() == self.source_prompt.strip():
            raise LossInputError(f"ROI prompt {self.prompt!r} equals its source prompt; give the target text")
        for name in ("w_roi", "w_patch"):
            if not getattr(self, name) >= 0:
                raise LossInputError(f"ROI {name} must be >= 0, got {getattr(self, name)!r}")
        if isinstance(self.num_patches, bool) or not isinstance(self.num_patches, numbers.Integral) \
                or self.num_patches < 0:
            raise LossInputError(f"ROI num_patches must be an integer >= 0, got {self.num_patches!r}")
        for name, low, high in (("crop_ratio", 0, 1), ("view_crop", 0, 1)):
            if not low < getattr(self, name) <= high:
                raise LossInputError(f"ROI {name} must be in ({low}, {high}], got {getattr(self, name)!r}")
        for name in ("perspective", "flip_prob"):
            if not 0 <= getattr(self, name) <= 1:
                raise LossInputError(f"ROI {name} must be in [0, 1], got {getattr(self, name)!r}")
        if self.w_roi == 0 and (self.w_patch == 0 or self.num_patches == 0):
            raise LossInputError(f"ROI {self.prompt!r} has no weighted view: set w_roi > 0 or w_patch > 0 "
                                 "with num_patches > 0")

    def resolve_box(self, width: int, height: int) -> Box:
        """The box on a `width` x `height` canvas; raises `LossInputError` unless it lies inside it."""
        if self.box is None:
            return (0, 0, width, height)
        if len(self.box) != 4 or not all(isinstance(v, numbers.Integral) for v in self.box):
            raise LossInputError(f"ROI box must be 4 integers (x, y, w, h) in pixels, got {self.box!r}")
        x, y, w, h = (int(v) for v in self.box)
        if w <= 0 or h <= 0:
            raise LossInputError(f"ROI box {self.box} has zero size; width and height must be > 0 pixels")
        if x < 0 or y < 0 or x + w > width or y + h > height:
            raise LossInputError(f"ROI box {self.box} (x, y, w, h) is not inside the {width}x{height} canvas; "
                                 f"keep 0 <= x, x + w <= {width}, 0 <= y, y + h <= {height}")
        return (x, y, w, h)

    def view_params(self) -> ViewParams:
        """The augmentation settings of this ROI's views (views with zero weight are not drawn)."""
        return ViewParams(num_patches=self.num_patches if self.w_patch > 0 else 0, crop_ratio=self.crop_ratio,
                          perspective=self.perspective, flip_prob=self.flip_prob, view_crop=self.view_crop,
                          whole_view=self.w_roi > 0)


def check_image(image: torch.Tensor, size: tuple[int, int] | None = None) -> None:
    """Raise `LossInputError` unless `image` is a float `(H, W, 3)` tensor (of `size` (H, W) if given)."""
    if not isinstance(image, torch.Tensor) or image.ndim != 3 or image.shape[-1] != 3 \
            or not image.is_floating_point():
        shape = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise LossInputError(f"expected a float image tensor of shape (H, W, 3) in [0, 1], got {shape}; "
                             "composite RGBA renders onto white first")
    if size is not None and tuple(image.shape[:2]) != tuple(size):
        raise LossInputError(f"image is {tuple(image.shape[:2])} (H, W) but the source image was {tuple(size)}")


class ROIClipLoss:
    """CLIPVG's loss over several ROIs, with all views of all ROIs in one CLIP forward.

    Per ROI: `w_roi * L(whole view) + w_patch * mean L(patches)`, L the directional loss against the
    ROI's reference embedding E_I(x0): as in the official code, that is the embedding of the *source*
    image's whole-ROI view (white-padded square, uncropped), computed once and shared by the whole view
    and every patch of the ROI. Views are redrawn on every call from `generator` (default: seeded 0).
    After each call, `last_terms` holds floats for logging: "roi<i>" (the ROI's weighted total),
    "roi<i>/view" (L of the whole view) and "roi<i>/patches" (mean L of the patches), where drawn.
    """

    def __init__(self, clip: ClipModel, rois: Sequence[ROI], source_image: torch.Tensor,
                 generator: torch.Generator | None = None, view_device: str | torch.device | None = None) -> None:
        """rois: at least one ROI; source_image: `(H, W, 3)` in [0, 1], the initial render x0;
        view_device: where views are resampled from the image (default: CLIP's device; "cpu" makes the
        resampling's gradient bit-reproducible on CUDA, whose bicubic `grid_sample` backward adds in
        a varying order)."""
        check_image(source_image)
        if not rois:
            raise LossInputError("no ROI given; pass at least ROI(prompt) for the whole canvas")
        if not all(isinstance(roi, ROI) for roi in rois):
            raise LossInputError("rois must be losses.ROI instances")
        self.clip = clip
        self.rois = tuple(rois)
        self.size = tuple(source_image.shape[:2])
        self.boxes = [roi.resolve_box(self.size[1], self.size[0]) for roi in self.rois]
        self.generator = generator if generator is not None else torch.Generator().manual_seed(0)
        self.view_device = torch.device(view_device) if view_device is not None else clip.device
        self.directional = DirectionalClipLoss(torch.stack([
            DirectionalClipLoss.from_prompts(clip, roi.prompt, roi.source_prompt).text_direction
            for roi in self.rois
        ]))
        with torch.no_grad():
            source = source_image.detach().to(clip.device, torch.float32).permute(2, 0, 1)
            self.references = clip.encode_image(render_views(source, self.boxes, reference_views(self.boxes),
                                                             clip.image_size))  # (R, D)
        self._last: tuple[torch.Tensor, torch.Tensor, Views] | None = None

    @property
    def last_terms(self) -> dict[str, float]:
        """The last call's terms as floats (see the class docstring); {} before the first call. Read
        lazily: the loss loop itself never waits for the device to hand values to the host."""
        if self._last is None:
            return {}
        losses, weights, views = self._last
        return self._terms(losses.cpu(), weights.cpu(), views)

    def sample_views(self) -> Views:
        """Draw this step's views of every ROI (whole views and patches), in ROI order."""
        return Views.cat([sample_roi_views(box, i, roi.view_params(), self.generator)
                          for i, (roi, box) in enumerate(zip(self.rois, self.boxes))])

    def view_weights(self, views: Views) -> torch.Tensor:
        """`(V,)` weight of each view's loss in the total: w_roi, or w_patch / num_patches for patches."""
        w_roi = torch.tensor([roi.w_roi for roi in self.rois])
        w_patch = torch.tensor([roi.w_patch / max(roi.num_patches, 1) for roi in self.rois])
        return torch.where(views.is_patch, w_patch[views.roi_index], w_roi[views.roi_index])

    def view_losses(self, embeddings: torch.Tensor, views: Views) -> torch.Tensor:
        """Directional loss `(V,)` of each view's embedding `(V, D)` against its ROI's reference."""
        roi = views.roi_index.to(embeddings.device)
        return self.directional(embeddings, self.references[roi], roi)

    def total(self, losses: torch.Tensor, views: Views) -> torch.Tensor:
        """Weighted sum of per-view losses `(V,)` -> scalar; records `last_terms`."""
        weights = self.view_weights(views).to(losses.device)
        self._last = (losses.detach(), weights, views)
        return (weights * losses).sum()

    def _terms(self, losses: torch.Tensor, weights: torch.Tensor, views: Views) -> dict[str, float]:
        """{"roi<i>": weighted total, "roi<i>/view": L(whole view), "roi<i>/patches": mean L(patches)}."""
        terms: dict[str, float] = {}
        weighted = weights * losses
        for i in range(len(self.rois)):
            mine = views.roi_index == i
            terms[f"roi{i}"] = weighted[mine].sum().item()
            for name, kind in (("view", ~views.is_patch), ("patches", views.is_patch)):
                if (mine & kind).any():
                    terms[f"roi{i}/{name}"] = losses[mine & kind].mean().item()
        return terms

    def loss_from_views(self, image: torch.Tensor, views: Views) -> torch.Tensor:
        """The loss of `image (H, W, 3)` in [0, 1] on the given views -> scalar, differentiable."""
        check_image(image, self.size)
        pixels = image.to(self.view_device).permute(2, 0, 1)
        rendered = render_views(pixels, self.boxes, views, self.clip.image_size).to(self.clip.device)
        embeddings = self.clip.encode_image(rendered)
        return self.total(self.view_losses(embeddings, views), views)

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        """The loss of `image (H, W, 3)` in [0, 1] on freshly drawn views -> scalar, differentiable."""
        return self.loss_from_views(image, self.sample_views())
