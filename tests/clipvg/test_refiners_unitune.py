"""UniTune as clipvg/refiners/unitune.py's sources describe it, on a tiny Stable Diffusion built from
configs: the article's fine-tuning defaults (Adafactor at 1e-4 on copies of the picture captioned with
the rare token), classifier-free and prompt guidance against separate UNet calls, the SDEdit start,
the original UNet on the late steps, the naive interpolation, and masks (outside pixels kept)."""
from __future__ import annotations

import pytest
import torch

pytest.importorskip("diffusers")

from clipvg.errors import InvalidInputError  # noqa: E402
from clipvg.refiners import finetune as finetune_module  # noqa: E402
from clipvg.refiners.finetune import TuneSettings  # noqa: E402
from clipvg.refiners.unitune import UniTuneRefiner  # noqa: E402
from tiny_diffusion import build_tiny_sd  # noqa: E402

SMALL = dict(token="sks", finetune_steps=1, batch=4, micro_batch=2, steps=3, guidance=5.0, strength=0.6)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return build_tiny_sd(tmp_path_factory.mktemp("unitune") / "sd")


@pytest.fixture(scope="module")
def refiner(model):
    return UniTuneRefiner(model, "cpu", **SMALL)


@pytest.fixture(scope="module")
def photo():
    return torch.rand(32, 32, 3, generator=torch.Generator().manual_seed(0))


class Recorder(torch.nn.Module):
    """Wraps a UNet and records the batch size, timestep and text embeddings of every call."""

    def __init__(self, unet):
        super().__init__()
        self.unet, self.calls = unet, []

    @property
    def dtype(self):
        return self.unet.dtype

    def forward(self, x, t, encoder_hidden_states):
        self.calls.append((x.shape[0], int(t), encoder_hidden_states))
        return self.unet(x, t, encoder_hidden_states=encoder_hidden_states)


def test_defaults_are_the_articles_and_the_port_is_a_preset(model):
    article = UniTuneRefiner(model, "cpu")
    assert article.tuning == TuneSettings(4, 1e-4, "adafactor", batch=128, micro_batch=8, train="all")
    assert article.original_share == 0.0 and article.interpolation > 0 and article.baseline is None
    port = UniTuneRefiner(model, "cpu", preset="sd-port")
    assert (port.tuning.lr, port.tuning.train, port.original_share) == (9e-5, "cross-attention", 0.5)
    with pytest.raises(InvalidInputError, match="preset"):
        UniTuneRefiner(model, "cpu", preset="dreambooth")
    with pytest.raises(InvalidInputError, match="scorer"):
        UniTuneRefiner(model, "cpu", strength=(0.5, 0.7))
    with pytest.raises(InvalidInputError, match="strength"):
        UniTuneRefiner(model, "cpu", strength=0.0)


def test_fine_tuning_is_adafactor_on_copies_of_the_token_captioned_picture(refiner, photo, monkeypatch):
    model = refiner.model
    optimizers, seen = [], []
    make, loss = finetune_module.make_optimizer, model.denoising_loss
    monkeypatch.setattr(finetune_module, "make_optimizer", lambda *a: optimizers.append(make(*a)) or optimizers[-1])
    monkeypatch.setattr(model, "denoising_loss", lambda unet, latents, embedding, generator, batch=1: (
        seen.append((batch, embedding)) or loss(unet, latents, embedding, generator, batch)))
    text_before = [p.clone() for p in model.text_encoder.parameters()]
    unet_before = [p.clone() for p in model.unet.parameters()]
    tuned, latents = refiner.finetune(photo, seed=0)
    from transformers.optimization import Adafactor

    (optimizer,) = optimizers
    assert isinstance(optimizer, Adafactor) and optimizer.param_groups[0]["lr"] == 1e-4
    assert not optimizer.param_groups[0]["relative_step"] and not optimizer.param_groups[0]["scale_parameter"]
    # one update of batch 4 in two micro-batches, every copy captioned with the rare token alone
    assert [b for b, _ in seen] == [2, 2] and all(torch.equal(e, model.encode_prompt("sks")) for _, e in seen)
    assert latents.shape == (1, 4, 16, 16)
    assert any(not torch.equal(a, b) for a, b in zip(tuned.unet.parameters(), unet_before))
    assert all(torch.equal(a, b) for a, b in zip(model.unet.parameters(), unet_before))  # the loaded UNet is kept
    assert all(torch.equal(a, b) for a, b in zip(model.text_encoder.parameters(), text_before))  # frozen


