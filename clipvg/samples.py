"""Samples per pixel of exported renders (``clipvg.render.supersample``): the default, the limit and the
check, torch-free so that the CLI checks ``--samples`` before torch loads."""
from __future__ import annotations

from .errors import InvalidInputError

MAX_SAMPLES = 8  # samples per axis: 64 per pixel; the work grows with the square
# samples per axis of ``clipvg render``, ``render_rgba8`` and the PNG exports of edits: 2 x 2 take papirus and
# tango icons from 87 / 78 % to 100 % of files >= 40 dB from a 4x-supersampled resvg, openclipart 57 -> 67 %, at
# 1.5-1.9x the render time (benchmarks/results/svg_corpus_4883c86_2cpu_quiet_papirus_tango_openclipart_samples.json)
EXPORT_SAMPLES = 2
# output pixels up to which exports take EXPORT_SAMPLES by default (2048 x 2048): above it they take one sample,
# as the work grows with the drawn pixels (an 8192 x 8192 tree of groups and filters took 859 s at 2 x 2 against
# 134 s at one sample; benchmarks/results/render_memory_02f257d_2cpu_load4.json); an explicit count is kept
EXPORT_MAX_PIXELS = 2048 * 2048


def export_samples(width: int, height: int, samples: int | None = None) -> int:
    """The samples per axis an export of width x height px is drawn with: ``samples`` when given (checked),
    else EXPORT_SAMPLES up to EXPORT_MAX_PIXELS output pixels and 1 above."""
    if samples is not None:
        return check_samples(samples)
    return EXPORT_SAMPLES if width * height <= EXPORT_MAX_PIXELS else 1


def check_samples(samples: int) -> int:
    """``samples`` (per axis) as an int in [1, MAX_SAMPLES]; InvalidInputError otherwise."""
    if isinstance(samples, bool) or not isinstance(samples, int) or not 1 <= samples <= MAX_SAMPLES:
        raise InvalidInputError(f"samples must be a whole number of samples per axis from 1 (one exact-area sample) "
                                f"to {MAX_SAMPLES}, got {samples!r}")
    return samples
