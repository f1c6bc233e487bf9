"""Scene model: packed tensors for the renderer and optimizer, per-path views for users."""
from .paint import (CAPS, JOINS, SPREADS, GradientStops, LinearGradient, Paint, RadialGradient, Solid,
                    Stroke)
from .path import Path, Subpath
from .scene import Scene, concat
from .tree import ClipPath, Filter, FilterPrimitive, Group, Mask

__all__ = ["ClipPath", "Filter", "FilterPrimitive", "Group", "Mask", "CAPS", "JOINS", "SPREADS", "GradientStops", "LinearGradient", "Paint", "Path",
           "RadialGradient", "Scene", "Solid", "Stroke", "Subpath", "concat"]
