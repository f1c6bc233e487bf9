"""One set of resource limits shared by the CLI, the Python API, batch and serve.

``ResourceLimits`` holds every limit. The limits in force are, from the strongest: those a front end
set for the current work (``with using(limits):`` — the CLI's ``--max-<name>`` flags, a job spec's
``limits``, serve's options), then the environment (``CLIPVG_MAX_<NAME>``, e.g.
``CLIPVG_MAX_MEGAPIXELS=200``), then the defaults; ``resource_limits()`` returns them. Each check
raises the error class the caller names (default ``ResourceLimitError``) with a message naming the
limit, the value seen, and the flag and setting that raise it. Checks run on counts and on an
estimate of bytes, before anything large is allocated. Dependency-free on purpose (imported by the
parsers).
"""
from __future__ import annotations

import contextvars
import os
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from typing import Any, Callable, Iterator, Mapping

from .errors import ClipvgError, ResourceLimitError

GIB = 1 << 30
FLOAT_BYTES = 4
# bytes per point while optimising: x, y as float32 for the value, gradient and Adam's two moments,
# plus the renderer's per-segment work (about 16 floats per segment)
POINT_BYTES = 2 * FLOAT_BYTES * 4 + 16 * FLOAT_BYTES
# Peak bytes per drawn pixel of the torch backend, measured (1 thread, benchmarks/render_memory.py,
# benchmarks/results/render_memory_*.json) on 1000 blobs and on groups with clip, mask, blend, blur and drop
# shadow. A forward+backward render keeps every pixel for backward: 844 and 2872 B/px at 1024 px. A render
# without gradients draws tiles (clipvg.render.bands, planned by clipvg.tiling) of at most about clipvg.tiling.TILE_BYTES, at
# FLAT_PIXEL_BYTES (flat scenes) or TREE_PIXEL_BYTES (groups, filters) per pixel of the tile, and holds the
# float32 RGBA result (OUTPUT_PIXEL_BYTES per output pixel). One tree tile alone peaks at 350-400 B/px, but
# over a render of many tiles the heap grows (glibc's free lists fragment): 4 rows of tiles of the groups
# scene at 8192 px raised the peak by 2090, 1981 and 1717 B/px of a 129 K, 258 K and 516 K px tile (flat:
# 265 B/px of a 1.2 M px band). The larger figures are used, also for a render drawn in one piece. A tall
# thin render (a 0.5 x 5251 px canvas drawn 48 px wide: 48 x 504 115 px, 23-32 s) is refused by render_side.
GRADIENT_PIXEL_BYTES = 2900
FLAT_PIXEL_BYTES = 280
TREE_PIXEL_BYTES = 2100
OUTPUT_PIXEL_BYTES = 4 * FLOAT_BYTES
# one CLIP view (224 x 224 RGB) through ViT-B/32 with gradients: activations kept for backward
CLIP_VIEW_BYTES = 96 << 20
# the largest coordinate (px, after transforms) a shape may have: float32 spacing there is 64 px already,
# and the renderer's flattening squares lengths (overflow past ~1e19)
MAX_COORDINATE = 1e9


def option_name(name: str) -> str:
    """The option for limit ``name`` in flat options, job files and argparse: ``paths`` -> ``max_paths``."""
    return f"max_{name}"


def flag(name: str) -> str:
    """The command-line flag for limit ``name``: ``render_pixels`` -> ``--max-render-pixels``."""
    return "--" + option_name(name).replace("_", "-")


def env_name(name: str) -> str:
    """The environment setting for limit ``name``: ``megapixels`` -> ``CLIPVG_MAX_MEGAPIXELS``."""
    return option_name(name).upper().replace("MAX_", "CLIPVG_MAX_", 1)


def _limit(default: float, help_text: str) -> Any:
    return field(default=default, metadata={"help": help_text})


