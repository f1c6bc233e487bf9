"""Laying out chunks: text-anchor, dx/dy/rotate per character, baselines, vertical writing, text
on a path; the result is, per span, each glyph's map from font units to the text's user space and
the decoration lines (SVG 2 text layout as Chrome and resvg implement it)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from . import affine
from .baselines import baseline
from .clusters import Cluster, apply_length_adjust, apply_spacing, apply_vertical, make_clusters
from .faces import Face
from .positions import Positions
from .spans import DECORATIONS, Chunk, Span
from .textpath import GuidePath


@dataclass
class PlacedSpan:
    """What one span draws: glyphs as (face, glyph id, (3, 3) font-units-to-user map) and
    decoration rectangles as (4, 2) corner arrays per kind."""

    span: Span
    glyphs: list[tuple[Face, int, np.ndarray]] = field(default_factory=list)
    decorations: dict[str, list[np.ndarray]] = field(default_factory=dict)


def _anchor(anchor: str, width: float) -> float:
    return {"middle": -width / 2, "end": -width}.get(anchor, 0.0)


def _horizontal(chunk: Chunk, clusters: list[Cluster], positions: Positions, vertical: bool) -> tuple[float, float]:
    x = _anchor(chunk.anchor, sum(c.advance for c in clusters))
    y = 0.0
    for c in clusters:
        i = chunk.offset + c.index
        dx, dy = positions.dx[i], positions.dy[i]
        if vertical:
            y, x = y - dx, x + dy
        else:
            x, y = x + dx, y + dy
        c.relative_shift = bool(dx or dy)
        c.transform = c.transform @ affine.translate(x, y)
        if positions.rotate[i]:
            c.transform = c.transform @ affine.rotate(positions.rotate[i])
            c.relative_shift = True
        x += c.advance
    return x, y


def _on_path(chunk: Chunk, clusters: list[Cluster], positions: Positions, path: GuidePath, offset: float,
             vertical: bool) -> tuple[float, float]:
    along = (chunk.y if vertical else chunk.x) or 0.0
    start = along + offset + _anchor(chunk.anchor, sum(c.advance for c in clusters))
    last = (0.0, 0.0)
    advance, dy = start, 0.0
    for c in clusters:
        i = chunk.offset + c.index
        advance += positions.dx[i]
        point = path.at(advance + c.width / 2)
        advance += c.advance
        if point is None:
            c.visible = False
            continue
        x, y, angle = point
        c.relative_shift = True
        scaled = c.transform
        half = c.width / 2
        c.transform = affine.translate(x - half, y) @ affine.rotate(angle, half, 0.0)
        dy += positions.dy[i]
        span = chunk.span_at(c.index)
        shift = -baseline(span, vertical) if span is not None else 0.0
        if dy or shift:
            c.transform = c.transform @ affine.translate(0.0, dy - shift)
        if positions.rotate[i]:
            c.transform = c.transform @ affine.rotate(positions.rotate[i])
        c.transform = c.transform @ scaled
        last = (x + c.advance, y)
    return last


def _decoration_runs(span: Span, clusters: list[Cluster]) -> list[tuple[float, np.ndarray]]:
    """(width, transform) of each unbroken stretch of the span's clusters (a shifted or rotated
    cluster starts a new stretch)."""
    runs: list[tuple[float, np.ndarray]] = []
    started = False
    for c in clusters:
        if span.start <= c.index < span.end:
            if started and c.relative_shift:
                started = False
            if not started:
                runs.append((c.advance, c.transform))
                started = True
            else:
                runs[-1] = (runs[-1][0] + c.advance, runs[-1][1])
        else:
            started = False
    return runs


def _decoration_offset(kind: str, span: Span, vertical: bool) -> float:
    m = span.face.metrics
    scale = span.size / m.units
    if vertical:
        return {"underline": (m.ascent - m.descent) * scale / 2, "overline": -(m.ascent - m.descent) * scale / 2,
                "line-through": 0.0}[kind]
    return {"underline": -m.underline_position, "overline": -m.ascent,
            "line-through": -m.line_through_position}[kind] * scale


def _metric_corners(clusters: list[Cluster], span_ts: np.ndarray) -> list[np.ndarray]:
    """Corners of each visible cluster's em box (advance by ascent - descent), as resvg measures
    a text's bounding box (from font metrics, not outlines)."""
    corners = []
    for c in clusters:
        if c.visible:
            width = c.advance if c.advance > 0 else 1.0
            box = [(0, -c.ascent), (width, -c.ascent), (width, -c.descent), (0, -c.descent)]
            corners.append(affine.apply(span_ts @ c.matrix(), box))
    return corners


