"""Fine-tuning in every precision (clipvg/refiners/finetune.py) on a tiny Stable Diffusion built from
configs: float32 master weights, autocast at the refiner's dtype, loss scaling for fp16. In fp32,
bf16 and fp16 one update moves the weights by the learning rate (Imagic's 1e-6 included, which
bf16 weights cannot hold), nothing becomes NaN, and the loss falls as in fp32."""
from __future__ import annotations

import pytest
import torch

pytest.importorskip("diffusers")

from clipvg.errors import InvalidInputError  # noqa: E402
from clipvg.refiners.diffusion import Components  # noqa: E402
from clipvg.refiners.finetune import TuneSettings, finetune  # noqa: E402
from tiny_diffusion import build_tiny_sd  # noqa: E402

PRECISIONS = ("fp32", "bf16", "fp16")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return build_tiny_sd(tmp_path_factory.mktemp("finetune") / "sd")


def load(model_dir, precision, device="cpu"):
    model = Components.load(model_dir, device, precision)
    image = torch.rand(32, 32, 3, generator=torch.Generator().manual_seed(0))
    return model, model.encode_image(image, (32, 32)), model.encode_prompt("sks")


def tune(model, latents, embedding, settings, seed=0):
    return model.finetune(latents, embedding, settings, torch.Generator().manual_seed(seed))


def fixed_loss(model, unet, latents, embedding):
    """The denoising loss at fixed timesteps and noise (8 draws), in float32."""
    with torch.no_grad():
        return float(model.denoising_loss(unet, latents, embedding, torch.Generator().manual_seed(123), 8))


def steps_by(tuned, original):
    """|delta w| of every weight element, float32, flattened."""
    return torch.cat([(a.float() - b.float().to(a.device)).abs().flatten()
                      for a, b in zip(tuned.unet.parameters(), original.parameters())])


def check_first_update(model, latents, embedding, lr=1e-6):
    """One AdamW update moves each weight by lr x g / (|g| + eps) = lr where the gradient is not tiny."""
    tuned = tune(model, latents, embedding, TuneSettings(1, lr, "adamw", batch=2))
    assert all(p.dtype == torch.float32 and bool(torch.isfinite(p).all()) for p in tuned.unet.parameters())
    delta = steps_by(tuned, model.unet)
    assert float(delta.max()) <= lr * 1.02  # fp32 rounding of w + delta: 1.3 % at |w| = 1 (norm weights)
    moved = delta > 0.5 * lr
    assert float(moved.float().mean()) > 0.9  # at least 90 % of the weights moved by the full step
    torch.testing.assert_close(delta[moved].mean(), torch.tensor(lr, device=delta.device), rtol=1e-2, atol=0)
    return tuned


@pytest.mark.parametrize("precision", PRECISIONS)
def test_one_adamw_update_moves_every_weight_by_the_learning_rate(model_dir, precision):
    model, latents, embedding = load(model_dir, precision)
    tuned = check_first_update(model, latents, embedding)
    assert model.unet.dtype == model.dtype and not any(p.requires_grad for p in model.unet.parameters())
    # the tuned UNet runs like the refiner's own: same dtype out, float32 weights inside
    t = torch.tensor([10])
    out = tuned(latents, t, encoder_hidden_states=embedding).sample
    assert out.dtype == model.dtype and bool(torch.isfinite(out).all())


@pytest.mark.parametrize("precision", PRECISIONS)
def test_adafactor_update_is_at_most_the_learning_rate_and_vectors_move_by_it(model_dir, precision):
    """Adafactor (fixed lr, update clipped to RMS 1): a vector's first update is lr x sign(g); a
    matrix's (factored second moment) has RMS at most lr."""
    model, latents, embedding = load(model_dir, precision)
    lr = 1e-4
    tuned = tune(model, latents, embedding, TuneSettings(1, lr, "adafactor", batch=2))
    for after, before in zip(tuned.unet.parameters(), model.unet.parameters()):
        assert bool(torch.isfinite(after).all())
        delta = after - before.float()
        assert float(delta.pow(2).mean().sqrt()) <= lr * 1.001
        if delta.dim() == 1 and delta.numel() > 1:
            assert float(delta.abs().median()) == pytest.approx(lr, rel=1e-3)


@pytest.fixture(scope="module")
def trained(model_dir):
    """(fixed loss before, after 10 AdamW updates) per precision, and the fp32 per-update losses."""
    results = {}
    for precision in PRECISIONS:
        model, latents, embedding = load(model_dir, precision)
        tuned = tune(model, latents, embedding, TuneSettings(10, 1e-3, "adamw", batch=2))
        assert all(bool(torch.isfinite(p).all()) for p in tuned.unet.parameters())
        assert bool(torch.isfinite(tuned.losses).all()) and tuned.losses.shape == (10,)
        results[precision] = (fixed_loss(model, model.unet, latents, embedding),
                              fixed_loss(model, tuned, latents, embedding))
    return results


@pytest.mark.parametrize("precision", PRECISIONS)
def test_loss_falls_in_every_precision_as_in_fp32(trained, precision):
    before, after = trained[precision]
    assert after < 0.8 * before
    reference = trained["fp32"][1]
    assert abs(after - reference) <= 0.05 * reference  # within 5 % of the fp32 run


def test_micro_batches_accumulate_to_the_whole_batch_gradient():
    torch.manual_seed(0)
    layer = torch.nn.Linear(4, 3)
    data = torch.randn(6, 4)
    calls = []

    def loss(module, batch):
        start = sum(calls)
        calls.append(batch)
        return module(data[start % 6:start % 6 + batch]).pow(2).mean()

    whole = finetune(layer, loss, TuneSettings(1, 0.1, "adamw", batch=6), torch.device("cpu"), torch.float32)
    calls.clear()
    parts = finetune(layer, loss, TuneSettings(1, 0.1, "adamw", batch=6, micro_batch=4), torch.device("cpu"),
                     torch.float32)
    assert calls == [4, 2] and TuneSettings(1, 1.0, batch=6, micro_batch=4).chunks() == [4, 2]
    for a, b in zip(whole.unet.parameters(), parts.unet.parameters()):
        torch.testing.assert_close(a, b)


def test_cross_attention_training_moves_only_the_attn2_layers(model_dir):
    model, latents, embedding = load(model_dir, "fp32")
    tuned = tune(model, latents, embedding, TuneSettings(1, 1e-3, "adafactor", train="cross-attention"))
    for (name, after), before in zip(tuned.unet.named_parameters(), model.unet.parameters()):
        assert torch.equal(after, before) != (".attn2." in name), name


def test_bad_settings_raise_the_projects_error():
    with pytest.raises(InvalidInputError, match="sgd"):
        TuneSettings(1, 1e-4, "sgd")
    with pytest.raises(InvalidInputError, match="lr"):
        TuneSettings(1, 0.0)
    with pytest.raises(InvalidInputError, match="trainable"):
        TuneSettings(1, 1e-4, train="lora")


@pytest.mark.parametrize("precision", ("fp16", "bf16"))
def test_half_precision_fine_tuning_on_the_device(model_dir, device, precision):
    model, latents, embedding = load(model_dir, precision, str(device))
    check_first_update(model, latents, embedding)
    tuned = tune(model, latents, embedding, TuneSettings(10, 1e-3, "adamw", batch=2))
    assert bool(torch.isfinite(tuned.losses).all())
    assert fixed_loss(model, tuned, latents, embedding) < 0.8 * fixed_loss(model, model.unet, latents, embedding)
