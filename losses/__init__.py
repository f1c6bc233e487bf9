"""CLIP losses for CLIPVG: model loading, the directional loss and the batched ROI CLIP loss.

Images in, scalars out; this package knows nothing of vector paths.

    clip = load_clip("ViT-B-32", "openai")          # or load_clip(*shapes_clip_paths()) offline
    loss_fn = ROIClipLoss(clip, [ROI("a watercolor painting")], source_image)   # (H, W, 3) in [0, 1]
    loss = loss_fn(image)                               # differentiable scalar
"""

from typing import TYPE_CHECKING

from clipvg.lazy import lazy_attributes

if TYPE_CHECKING:  # what the names are, for type checkers and the API reference
    from losses.clip_model import ClipModel, cache_bytes, clear_cache, load_clip, set_cache_limit
    from losses.directional import DirectionalClipLoss
    from losses.errors import LossInputError, WeightsUnavailableError
    from losses.roi import ROI, ROIClipLoss
    from losses.shapes import shapes_clip_paths
    from losses.templates import IMAGENET_TEMPLATES

__all__ = [
    "IMAGENET_TEMPLATES", "ROI", "ClipModel", "DirectionalClipLoss", "LossInputError", "ROIClipLoss",
    "WeightsUnavailableError", "cache_bytes", "clear_cache", "load_clip", "set_cache_limit", "shapes_clip_paths",
]
# Names load on first use, so ``import losses.precision`` or ``losses.errors`` does not import open_clip and
# torchvision (seconds) before a command line has even checked its arguments.
__getattr__ = lazy_attributes(__name__, {
    "ClipModel": ".clip_model", "cache_bytes": ".clip_model", "clear_cache": ".clip_model", "load_clip": ".clip_model",
    "set_cache_limit": ".clip_model", "DirectionalClipLoss": ".directional", "LossInputError": ".errors",
    "WeightsUnavailableError": ".errors", "ROI": ".roi", "ROIClipLoss": ".roi", "shapes_clip_paths": ".shapes",
    "IMAGENET_TEMPLATES": ".templates"}, globals())
