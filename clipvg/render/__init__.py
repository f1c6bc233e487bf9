"""Differentiable rendering of a Scene to an (H, W, 4) straight-RGBA float image."""
from .api import WHITE, render, render_on_white

__all__ = ["WHITE", "render", "render_on_white"]
