"""Diffusion refiners on tiny components built from configs (no downloads): SD inpaint, Imagic,
UniTune and the layered mode, end to end through the CLI, plus Imagic's eta-0 reconstruction."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

pytest.importorskip("diffusers")

from clipvg.errors import InvalidInputError  # noqa: E402
from clipvg.refiners import make_refiner, refit  # noqa: E402
from clipvg.refiners.imagic import ImagicRefiner  # noqa: E402
from clipvg.svg import load_svg  # noqa: E402
from edit_scenes import RED, circles_scene  # noqa: E402
from test_inpaint_cli import disc_photo, run, shapes_clip_args  # noqa: E402
from tiny_diffusion import build_tiny_sd  # noqa: E402

TUNE = ["--refiner-steps", "2", "--tune-steps", "2", "--refit-iterations", "2"]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny_sd")
    return {"sd": build_tiny_sd(root / "sd"), "inpaint": build_tiny_sd(root / "inpaint", inpaint=True)}


@pytest.fixture(scope="module")
def clip_args():
    return shapes_clip_args(patches=1, iterations=1)


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    return disc_photo(tmp_path_factory.mktemp("photo") / "disc.png", 32)


@pytest.mark.parametrize("command, refiner", [
    (["inpaint", "--box", "6,8,16,16"], "sd-inpaint"),
    (["inpaint", "--box", "6,8,16,16", "--remove"], "sd-inpaint"),
    (["outpaint", "--left", "8"], "sd-inpaint"),
    (["outpaint", "--right", "8"], "imagic"),
    (["inpaint", "--box", "6,8,16,16"], "unitune"),
    (["edit"], "sd-inpaint"),
    (["edit"], "imagic"),
])
def test_refiner_through_the_cli_gives_a_vector_scene(photo, tmp_path, capsys, clip_args, models, command,
                                                      refiner):
    model = models["inpaint" if refiner == "sd-inpaint" else "sd"]
    code, _, err = run(capsys, command[0], photo, *command[1:], "-o", tmp_path / "r.svg", "--prompt",
                       "a green circle on a white background", "--refiner", refiner, "--refiner-model", model,
                       *TUNE, *clip_args)
    assert code == 0, err
    scene = load_svg(tmp_path / "r.svg")
    assert (scene.width, scene.height) == ((40, 32) if command[0] == "outpaint" else (32, 32))
    assert scene.num_paths > 0


def test_layered_mode_writes_a_transparent_foreground_layer(photo, tmp_path, capsys, clip_args, models):
    code, _, err = run(capsys, "inpaint", photo, "--box", "6,8,16,16", "-o", tmp_path / "l.svg", "--prompt",
                       "a green circle on a white background", "--refiner", "sd-inpaint", "--refiner-model",
                       models["inpaint"], "--layered", "--export-layers", *TUNE, *clip_args)
    assert code == 0, err
    scene = load_svg(tmp_path / "l.svg")
    assert "removed" in scene.layer_names and (scene.width, scene.height) == (32, 32)
    pngs = sorted((tmp_path / "l_layers").glob("*.png"))
    assert pngs and all(np.asarray(Image.open(p)).shape[-1] == 4 for p in pngs)


def test_missing_weights_say_how_to_get_them(tmp_path, photo, capsys, clip_args):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInputError, match="download"):
        make_refiner("imagic", tmp_path / "empty", "cpu")
    code, _, err = run(capsys, "inpaint", photo, "--box", "6,8,16,16", "-o", tmp_path / "x.svg", "--prompt", "x y",
                       "--refiner", "sd-inpaint", "--refiner-model", tmp_path / "empty", *clip_args)
    assert code == 2 and "huggingface-cli download" in err and len(err.strip().splitlines()) == 1


def test_imagic_eta_zero_is_the_fine_tuned_reconstruction(models):
    refiner = ImagicRefiner(models["sd"], "cpu", embed_steps=3, embed_lr=1e-2, finetune_steps=2, finetune_lr=1e-4,
                            steps=2, guidance=1.0)
    image = torch.rand(32, 32, 3, generator=torch.Generator().manual_seed(0))
    state = refiner.fit(image, "a red circle", seed=0)
    assert not torch.equal(state.e_opt, state.e_tgt)  # the embedding moved to reconstruct the photo
    assert torch.equal(refiner.interpolate(state, 0.0), state.e_opt)
    assert torch.equal(refiner.interpolate(state, 1.0), state.e_tgt)
    latents, reconstruction = refiner.sample(state, state.e_opt, seed=5)
    latents0, image0 = refiner.sample(state, refiner.interpolate(state, 0.0), seed=5)
    assert torch.equal(latents, latents0) and torch.equal(reconstruction, image0)
    latents1, _ = refiner.sample(state, refiner.interpolate(state, 1.0), seed=5)
    assert not torch.equal(latents, latents1)
    mask = torch.ones(32, 32, dtype=torch.bool)
    refined = refiner.refine(image, mask, "a red circle", seed=0, eta=0.0)
    assert torch.equal(refined, refiner.sample(refiner.fit(image, "a red circle", seed=0), state.e_opt, seed=0)[1])
    assert state.unet is not refiner.model.unet  # fine-tuned on a copy: the loaded UNet stays as it was


def test_refit_fits_the_chosen_paths_and_leaves_the_others():
    scene = circles_scene((16.3, 16.2, 7, RED), size=32)
    target = torch.ones(32, 32, 3)
    target[8:24, 8:24] = torch.tensor([0.1, 0.7, 0.15])  # a green square where the red circle is
    paths = torch.tensor([False, True])
    fitted = refit(scene, target, paths, iterations=30)
    assert torch.equal(fitted.points[:4], scene.points[:4]) and torch.equal(fitted.fill_color[0], scene.fill_color[0])
    from clipvg.render import render
    error = lambda s: float(((render(s, background=(1, 1, 1))[..., :3] - target) ** 2).mean())  # noqa: E731
    assert error(fitted) < 0.5 * error(scene)
