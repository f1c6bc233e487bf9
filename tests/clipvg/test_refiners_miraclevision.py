"""MiracleVision's pieces: the outpaint prior reaches the refiner as the seed describes it (the picture
mirrored across its border plus noise, ``Prepared.prior``, not the render of its 12-colour vectorized
copy, which keeps less than half of the prior's high-frequency content); the outpaint prompt from
zero-shot scene recognition; the texture-detail guidance hook with a user-given model."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import losses

from clipvg.inpaint import prepare_outpaint
from clipvg.inpaint.outpaint import seed_outpaint
from clipvg.refiners import Refiner, refine_prepared
from clipvg.refiners.select import scene_prompt
from edit_scenes import BLUE, RED, circles_scene
from losses.shapes.data import caption

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


def test_the_outpaint_prompt_is_the_scene_recognised_in_the_known_part():
    clip = losses.load_clip(*losses.shapes_clip_paths(), device="cpu")
    scene = circles_scene((32.3, 32.2, 18, RED), size=64)
    image, area = seed_outpaint(scene, left=16, right=16, seed=0)
    vocabulary = [caption(c, s) for c in ("red", "blue") for s in ("circle", "square")]
    assert scene_prompt(image, area, clip, vocabulary) == caption("red", "circle")
    from clipvg.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="known part"):
        scene_prompt(image, torch.ones_like(area), clip, vocabulary)


def test_texture_guidance_moves_only_the_masked_latents_up_the_models_gradient(tmp_path):
    pytest.importorskip("diffusers")
    from clipvg.refiners.sd_inpaint import SDInpaintRefiner
    from tiny_diffusion import build_tiny_sd

    model = build_tiny_sd(tmp_path / "inpaint", inpaint=True)
    calls = []

    def brightness(pixels):  # a stand-in detail score: its gradient is known (brighter is better)
        calls.append(tuple(pixels.shape))
        return pixels.sum()

    image = torch.rand(32, 32, 3, generator=torch.Generator().manual_seed(0))
    mask = torch.zeros(32, 32, dtype=torch.bool)
    mask[8:24, 8:24] = True
    plain = SDInpaintRefiner(model, "cpu", steps=4).refine(image, mask, "a red circle", seed=2)
    guided = SDInpaintRefiner(model, "cpu", steps=4, texture_model=brightness, texture_scale=500.0,
                              texture_share=0.5).refine(image, mask, "a red circle", seed=2)
    assert calls == [(1, 3, 32, 32)] * 2  # the last half of the 4 steps, on the decoded picture
    assert torch.equal(guided[~mask], image[~mask]) and torch.equal(plain[~mask], image[~mask])
    assert float(guided[mask].mean()) > float(plain[mask].mean()) + 0.005  # brighter inside, as the score asks


def test_a_texture_step_is_the_scores_gradient_inside_the_area(tmp_path):
    pytest.importorskip("diffusers")
    from diffusers import AutoencoderKL

    from clipvg.refiners.base import latent_mask
    from clipvg.refiners.texture import texture_step

    torch.manual_seed(0)
    vae = AutoencoderKL(block_out_channels=(8,), norm_num_groups=4, latent_channels=4).eval()
    latents = torch.randn(1, 4, 8, 8, dtype=torch.float64)
    vae.double()
    score = lambda pixels: (pixels * torch.linspace(0, 1, 8, dtype=pixels.dtype)).sum()  # noqa: E731
    mask = torch.zeros(8, 8, dtype=torch.bool)
    mask[2:5, 3:6] = True
    area = latent_mask(mask, (1, 4, 8, 8)).double()
    moved = texture_step(vae, latents, score, 0.5, area)
    assert torch.equal(moved[area.expand_as(moved) == 0], latents[area.expand_as(moved) == 0])

    def total(z):
        with torch.no_grad():
            return float(score(((vae.decode(z / vae.config.scaling_factor).sample + 1) / 2).clamp(0, 1)))

    for index in [(0, 0, 2, 3), (0, 3, 4, 5)]:  # central differences of the score, in the area
        bump = torch.zeros_like(latents)
        bump[index] = 1e-5
        gradient = (total(latents + bump) - total(latents - bump)) / 2e-5
        assert float(moved[index] - latents[index]) == pytest.approx(0.5 * gradient, rel=1e-4, abs=1e-9)