@dataclass(frozen=True)
class ResourceLimits:
    """Limits that fit a 24 GB machine; each field's ``metadata["help"]`` says its unit (the CLI's
    ``--max-<name>`` help)."""

    megapixels: float = _limit(30.0, "input raster width x height, in millions of pixels")
    render_pixels: int = _limit(8192 * 8192, "render width x height, in pixels")
    render_side: int = _limit(16384, "render width and height each, in pixels (a thin canvas drawn wide is long)")
    paths: int = _limit(50_000, "paths in a scene")
    points_per_path: int = _limit(200_000, "points in one path's data")
    points: int = _limit(2_000_000, "points in all paths")
    group_depth: int = _limit(256, "nesting depth of SVG elements")
    font_cells: int = _limit(256_000, "font size in px x characters of a text")
    text_characters: int = _limit(20_000, "characters of SVG text drawn as outlines in one document, spaces left out")
    outpaint_margin: int = _limit(8192, "pixels outpainting adds on one side")
    upload_bytes: int = _limit(25 << 20, "bytes of one upload to the web editor")
    memory_bytes: int = _limit(16 * GIB, "estimated peak bytes of one job (scene, render buffers, CLIP views)")
    render_memory_bytes: int = _limit(2 * GIB, "estimated peak bytes of a render without gradients (clipvg render, "
                                               "PNG exports, previews; drawn in tiles)")

    def check(self, name: str, value: float, what: str, error: type[ClipvgError] = ResourceLimitError,
              at_least: bool = False) -> None:
        """Raise ``error`` (its ``limit`` attribute set to ``name``) when ``value`` exceeds the limit
        ``name``; ``what`` names the thing measured (the file, element or argument), e.g.
        ``"photo.png: the megapixel count"``; ``at_least``: ``value`` is a lower bound (counting stopped)."""
        limit = getattr(self, name)
        if not value <= limit:  # also refuses NaN
            seen = f"at least {_show(value)}" if at_least else _show(value)
            refused = error(f"{what} is {seen}, over the {name} limit of {_show(limit)}; reduce it, or raise the "
                            f"limit with {flag(name)} N (setting {env_name(name)}=N, job spec limits.{name})")
            refused.limit = name  # which limit: serve answers 413
            raise refused

    def check_job(self, width: float, height: float, points: int, paths: int, views: int, what: str,
                  error: type[ClipvgError] = ResourceLimitError, working: float | None = None,
                  samples: int = 1, crowding: float = 0) -> None:
        """Check a job's render size, paths, points and its estimated peak memory (see ``job_bytes``;
        ``working``: peak bytes a render without gradients draws with, None for one with; ``samples``
        per axis of a supersampled render; ``crowding``: bytes its edges take beyond the pixels,
        ``clipvg.crossings.crowding_bytes``)."""
        self.check("render_pixels", width * height, f"{what}: the render size {width:g}x{height:g} in pixels", error)
        self.check("render_side", max(width, height), f"{what}: the longer side of the render size "
                   f"{width:g}x{height:g} in pixels", error)
        self.check("paths", paths, f"{what}: the path count", error)
        self.check("points", points, f"{what}: the point count", error)
        self.check("memory_bytes", job_bytes(width, height, points, views, working, samples) + crowding,
                   f"{what}: the estimated memory in bytes", error)
        if working is not None:  # a preview or export: its tiles' reach (filters) sets its memory, not the size alone
            self.check("render_memory_bytes", job_bytes(width, height, points, 0, working, samples),
                       f"{what}: the estimated memory in bytes of this render without gradients", error)

    def with_values(self, values: Mapping[str, Any], name_of: Callable[[str], str] = option_name) -> "ResourceLimits":
        """These limits with ``values`` (limit name -> positive number or its text; None keeps the
        limit) put in; ResourceLimitError for a value that is not a positive number, naming it as
        ``name_of(limit name)`` (``flag``, ``env_name``, ...)."""
        changes = {}
        for item in fields(self):
            value = values.get(item.name)
            if value is not None:
                changes[item.name] = _positive(item.type, value, name_of(item.name))
        return replace(self, **changes)


def names() -> tuple[str, ...]:
    """Every limit's name, in declaration order."""
    return tuple(item.name for item in fields(ResourceLimits))


def describe(name: str) -> str:
    """The help text of limit ``name``, with its default."""
    item = next(item for item in fields(ResourceLimits) if item.name == name)
    return f"limit on {item.metadata['help']} (default {_show(item.default)}; {env_name(name)})"


def job_bytes(width: float, height: float, points: int, views: int, working: float | None = None,
              samples: int = 1) -> float:
    """Estimated peak bytes of one job: scene tensors (``points``), the render of a ``width`` x
    ``height`` canvas and a CLIP batch of ``views`` augmented views. The render is drawn at ``samples``
    x the size per axis (clipvg.render.supersample). ``working`` None: it records gradients (every
    pixel kept for backward); else it draws with ``working`` bytes at once without gradients (one
    tile, ``clipvg.tiling.working_bytes``) into a float32 RGBA result of the output size."""
    if working is None:
        render = width * samples * height * samples * GRADIENT_PIXEL_BYTES
    else:
        render = working + width * height * OUTPUT_PIXEL_BYTES
    return points * POINT_BYTES + render + views * CLIP_VIEW_BYTES


_ACTIVE: contextvars.ContextVar[ResourceLimits | None] = contextvars.ContextVar("clipvg_limits", default=None)


@contextmanager
def using(limits: ResourceLimits) -> Iterator[ResourceLimits]:
    """Make ``limits`` the ones ``resource_limits()`` returns inside the ``with`` block (this thread
    or task and what it starts with a copied context)."""
    token = _ACTIVE.set(limits)
    try:
        yield limits
    finally:
        _ACTIVE.reset(token)


@contextmanager
def exported(limits: ResourceLimits) -> Iterator[ResourceLimits]:
    """``limits`` as the ``CLIPVG_MAX_<NAME>`` environment inside the ``with`` block (processes started
    there inherit them, e.g. serve's workers); the environment is restored after."""
    saved = {env_name(name): os.environ.get(env_name(name)) for name in names()}
    os.environ.update({env_name(name): str(getattr(limits, name)) for name in names()})
    try:
        yield limits
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def resource_limits(environ: Mapping[str, str] | None = None) -> ResourceLimits:
    """The limits in force: those of the enclosing ``using`` block, else the defaults overridden by
    ``CLIPVG_MAX_<NAME>`` settings in ``environ`` (default os.environ; given explicitly, ``using``
    is ignored); raises ResourceLimitError for a setting that is not a positive number."""
    active = _ACTIVE.get()
    if environ is None and active is not None:
        return active
    environ = os.environ if environ is None else environ
    return ResourceLimits().with_values({name: environ.get(env_name(name)) for name in names()}, env_name)


def _positive(kind: str, value: Any, what: str) -> float | int:
    """``value`` (a number or its text) as a positive float, or a whole number of at least 1 when
    ``kind`` is "int"."""
    try:
        number = float(value) if not isinstance(value, bool) else float("nan")
    except (TypeError, ValueError):
        number = float("nan")
    if kind == "float" and number > 0:
        return number
    if kind == "int" and number >= 1:
        return int(min(number, 1 << 62))
    raise ResourceLimitError(f"{what}={value!r} is not a positive {'number' if kind == 'float' else 'whole number'}")


def _show(value: float) -> str:
    return f"{value:,.0f}" if value == value and abs(value) < 1e18 and value == int(value) else f"{value:g}"
