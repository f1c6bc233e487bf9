"""MiracleVision's outpaint prior reaches the refiner as the seed describes it: the picture mirrored
across its border plus noise (``Prepared.prior``), not the render of its 12-colour vectorized copy,
which keeps less than half of the prior's high-frequency content."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from clipvg.inpaint import prepare_outpaint
from clipvg.inpaint.outpaint import seed_outpaint
from clipvg.refiners import Refiner, refine_prepared
from edit_scenes import BLUE, RED, circles_scene

LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])


class Recording(Refiner):
    """Records what it is given and paints the area mid-grey."""

    name = "recording"

    def __init__(self) -> None:
        self.calls = []

    def refine(self, image, mask, prompt, *, seed=0, remove=False, prior=False):
        self.calls.append((image.clone(), mask.clone(), prior))
        return torch.where(mask[..., None], torch.full_like(image, 0.5), image)


def laplacian_std(image: torch.Tensor, area: torch.Tensor) -> float:
    """Standard deviation of the grey image's Laplacian over ``area`` (H, W) bool."""
    grey = image.float().mean(-1)[None, None]
    response = F.conv2d(F.pad(grey, (1, 1, 1, 1), mode="replicate"), LAPLACIAN[None, None])[0, 0]
    return float(response[area].std())


def test_the_refiner_starts_from_the_mirrored_noisy_border():
    scene = circles_scene((20.3, 16.2, 9, RED), (30.0, 26.0, 5, BLUE), size=32)
    margins = dict(left=12, top=8)
    make = lambda image: prepare_outpaint(scene, **margins, seed=3, seed_image=image)  # noqa: E731
    refiner = Recording()
    prepared = refine_prepared(make, refiner, "a beach", seed=3, prior=True, iterations=1)
    (given, area, prior), = refiner.calls
    expected, expected_area = seed_outpaint(scene, **margins, seed=3)
    assert prior and torch.equal(area, expected_area) and torch.equal(given, expected)
    vector_seed = make(None).render()
    assert laplacian_std(given, area) > 2 * laplacian_std(vector_seed, area)  # the flattened copy lost detail
    assert prepared.prior is None  # the new layer was made from the refined raster
    refine_prepared(make, refiner, "a beach", seed=3, prior=False, iterations=1)
    assert torch.equal(refiner.calls[-1][0], vector_seed)  # without the prior: the render, as before
