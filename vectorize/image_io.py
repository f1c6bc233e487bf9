"""Load any raster the user hands us as one (H, W, 4) float32 straight-RGBA array in [0, 1]."""
from __future__ import annotations

import os
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

from clipvg.limits import resource_limits

from .errors import ImageInputError, ResizeWarning


def load_image(source: str | os.PathLike | Image.Image | np.ndarray, copy: bool = True) -> np.ndarray:
    """Return ``source`` as an (H, W, 4) float32 straight-RGBA array in [0, 1].

    ``copy`` False: an array that already is one (float32, C-contiguous) is returned as itself (for
    callers that only read it), else a new array as always.

    ``source`` may be a file path (any format Pillow reads, 16-bit PNGs included), a PIL image
    (any mode) or a numpy array: (H, W) gray, (H, W, 1|2|3|4) gray/gray+alpha/RGB/RGBA, of dtype
    uint8, uint16 (full 16-bit range), bool, or float in [0, 1]. Raises ImageInputError for missing,
    corrupt, empty or zero-size input, or one over the megapixels limit (``clipvg.limits``).
    """
    if isinstance(source, (str, os.PathLike)):
        return _from_pil(_open(source))
    if isinstance(source, Image.Image):
        check_megapixels(source.width, source.height, "the PIL image")
        return _from_pil(source)
    if isinstance(source, np.ndarray):
        if source.ndim >= 2:
            check_megapixels(source.shape[1], source.shape[0], "the array")
        return _from_array(source, copy)
    raise ImageInputError(
        f"cannot read an image from a {type(source).__name__}; pass a file path, a PIL image or a numpy array")


def resize_long_side(image: np.ndarray, max_size: int | None) -> np.ndarray:
    """Downscale ``image`` (H, W, 4) so its long side is at most ``max_size`` pixels (None: never).

    Uses Pillow's Lanczos filter on premultiplied colour, so transparent pixels do not bleed
    colour into their neighbours. Emits a ResizeWarning when it resizes.
    """
    height, width = image.shape[:2]
    if max_size is None or max(height, width) <= max_size:
        return image
    if max_size < 1:
        raise ImageInputError(f"max_size must be a positive number of pixels, got {max_size}")
    scale = max_size / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    warnings.warn(f"image resized from {width}x{height} to {size[0]}x{size[1]} (max_size={max_size}); "
                  "the scene uses the resized pixel coordinates", ResizeWarning, stacklevel=3)
    premultiplied = premultiply(image)
    channels = [np.asarray(Image.fromarray(premultiplied[..., c]).resize(size, Image.Resampling.LANCZOS))
                for c in range(4)]
    return unpremultiply(np.stack(channels, axis=-1)).astype(np.float32)


def premultiply(rgba: np.ndarray) -> np.ndarray:
    """(..., 4) straight RGBA -> premultiplied RGBA."""
    return np.concatenate([rgba[..., :3] * rgba[..., 3:], rgba[..., 3:]], axis=-1)


def unpremultiply(rgba: np.ndarray) -> np.ndarray:
    """(..., 4) premultiplied RGBA -> straight RGBA clipped to [0, 1]; colour 0 where alpha is 0."""
    rgba = np.clip(rgba, 0.0, 1.0)
    alpha = rgba[..., 3:]
    rgb = np.where(alpha > 0, rgba[..., :3] / np.maximum(alpha, 1e-12), 0.0)
    return np.concatenate([np.clip(rgb, 0.0, 1.0), alpha], axis=-1)


def _open(path: str | os.PathLike) -> Image.Image:
    """The decoded image at ``path``; its size is checked against the megapixels limit (from the
    header) before its pixels are decoded."""
    try:
        with Image.open(path) as image:
            check_megapixels(image.width, image.height, os.fspath(path))
            image.load()
            return image.copy()
    except FileNotFoundError:
        raise ImageInputError(f"image file {os.fspath(path)!r} does not exist") from None
    except Image.DecompressionBombError as error:  # over Pillow's own limit: its size is in the message
        refused = ImageInputError(f"image {os.fspath(path)!r} is too large ({error}); it exceeds the megapixels "
                                  f"limit of {resource_limits().megapixels:g}; downscale it")
        refused.limit = "megapixels"
        raise refused from None
    except IsADirectoryError:
        raise ImageInputError(f"{os.fspath(path)!r} is a directory, not an image file") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ImageInputError(f"cannot read image {os.fspath(path)!r} ({error}); is it a valid PNG/JPEG file?") from None


def check_megapixels(width: float, height: float, name: str) -> None:
    """ImageInputError naming the megapixels limit when a ``width`` x ``height`` px raster is too large."""
    resource_limits().check("megapixels", width * height / 1e6, f"image {name!r}: the size {width:g}x{height:g} "
                            "in megapixels", ImageInputError)


def _from_pil(image: Image.Image) -> np.ndarray:
    if image.width == 0 or image.height == 0:
        raise ImageInputError(f"image has zero size ({image.width}x{image.height})")
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return _from_array(np.asarray(image).astype(np.uint16))
    if image.mode in ("I", "F"):
        array = np.asarray(image)
        if image.mode == "I":  # 16-bit PNGs open as 32-bit integers holding 0..65535
            return _from_array(np.clip(array, 0, 65535).astype(np.uint16))
        return _from_array(array.astype(np.float32))
    if image.mode not in ("L", "LA", "RGB", "RGBA"):
        image = image.convert("RGBA")
    return _from_array(np.asarray(image))


def _from_array(array: np.ndarray, copy: bool = True) -> np.ndarray:
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[-1] not in (1, 2, 3, 4):
        raise ImageInputError(
            f"image array must have shape (H, W), (H, W, 1|2|3|4), got {tuple(array.shape)}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ImageInputError(f"image has zero size ({array.shape[1]}x{array.shape[0]})")
    values = _to_unit_float(array, copy)
    channels = values.shape[-1]
    if channels in (1, 2):
        values = np.concatenate([np.repeat(values[..., :1], 3, axis=-1), values[..., 1:]], axis=-1)
    if values.shape[-1] == 3:
        values = np.concatenate([values, np.ones_like(values[..., :1])], axis=-1)
    return np.ascontiguousarray(values, dtype=np.float32)


def _to_unit_float(array: np.ndarray, copy: bool = True) -> np.ndarray:
    if array.dtype == np.bool_:
        return array.astype(np.float32)
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    if array.dtype == np.uint16:
        return array.astype(np.float32) / 65535.0
    if np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)):
            raise ImageInputError("image array contains NaN or infinite values")
        if array.min() < 0.0 or array.max() > 1.0:
            raise ImageInputError(
                f"float image values must lie in [0, 1], got [{array.min():.3g}, {array.max():.3g}]; "
                "divide by 255 (8-bit) or 65535 (16-bit) first")
        return array.astype(np.float32, copy=copy)
    raise ImageInputError(f"unsupported image dtype {array.dtype}; use uint8, uint16, bool or float in [0, 1]")
