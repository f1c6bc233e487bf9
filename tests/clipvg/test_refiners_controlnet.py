"""The mask ControlNet: free-form training masks, the three data strategies, the training script
(a few steps on a tiny UNet/ControlNet, saved and reloaded), and the controlnet-inpaint refiner
using the checkpoint through the CLI."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

pytest.importorskip("diffusers")

from clipvg.errors import InvalidInputError  # noqa: E402
from clipvg.refiners import BACKGROUND_TRIGGER  # noqa: E402
from clipvg.refiners.controlnet_inpaint import ControlNetInpaintRefiner, inpaint_condition  # noqa: E402
from clipvg.refiners.masks import KINDS, background_mask, on_background, random_mask  # noqa: E402
from clipvg.refiners.train_mask_controlnet import main as train_main, make_batch, synthetic_sample  # noqa: E402
from clipvg.svg import load_svg  # noqa: E402
from test_inpaint_cli import disc_photo, run, shapes_clip_args  # noqa: E402
from tiny_diffusion import build_tiny_sd  # noqa: E402


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(tiny SD base, a ControlNet trained 2 steps on synthetic data by the training script)."""
    root = tmp_path_factory.mktemp("controlnet")
    base = build_tiny_sd(root / "sd")
    code = train_main(["--base", str(base), "--output", str(root / "cn"), "--synthetic", "4", "--steps", "2",
                       "--batch-size", "4", "--background-share", "0.5", "--resolution", "32", "--device", "cpu"])
    assert code == 0
    return base, root / "cn"


@pytest.mark.parametrize("kind", KINDS)
def test_free_form_masks_are_never_empty_nor_full(kind):
    rng = np.random.default_rng(0)
    for _ in range(20):
        mask = random_mask(32, 48, rng, kind)
        assert mask.shape == (32, 48) and mask.any() and not mask.all()
    if kind == "border":  # an outpaint border always touches the canvas edge
        assert all(m[0].any() or m[-1].any() or m[:, 0].any() or m[:, -1].any()
                   for m in (random_mask(32, 48, rng, kind) for _ in range(10)))


def test_batches_hold_background_samples_with_the_trigger_caption():
    rng = np.random.default_rng(1)
    samples = [synthetic_sample(32, rng) for _ in range(3)]
    sample = samples[0]
    assert sample.objects.any() and sample.caption.startswith("a ") and " on a " in sample.caption
    mask = background_mask(32, 32, rng, sample.image, sample.objects)
    assert on_background(mask, sample.image, sample.objects) and not (mask & sample.objects).any()
    flat = np.ones((8, 8, 3), np.float32)
    flat[:, 4:] = 0
    assert on_background(np.eye(8, dtype=bool) & (np.arange(8) < 4), flat) is True  # flat region, no object mask
    assert on_background(np.eye(8, dtype=bool), flat) is False
    for _ in range(3):
        pictures, conditions, captions, flags = make_batch(samples, 8, 0.25, rng)
        assert pictures.shape == (8, 3, 32, 32) and conditions.shape == (8, 3, 32, 32)
        assert flags[0] and flags[1]  # round(0.25 * 8) = 2 background-only samples lead every batch
        assert all((BACKGROUND_TRIGGER in c) == f for c, f in zip(captions, flags))
        assert all(bool((cond == -1).any()) for cond in conditions)  # every sample has a masked area


def test_inpaint_condition_marks_masked_pixels_with_minus_one():
    image = torch.full((4, 4, 3), 0.5)
    mask = torch.zeros(4, 4, dtype=torch.bool)
    mask[1, 2] = True
    condition = inpaint_condition(image, mask)
    assert condition.shape == (1, 3, 4, 4) and torch.all(condition[0, :, 1, 2] == -1)
    assert torch.all(condition[0, :, 0, 0] == 0.5)