@pytest.mark.parametrize("baseline", [None, "sks"])
def test_guidance_against_separate_unet_calls(refiner, baseline):
    """Classifier-free guidance (baseline: the empty prompt) and prompt guidance (baseline: another
    prompt): eps_b + w (eps("[token] edit") - eps_b), from one batched call a step."""
    model, unet = refiner.model, refiner.model.unet
    text = refiner.edit_prompt("a green circle")
    assert text == "sks a green circle" and refiner.edit_prompt("a lawn", remove=True).startswith("sks a lawn, ")
    x = torch.randn(1, 4, 16, 16, generator=torch.Generator().manual_seed(1))
    t = torch.tensor(500)
    recorder = Recorder(unet)
    refiner.baseline = baseline
    try:
        predicted = refiner.guide(recorder, text)(x, t)
    finally:
        refiner.baseline = None
    with torch.no_grad():
        eps_b = unet(x, t, encoder_hidden_states=model.encode_prompt(baseline or "")).sample
        eps_c = unet(x, t, encoder_hidden_states=model.encode_prompt(text)).sample
    torch.testing.assert_close(predicted, eps_b + 5.0 * (eps_c - eps_b), rtol=1e-4, atol=1e-5)
    assert [size for size, _, _ in recorder.calls] == [2]
    if baseline:  # prompt guidance differs from classifier-free guidance
        plain = refiner.guide(unet, text)(x, t)
        assert float((plain - predicted).abs().max()) > 1e-4


def test_sampling_starts_from_the_noised_photo(refiner, photo):
    """x_t0 = add_noise(photo latents, eps, t0) with t0 the first of the last strength x steps."""
    model = refiner.model
    latents = model.encode_image(photo, (32, 32))
    scheduler = model.ddim(3)
    timesteps = scheduler.timesteps[round(3 * (1 - 0.6)):]
    assert torch.equal(model.timesteps(3, 0.6), timesteps)
    noise = model.randn(tuple(latents.shape), torch.Generator().manual_seed(3))
    expected = scheduler.add_noise(latents, noise, timesteps[:1])
    first = []
    predictor = refiner.guide(model.unet, "sks a red circle")
    model.sample(lambda x, t: first.append(x.clone()) or predictor(x, t), tuple(latents.shape), 3,
                 torch.Generator().manual_seed(3), init=latents, strength=0.6)
    torch.testing.assert_close(first[0], scheduler.scale_model_input(expected, timesteps[0]))


def test_the_late_steps_run_on_the_original_unet(refiner, photo):
    tuned, original = Recorder(refiner.model.unet), Recorder(refiner.model.unet)
    refiner.model.unet, refiner.original_share, refiner.steps = original, 0.5, 4
    try:
        predict = refiner.predictor(tuned, "sks a red circle", strength=1.0)
        schedule = [int(t) for t in refiner.model.timesteps(4)]
        for t in schedule:
            predict(torch.zeros(1, 4, 16, 16), torch.tensor(t))
    finally:
        refiner.model.unet, refiner.original_share, refiner.steps = original.unet, 0.0, SMALL["steps"]
    assert [t for _, t, _ in tuned.calls] == schedule[:2] and [t for _, t, _ in original.calls] == schedule[2:]


def test_interpolation_is_the_naive_blend_with_the_original(refiner):
    sample, base = torch.rand(16, 16, 3), torch.rand(16, 16, 3)
    refiner.interpolation = 0.3
    try:
        torch.testing.assert_close(refiner.interpolate(sample, base), 0.7 * sample + 0.3 * base)
        refiner.interpolation = 0.0
        assert refiner.interpolate(sample, base) is sample
    finally:
        refiner.interpolation = 0.25


def test_latent_keep_holds_the_picture_outside_the_mask(refiner, photo):
    model = refiner.model
    latents = model.encode_image(photo, (32, 32))
    mask = torch.zeros(32, 32, dtype=torch.bool)
    mask[8:20, 4:14] = True
    keep = model.latent_keep(mask, tuple(latents.shape))
    assert keep.shape == (1, 1, 16, 16) and float(keep[0, 0, 4:10, 2:7].max()) == 0.0  # the mask, dilated
    assert float(keep[0, 0, :3].min()) == 1.0 and model.latent_keep(torch.ones(32, 32, dtype=torch.bool), latents.shape) is None
    out = model.sample(refiner.guide(model.unet, "sks a red circle"), tuple(latents.shape), 3,
                       torch.Generator().manual_seed(0), init=latents, strength=0.6, keep=keep)
    kept = keep.bool().expand_as(out)
    assert torch.equal(out[kept], latents[kept]) and not torch.equal(out[~kept], latents[~kept])


def test_refine_keeps_pixels_outside_the_mask_and_is_deterministic(refiner, photo):
    mask = torch.zeros(32, 32, dtype=torch.bool)
    mask[8:24, 8:24] = True
    first = refiner.refine(photo, mask, "a red circle", seed=4)
    assert first.shape == (32, 32, 3) and first.dtype == torch.float32
    assert torch.equal(first[~mask], photo[~mask]) and not torch.equal(first[mask], photo[mask])
    assert torch.equal(refiner.refine(photo, mask, "a red circle", seed=4), first)


def test_a_range_of_sdedit_starts_keeps_the_scorers_best(model, photo):
    scores = []

    def scorer(image, prompt):
        scores.append((float(image.mean()), prompt))
        return scores[-1][0]

    refiner = UniTuneRefiner(model, "cpu", **{**SMALL, "strength": (0.3, 0.6, 1.0)}, scorer=scorer,
                             interpolation=0.0)
    mask = torch.ones(32, 32, dtype=torch.bool)
    result = refiner.refine(photo, mask, "a red circle", seed=1)
    assert len(scores) == 3 and {p for _, p in scores} == {"a red circle"}
    assert float(result.mean()) == pytest.approx(max(s for s, _ in scores), abs=1e-5)
