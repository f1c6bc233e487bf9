"""Gradient colours of clipvg.render.paint: the stops' interpolation against a per-fragment reference, with many
stops and offsets out of order, and its gradients against finite differences."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch

from clipvg.render.paint import _stop_color


def _stops(counts: list[int], seed: int) -> SimpleNamespace:
    """Gradients with ``counts`` stops each: offsets mostly rising, some falling back (SVG clamps them up to the
    largest before) and some repeated, float64."""
    rng = np.random.default_rng(seed)
    offsets = [np.sort(rng.uniform(-0.2, 1.2, n)) for n in counts]
    for row in offsets:
        if len(row) > 3:
            row[rng.integers(1, len(row), len(row) // 3)] -= 0.3  # out of order
            row[1] = row[0]  # repeated
    bounds = np.concatenate([[0], np.cumsum(counts)])
    return SimpleNamespace(gradient_stop_offsets=torch.tensor(bounds),
                           stop_offsets=torch.tensor(np.concatenate(offsets), requires_grad=True),
                           stop_colors=torch.tensor(rng.uniform(0, 1, (int(bounds[-1]), 4)), requires_grad=True))


def _reference(stops: SimpleNamespace, gradient: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Each fragment's colour from its own gradient's stops: the largest offset so far, the pair around ``t``."""
    bounds, all_offsets = stops.gradient_stop_offsets.numpy(), stops.stop_offsets.detach().numpy()
    colors = stops.stop_colors.detach().numpy()
    out = np.zeros((len(t), 4))
    for k, (g, value) in enumerate(zip(gradient, t)):
        offsets = np.maximum.accumulate(all_offsets[bounds[g]:bounds[g + 1]])
        rows = colors[bounds[g]:bounds[g + 1]]
        upper = np.searchsorted(offsets, value, side="right")
        lo, hi = min(max(upper - 1, 0), len(offsets) - 1), min(upper, len(offsets) - 1)
        span = offsets[hi] - offsets[lo]
        weight = (value - offsets[lo]) / span if span > 0 else 0.0
        out[k] = rows[lo] + weight * (rows[hi] - rows[lo])
    return out


def test_many_stops_interpolate_as_each_gradient_alone() -> None:
    stops = _stops([1, 2, 7, 20_000, 3], seed=0)
    rng = np.random.default_rng(1)
    gradient = rng.integers(0, 5, 3000)
    t = rng.uniform(0, 1, 3000)
    t[:40] = stops.stop_offsets.detach().numpy()[stops.gradient_stop_offsets.numpy()[gradient[:40]]].clip(0, 1)
    colors = _stop_color(stops, torch.tensor(gradient), torch.tensor(t))
    np.testing.assert_allclose(colors.detach().numpy(), _reference(stops, gradient, t), rtol=0, atol=1e-12)


def test_gradients_of_stop_colours_and_offsets_match_central_differences() -> None:
    # offsets apart and in order (where two are equal or out of order, which one counts switches under a nudge)
    rng = np.random.default_rng(3)
    stops = SimpleNamespace(gradient_stop_offsets=torch.tensor([0, 3, 9, 11]),
                            stop_offsets=torch.tensor([0.1, 0.5, 0.8, 0.0, 0.2, 0.35, 0.5, 0.7, 0.9, 0.3, 0.6],
                                                      dtype=torch.float64, requires_grad=True),
                            stop_colors=torch.tensor(rng.uniform(0, 1, (11, 4)), requires_grad=True))
    gradient, t = torch.tensor(rng.integers(0, 3, 50)), torch.tensor(rng.uniform(0.05, 0.95, 50))
    t[(t - 0.5).abs() < 0.01] = 0.45  # away from the offsets (the line's kinks)

    def colour(offsets: torch.Tensor, colors: torch.Tensor) -> torch.Tensor:
        return _stop_color(SimpleNamespace(gradient_stop_offsets=stops.gradient_stop_offsets, stop_offsets=offsets,
                                           stop_colors=colors), gradient, t)

    assert torch.autograd.gradcheck(colour, (stops.stop_offsets, stops.stop_colors), eps=1e-7, atol=1e-6)
