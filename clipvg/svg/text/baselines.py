"""Vertical placement of a span: dominant-baseline, alignment-baseline and baseline-shift, with
the fixed ratios Chrome (and resvg) use instead of a font's BASE table. Lengths in px, y down."""
from __future__ import annotations

from .faces import Metrics
from .spans import Span


def alignment_shift(value: str, metrics: Metrics, size: float) -> float:
    """How far down the alphabetic baseline moves so that baseline ``value`` sits on the line."""
    scale = size / metrics.units
    ascent, descent = metrics.ascent * scale, metrics.descent * scale
    return {
        "before-edge": ascent, "text-before-edge": ascent, "middle": metrics.x_height * scale * 0.5,
        "central": ascent - (ascent - descent) * 0.5, "after-edge": descent, "text-after-edge": descent,
        "ideographic": descent, "hanging": ascent * 0.8, "mathematical": ascent * 0.5,
    }.get(value, 0.0)


def shift_sum(span: Span) -> float:
    """baseline-shift of the span and its ancestors up to the text, outermost first, px up."""
    metrics = span.face.metrics
    scale = span.size / metrics.units
    total = 0.0
    for value in reversed(span.baseline_shift):
        if value == "sub":
            total -= metrics.subscript_offset * scale
        elif value == "super":
            total += metrics.superscript_offset * scale
        elif isinstance(value, float):
            total += value
    return total


def baseline(span: Span, vertical: bool) -> float:
    """The span's total downward shift in px (baselines apply to horizontal text only)."""
    shift = -shift_sum(span)
    if not vertical:
        if span.alignment_baseline in ("auto", "baseline"):
            shift += alignment_shift(span.dominant_baseline, span.face.metrics, span.size)
        else:
            shift += alignment_shift(span.alignment_baseline, span.face.metrics, span.size)
    return shift
