"""Errors the vectorizer raises on bad input, and its resize note."""
from __future__ import annotations

from clipvg.errors import InvalidInputError


class ImageInputError(InvalidInputError):
    """An image cannot be used: missing, corrupt, empty, zero-size or of an unsupported layout."""


class ResizeWarning(UserWarning):
    """The input was larger than ``max_size`` and was downscaled before tracing."""
