"""vectorize: any raster photo to a layered, crack-free, editable Scene (CLIPVG's multi-round trace).

Public API: ``vectorize`` (a Scene), ``vectorize_paths`` (numpy paths, no torch: ``Vectorized``),
``Region``, ``load_image``, ``psnr``, ``ImageInputError``, ``ResizeWarning``.
"""
from .api import Region, vectorize, vectorize_paths
from .errors import ImageInputError, ResizeWarning
from .image_io import load_image
from .metrics import psnr

__all__ = ["ImageInputError", "Region", "ResizeWarning", "load_image", "psnr", "vectorize", "vectorize_paths"]
