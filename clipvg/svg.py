"""SVG reading (svgelements) and writing (svgwrite). Placeholder until the SVG I/O lands."""
from __future__ import annotations


def load_svg(path):  # pragma: no cover - replaced by the SVG I/O implementation
    raise NotImplementedError


def save_svg(scene, path):  # pragma: no cover - replaced by the SVG I/O implementation
    raise NotImplementedError