def test_training_writes_a_checkpoint_the_refiner_loads(trained):
    base, checkpoint = trained
    meta = json.loads((checkpoint / "training.json").read_text())
    assert meta["step"] == 2 and np.isfinite(meta["loss"]) and (checkpoint / "config.json").is_file()
    refiner = ControlNetInpaintRefiner(base, "cpu", controlnet=checkpoint, steps=2)
    assert refiner.pipeline.unet.config.in_channels == 4  # the frozen text-to-image UNet, not an inpainting one
    image = torch.rand(32, 32, 3, generator=torch.Generator().manual_seed(0))
    mask = torch.zeros(32, 32, dtype=torch.bool)
    mask[8:20, 10:24] = True
    refined = refiner.refine(image, mask, "a red circle", seed=0)
    assert torch.equal(refined[~mask], image[~mask]) and not torch.equal(refined[mask], image[mask])
    assert torch.equal(refined, refiner.refine(image, mask, "a red circle", seed=0))
    removed = refiner.refine(image, mask, "a white background", seed=0, remove=True, prior=True)
    assert torch.equal(removed[~mask], image[~mask])


@pytest.mark.parametrize("command", [["inpaint", "--box", "6,8,16,16"], ["outpaint", "--left", "8"]])
def test_controlnet_inpaint_through_the_cli(trained, tmp_path, capsys, command):
    base, checkpoint = trained
    photo = disc_photo(tmp_path / "disc.png", 32)
    code, _, err = run(capsys, command[0], photo, *command[1:], "-o", tmp_path / "c.svg", "--prompt",
                       "a green circle on a white background", "--refiner", "controlnet-inpaint",
                       "--refiner-model", base, "--controlnet-model", checkpoint, "--refiner-steps", "2",
                       "--refit-iterations", "2", *shapes_clip_args(patches=1, iterations=1))
    assert code == 0, err
    scene = load_svg(tmp_path / "c.svg")
    assert (scene.width, scene.height) == ((40, 32) if command[0] == "outpaint" else (32, 32))


def test_missing_controlnet_says_how_to_get_it(trained, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInputError, match="--controlnet-model"):
        ControlNetInpaintRefiner(trained[0], "cpu", controlnet=tmp_path / "empty")
    assert train_main(["--base", str(trained[0]), "--output", str(tmp_path / "x"), "--synthetic", "2",
                       "--steps", "0"]) == 2


def test_a_compressed_controlnet_trains_against_the_frozen_unet_and_drives_the_refiner(tmp_path):
    from diffusers import ControlNetModel, UNet2DConditionModel

    from clipvg.refiners.compressed_controlnet import compressed_class, compressed_from_unet

    base = build_tiny_sd(tmp_path / "sd")
    code = train_main(["--base", str(base), "--output", str(tmp_path / "small"), "--synthetic", "4", "--steps", "2",
                       "--batch-size", "2", "--resolution", "32", "--device", "cpu", "--compress", "0.5",
                       "--lr", "1e-3"])
    assert code == 0
    assert json.loads((tmp_path / "small" / "config.json").read_text())["_class_name"] == "CompressedControlNet"
    unet = UNet2DConditionModel.from_pretrained(base, subfolder="unet")
    untrained = compressed_from_unet(unet, 0.5, (16, 32))
    full = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(16, 32))
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert untrained.config.block_out_channels == (8, 16) and count(untrained) < 0.4 * count(full)
    assert all(not c.weight.detach().any() for c in untrained.controlnet_down_blocks)  # a no-op at the start
    refiner = ControlNetInpaintRefiner(base, "cpu", controlnet=tmp_path / "small", steps=2)
    controlnet = refiner.pipeline.controlnet
    assert isinstance(controlnet, compressed_class()) and count(controlnet) == count(untrained)
    assert any(float(c.weight.abs().max()) > 0 for c in controlnet.controlnet_down_blocks)  # the outputs learned
    image = torch.rand(32, 32, 3, generator=torch.Generator().manual_seed(0))
    mask = torch.zeros(32, 32, dtype=torch.bool)
    mask[8:24, 8:24] = True
    out = refiner.refine(image, mask, "a red circle", seed=0)
    assert torch.equal(out[~mask], image[~mask]) and not torch.equal(out[mask], image[mask])
    with pytest.raises(InvalidInputError, match="compress"):
        compressed_from_unet(unet, 1.5, (16, 32))
