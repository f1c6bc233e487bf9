"""One set of resource limits shared by the CLI, the Python API, batch and serve.

``ResourceLimits`` holds every limit; ``resource_limits()`` reads the defaults overridden by the
environment (``CLIPVG_MAX_<NAME>``, e.g. ``CLIPVG_MAX_MEGAPIXELS=200``). Each check raises the error
class the caller names (default ``ResourceLimitError``) with a message naming the limit, the value
seen and the setting that raises it. Checks run on counts and on an estimate of bytes, before
anything large is allocated. Dependency-free on purpose (imported by the parsers).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace

from .errors import ClipvgError, ResourceLimitError

GIB = 1 << 30
FLOAT_BYTES = 4
# bytes per point while optimising: x, y as float32 for the value, gradient and Adam's two moments,
# plus the renderer's per-segment work (about 16 floats per segment)
POINT_BYTES = 2 * FLOAT_BYTES * 4 + 16 * FLOAT_BYTES
# float32 RGBA pixels kept for the backward pass of one render (coverage, composite, blends)
RENDER_BUFFERS = 24
# one CLIP view (224 x 224 RGB) through ViT-B/32 with gradients: activations kept for backward
CLIP_VIEW_BYTES = 96 << 20


@dataclass(frozen=True)
class ResourceLimits:
    """Limits that fit a 24 GB machine. Units: ``megapixels`` (input raster width x height / 1e6),
    ``render_pixels`` (render width x height), ``paths``, ``points_per_path``, ``points`` (in all),
    ``group_depth`` (nested elements), ``font_cells`` (font size in px x characters), ``outpaint_margin``
    (px added on one side), ``upload_bytes``, ``memory_bytes`` (estimated peak of one job)."""

    megapixels: float = 30.0
    render_pixels: int = 8192 * 8192
    paths: int = 50_000
    points_per_path: int = 200_000
    points: int = 2_000_000
    group_depth: int = 256
    font_cells: int = 256_000
    outpaint_margin: int = 8192
    upload_bytes: int = 25 << 20
    memory_bytes: int = 16 * GIB

    def check(self, name: str, value: float, what: str, error: type[ClipvgError] = ResourceLimitError) -> None:
        """Raise ``error`` (its ``limit`` attribute set to ``name``) when ``value`` exceeds the limit
        ``name``; ``what`` names the thing measured (the file, element or argument), e.g.
        ``"photo.png: the megapixel count"``."""
        limit = getattr(self, name)
        if not value <= limit:  # also refuses NaN
            refused = error(f"{what} is {_show(value)}, over the {name} limit of {_show(limit)}; reduce it, or raise "
                            f"the limit with the environment setting {env_name(name)}=N (or ResourceLimits({name}=N))")
            refused.limit = name  # which limit: serve answers 413
            raise refused

    def check_job(self, width: float, height: float, points: int, paths: int, views: int, what: str,
                  error: type[ClipvgError] = ResourceLimitError) -> None:
        """Check a job's render size, paths, points and its estimated peak memory (see ``job_bytes``)."""
        self.check("render_pixels", width * height, f"{what}: the render size {width:g}x{height:g} in pixels", error)
        self.check("paths", paths, f"{what}: the path count", error)
        self.check("points", points, f"{what}: the point count", error)
        self.check("memory_bytes", job_bytes(width, height, points, views),
                   f"{what}: the estimated memory in bytes", error)


def job_bytes(width: float, height: float, points: int, views: int) -> float:
    """Estimated peak bytes of one edit: scene tensors (``points``), render buffers of a
    ``width`` x ``height`` canvas, and a CLIP batch of ``views`` augmented views."""
    return points * POINT_BYTES + width * height * 4 * FLOAT_BYTES * RENDER_BUFFERS + views * CLIP_VIEW_BYTES


def env_name(name: str) -> str:
    """The environment setting for limit ``name``: ``megapixels`` -> ``CLIPVG_MAX_MEGAPIXELS``."""
    return f"CLIPVG_MAX_{name.upper()}"


def resource_limits(environ: dict[str, str] | None = None) -> ResourceLimits:
    """The default limits overridden by ``CLIPVG_MAX_<NAME>`` settings in ``environ`` (default os.environ);
    raises ResourceLimitError for a setting that is not a positive number."""
    environ = os.environ if environ is None else environ
    changes = {}
    for item in fields(ResourceLimits):
        text = environ.get(env_name(item.name))
        if text is None:
            continue
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not value > 0:
            raise ResourceLimitError(f"{env_name(item.name)}={text!r} is not a positive number")
        changes[item.name] = value if item.type == "float" else int(min(value, 1 << 62))
    return replace(ResourceLimits(), **changes)


def _show(value: float) -> str:
    return f"{value:,.0f}" if value == value and abs(value) < 1e18 and value == int(value) else f"{value:g}"
