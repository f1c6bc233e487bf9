"""Imagic's three stages (clipvg/refiners/imagic.py) with the paper's settings as defaults, run in
half precision on a tiny Stable Diffusion built from configs, and best-of-k picked by a CLIP score
(clipvg/refiners/select.py, with the project's shapes CLIP), which also recognises scenes zero-shot."""
from __future__ import annotations

import pytest
import torch

pytest.importorskip("diffusers")

import losses  # noqa: E402
from clipvg.errors import InvalidInputError  # noqa: E402
from clipvg.refiners.finetune import TuneSettings  # noqa: E402
from clipvg.refiners.imagic import ImagicRefiner  # noqa: E402
from clipvg.refiners.select import ClipScorer, best, recognise_scene  # noqa: E402
from losses.shapes.data import COLOURS, SHAPES, caption, draw_shapes  # noqa: E402
from tiny_diffusion import build_tiny_sd  # noqa: E402

SMALL = dict(embed_steps=3, embed_lr=1e-2, finetune_steps=2, finetune_lr=1e-4, steps=2)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return build_tiny_sd(tmp_path_factory.mktemp("imagic") / "sd")


@pytest.fixture(scope="module")
def clip():
    return losses.load_clip(*losses.shapes_clip_paths(), device="cpu")


def shape_image(colour: str, shape: str) -> torch.Tensor:
    """(64, 64, 3) picture of one shape from the shapes CLIP's training distribution."""
    index = lambda names, name: torch.tensor([list(names).index(name)])  # noqa: E731
    drawn = draw_shapes(index(COLOURS, colour), index(SHAPES, shape), 64, torch.Generator().manual_seed(0))
    return drawn[0].permute(1, 2, 0)


def test_defaults_are_the_papers_settings(model):
    refiner = ImagicRefiner(model, "cpu")
    assert refiner.embedding == TuneSettings(1000, 1e-3, "adamw")
    assert refiner.tuning == TuneSettings(1500, 1e-6, "adamw")
    assert (refiner.eta, refiner.samples) == (0.7, 1)
    other = ImagicRefiner(model, "cpu", optimizer="adafactor")
    assert other.embedding.optimizer == other.tuning.optimizer == "adafactor"
    with pytest.raises(InvalidInputError, match="scorer"):
        ImagicRefiner(model, "cpu", samples=4)


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_both_stages_learn_in_half_precision(model, precision):
    refiner = ImagicRefiner(model, "cpu", precision=precision, **SMALL)
    image = torch.rand(32, 32, 3, generator=torch.Generator().manual_seed(0))
    state = refiner.fit(image, "a red circle", seed=0)
    assert state.e_opt.dtype == refiner.model.dtype and bool(torch.isfinite(state.e_opt).all())
    assert float((state.e_opt.float() - state.e_tgt.float()).abs().max()) > 1e-3  # stage A moved the embedding
    moved = [not torch.equal(a, b.float()) for a, b in zip(state.unet.unet.parameters(), refiner.model.unet.parameters())]
    assert all(bool(torch.isfinite(p).all()) for p in state.unet.unet.parameters()) and sum(moved) > 0.9 * len(moved)
    _, picture = refiner.sample(state, refiner.interpolate(state, 0.7), seed=1)
    assert picture.shape == (32, 32, 3) and bool(torch.isfinite(picture).all())


def test_best_of_k_keeps_the_sample_the_scorer_rates_highest(model):
    calls = []

    def scorer(image, prompt):
        calls.append((image, prompt))
        return -float((image - 0.5).abs().mean())

    refiner = ImagicRefiner(model, "cpu", samples=3, scorer=scorer, **SMALL)
    image = torch.rand(32, 32, 3, generator=torch.Generator().manual_seed(0))
    mask = torch.zeros(32, 32, dtype=torch.bool)
    mask[:, 16:] = True
    refined = refiner.refine(image, mask, "a red circle", seed=7)
    assert [p for _, p in calls] == ["a red circle"] * 3
    state = refiner.fit(image, "a red circle", seed=7)
    samples = [refiner.sample(state, refiner.interpolate(state, 0.7), seed=7 + k)[1] for k in range(3)]
    for sample, (seen, _) in zip(samples, calls):
        assert torch.equal(sample, seen)  # the k candidates are seeds 7, 8, 9
    chosen = max(range(3), key=lambda k: scorer(samples[k], "a red circle"))
    assert torch.equal(refined[mask], samples[chosen][mask]) and torch.equal(refined[~mask], image[~mask])


def test_clip_scorer_prefers_the_matching_picture_and_recognises_the_scene(clip):
    red_circle, blue_square = shape_image("red", "circle"), shape_image("blue", "square")
    scorer = ClipScorer(clip)
    prompt = caption("red", "circle")
    assert scorer(red_circle, prompt) > scorer(blue_square, prompt)
    assert best([blue_square, red_circle], prompt, scorer) is red_circle
    vocabulary = [caption(c, s) for c in ("red", "blue", "green") for s in ("circle", "square")]
    assert recognise_scene(red_circle, clip, vocabulary) == prompt
    assert recognise_scene(blue_square, clip, vocabulary) == caption("blue", "square")
    with pytest.raises(InvalidInputError, match="vocabulary"):
        recognise_scene(red_circle, clip, [])
