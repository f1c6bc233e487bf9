"""Differentiable rendering of a Scene to an (H, W, 4) straight-RGBA float image.

The package is callable: ``clipvg.render(scene, ...)`` is ``clipvg.render.render(scene, ...)``.
"""
from ..callable_module import make_callable
from .api import WHITE, render, render_on_white

__all__ = ["WHITE", "render", "render_on_white"]


make_callable(__name__, "render")
