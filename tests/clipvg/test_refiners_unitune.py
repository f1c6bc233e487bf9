"""UniTune's formulas, each checked against the sources quoted in clipvg/refiners/unitune.py: fine-tuning
on the photo with the rare token (batch of noised copies), sampling from the noised photo with
classifier-free guidance on "[token] edit" (no prompt-guidance term), the off-by-default blend."""
from __future__ import annotations

import pytest
import torch

pytest.importorskip("diffusers")

from clipvg.errors import InvalidInputError  # noqa: E402
from clipvg.refiners.unitune import UniTuneRefiner  # noqa: E402
from tiny_diffusion import build_tiny_sd  # noqa: E402


@pytest.fixture(scope="module")
def refiner(tmp_path_factory):
    model = build_tiny_sd(tmp_path_factory.mktemp("unitune") / "sd")
    return UniTuneRefiner(model, "cpu", token="sks", finetune_steps=1, batch=4, lr=1e-4, steps=3, guidance=5.0,
                          strength=0.6)


class Recorder(torch.nn.Module):
    """Wraps a UNet and records the batch size and text embeddings of every call."""

    def __init__(self, unet):
        super().__init__()
        self.unet, self.calls = unet, []

    def forward(self, x, t, encoder_hidden_states):
        self.calls.append((x.shape[0], encoder_hidden_states))
        return self.unet(x, t, encoder_hidden_states=encoder_hidden_states)


def test_guidance_is_classifier_free_guidance_on_the_combined_prompt(refiner):
    model, unet = refiner.model, refiner.model.unet
    text = refiner.edit_prompt("a green circle")
    assert text == "sks a green circle" and refiner.edit_prompt("a lawn", remove=True).startswith("sks a lawn, ")
    x = torch.randn(1, 4, 16, 16, generator=torch.Generator().manual_seed(1))
    t = torch.tensor(500)
    recorder = Recorder(unet)
    predicted = refiner.predictor(recorder, text)(x, t)
    with torch.no_grad():
        eps_u = unet(x, t, encoder_hidden_states=model.encode_prompt("")).sample
        eps_c = unet(x, t, encoder_hidden_states=model.encode_prompt(text)).sample
    torch.testing.assert_close(predicted, eps_u + 5.0 * (eps_c - eps_u), rtol=1e-4, atol=1e-5)
    # two predictions a step (unconditional, combined prompt): no edit-only / token-only terms
    assert [size for size, _ in recorder.calls] == [2]
    refiner.guidance = 1.0
    try:
        torch.testing.assert_close(refiner.predictor(unet, text)(x, t), eps_c, rtol=1e-4, atol=1e-5)
    finally:
        refiner.guidance = 5.0


def test_fine_tuning_uses_a_batch_of_noised_copies_with_the_token_caption(refiner, monkeypatch):
    model = refiner.model
    seen = []
    original = model.denoising_loss

    def spy(unet, latents, embedding, generator, batch=1):
        seen.append((batch, embedding))
        return original(unet, latents, embedding, generator, batch)

    monkeypatch.setattr(model, "denoising_loss", spy)
    image = torch.rand(32, 32, 3, generator=torch.Generator().manual_seed(0))
    unet, latents = refiner.finetune(image, seed=0)
    assert unet is not model.unet and latents.shape == (1, 4, 16, 16)
    assert [b for b, _ in seen] == [4] and torch.equal(seen[0][1], model.encode_prompt("sks"))
    changed = any(not torch.equal(a, b) for a, b in zip(unet.parameters(), model.unet.parameters()))
    assert changed  # the copy moved; the loaded UNet did not (it is frozen)


def test_sampling_starts_from_the_noised_photo(refiner, monkeypatch):
    """x_t0 = add_noise(photo latents, eps, t0) with t0 the first of the last strength x steps."""
    model = refiner.model
    starts = []
    original = model.sample

    def spy(predict, shape, steps, generator, init=None, strength=1.0):
        starts.append((init, strength, steps))
        return original(predict, shape, steps, generator, init=init, strength=strength)

    monkeypatch.setattr(model, "sample", spy)
    image = torch.rand(32, 32, 3, generator=torch.Generator().manual_seed(0))
    unet, latents = model.unet, model.encode_image(image, (32, 32))  # any UNet: the start is what is checked
    refiner.sample(unet, latents, "sks a red circle", seed=3)
    init, strength, steps = starts[0]
    assert init is latents and strength == 0.6 and steps == 3
    # the first latent DDIM sees is the photo's latents noised to t0, not pure noise
    scheduler = model.ddim(3)
    timesteps = scheduler.timesteps[round(3 * (1 - 0.6)):]
    noise = model.randn(tuple(latents.shape), torch.Generator().manual_seed(3))
    expected = scheduler.add_noise(latents, noise, timesteps[:1])
    first = []
    predictor = refiner.predictor(unet, "sks a red circle")
    original(lambda x, t: first.append(x.clone()) or predictor(x, t), tuple(latents.shape), 3,
             torch.Generator().manual_seed(3), init=latents, strength=0.6)
    torch.testing.assert_close(first[0], scheduler.scale_model_input(expected, timesteps[0]))


def test_the_interpolation_knob_is_off_by_default_and_a_plain_blend(refiner):
    sample, base = torch.zeros(16, 16, 3), torch.ones(16, 16, 3)
    assert refiner.interpolation == 0.0 and refiner.interpolate(sample, base) is sample
    refiner.interpolation = 0.25
    try:
        torch.testing.assert_close(refiner.interpolate(sample, base), torch.full((16, 16, 3), 0.25))
    finally:
        refiner.interpolation = 0.0
    with pytest.raises(InvalidInputError, match="strength"):
        UniTuneRefiner(refiner.model.unet, "cpu", strength=0.0)