def layout(chunks: list[Chunk], positions: Positions, vertical: bool, paths: dict[int, tuple[GuidePath, float]],
           missing: Counter[str]) -> tuple[list[PlacedSpan], tuple[float, float, float, float] | None]:
    """Place every glyph of ``chunks``; ``paths`` maps a textPath's element index to its guide
    path and start offset. Also returns the text's bounding box (x0, y0, x1, y1) from font
    metrics and decorations, the box that objectBoundingBox units of its paint refer to."""
    placed: list[PlacedSpan] = []
    extent: list[np.ndarray] = []
    last_x = last_y = 0.0
    for chunk in chunks:
        on_path = paths.get(chunk.text_path) if chunk.text_path is not None else None
        x, y = (0.0, 0.0) if on_path else (last_x if chunk.x is None else chunk.x, last_y if chunk.y is None else chunk.y)
        clusters = make_clusters(chunk, missing)
        if not clusters:
            continue
        if vertical:
            apply_vertical(clusters)
        apply_spacing(chunk, clusters)
        apply_length_adjust(chunk, clusters)
        if on_path:
            current = _on_path(chunk, clusters, positions, on_path[0], on_path[1], vertical)
        else:
            current = _horizontal(chunk, clusters, positions, vertical)
        text_ts = affine.rotate(90.0, x, y) if vertical and not on_path else np.eye(3)
        for span in chunk.spans:
            span_ts = text_ts @ affine.translate(x, y)
            if not on_path:
                span_ts = span_ts @ affine.translate(0.0, baseline(span, vertical))
            out = PlacedSpan(span)
            thickness = span.face.metrics.underline_thickness * span.size / span.face.metrics.units
            runs = _decoration_runs(span, [c for c in clusters if c.visible])
            for kind in DECORATIONS:
                if kind in span.decorations and runs:
                    offset = _decoration_offset(kind, span, vertical)
                    rect = [(0, -thickness / 2), (0, thickness / 2), (1, thickness / 2), (1, -thickness / 2)]
                    out.decorations[kind] = [
                        affine.apply(span_ts @ transform @ affine.translate(0.0, offset),
                                     [(u * width, v) for u, v in rect]) for width, transform in runs]
            extent.extend(_metric_corners([c for c in clusters if span.start <= c.index < span.end], span_ts))
            extent.extend(corners for rects in out.decorations.values() for corners in rects)
            for c in clusters:
                if not c.visible or not span.start <= c.index < span.end:
                    continue
                for face, glyph, gx, gy in c.glyphs:
                    scale = c.size / face.metrics.units
                    matrix = span_ts @ c.matrix() @ affine.scale(scale) @ affine.translate(gx, gy) @ affine.scale(1, -1)
                    out.glyphs.append((face, glyph, matrix))
            placed.append(out)
        if vertical and not on_path:
            current = (current[1], current[0])
        last_x, last_y = x + current[0], y + current[1]
    if not extent:
        return placed, None
    points = np.concatenate(extent)
    return placed, (float(points[:, 0].min()), float(points[:, 1].min()), float(points[:, 0].max()),
                    float(points[:, 1].max()))
