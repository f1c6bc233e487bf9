"""Samples per pixel of exported renders (``clipvg.render.supersample``): the default, the limit and the
check, torch-free so that the CLI checks ``--samples`` before torch loads."""
from __future__ import annotations

from .errors import InvalidInputError

MAX_SAMPLES = 8  # samples per axis: 64 per pixel; the work grows with the square
# samples per axis of ``clipvg render``, ``render_rgba8`` and the PNG exports of edits: 2 x 2 take papirus and
# tango icons from 87 / 78 % to 100 % of files >= 40 dB from a 4x-supersampled resvg, openclipart 55 -> 70 %, at
# 1.7-2.2x the render time (benchmarks/results/svg_corpus_a42b08c_2cpu_papirus_tango_openclipart_samples.json)
EXPORT_SAMPLES = 2


def check_samples(samples: int) -> int:
    """``samples`` (per axis) as an int in [1, MAX_SAMPLES]; InvalidInputError otherwise."""
    if isinstance(samples, bool) or not isinstance(samples, int) or not 1 <= samples <= MAX_SAMPLES:
        raise InvalidInputError(f"samples must be a whole number of samples per axis from 1 (one exact-area sample) "
                                f"to {MAX_SAMPLES}, got {samples!r}")
    return samples
