"""Differentiable rendering of a Scene to an (H, W, 4) straight-RGBA float image."""
from .api import render

__all__ = ["render"]
