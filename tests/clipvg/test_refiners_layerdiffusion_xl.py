"""LayerDiffusion's SDXL conditional layer models on a tiny SDXL with files in the public frozen-patch
layout: both modes through the registry, masks, precision, determinism, and the UNet put back."""
from __future__ import annotations

import pytest
import torch

pytest.importorskip("diffusers")

from clipvg.errors import InvalidInputError  # noqa: E402
from clipvg.refiners.layerdiffusion import LayerDiffusionRefiner  # noqa: E402
from clipvg.refiners.layerdiffusion_xl import LayerDiffusionXLCondRefiner  # noqa: E402
from clipvg.refiners.registry import build_refiner  # noqa: E402
from tiny_diffusion import build_tiny_layer_model, build_tiny_sdxl, build_tiny_xl_cond_layer_model  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("ldxl")
    return build_tiny_sdxl(root / "sdxl"), build_tiny_xl_cond_layer_model(root / "layers"), root


@pytest.mark.parametrize("mode,precision", [("bg2fg", "fp32"), ("fg2bg", "fp32"), ("bg2fg", "bf16"), ("fg2bg", "fp16")])
def test_conditional_modes_paint_inside_the_mask_and_restore_the_unet(tiny, mode, precision):
    sdxl, layers, _ = tiny
    outer = build_refiner("layerdiffusion", sdxl, "cpu", {"layer_model": str(layers), "layer_mode": mode,
                                                         "refiner_steps": 2, "refiner_precision": precision})
    refiner = outer.conditional
    assert isinstance(refiner, LayerDiffusionXLCondRefiner) and refiner.fallback is None and outer.fallback is None
    refiner.max_side, refiner.augment = 64, False
    unet = refiner.pipeline.unet
    before = {k: v.clone() for k, v in unet.state_dict().items()}
    image = torch.rand(64, 64, 3, generator=torch.Generator().manual_seed(0))
    mask = torch.zeros(64, 64, dtype=torch.bool)
    mask[8:40, 16:56] = True
    background, foreground = refiner.refine_layers(image, mask, "a red circle", seed=0)
    assert torch.isfinite(background).all() and torch.isfinite(foreground).all()
    assert torch.equal(background[~mask], image[~mask]) and torch.all(foreground[~mask][:, 3] == 0)
    assert unet.conv_in.in_channels == 4 and all(torch.equal(before[k], v) for k, v in unet.state_dict().items())
    again = refiner.refine_layers(image, mask, "a red circle", seed=0)
    assert torch.equal(again[0], background) and torch.equal(again[1], foreground)
    other = torch.rand(64, 64, 3, generator=torch.Generator().manual_seed(1))
    changed = refiner.refine_layers(other, mask, "a red circle", seed=0)
    index = 1 if mode == "bg2fg" else 0  # the generated layer depends on the condition picture
    assert not torch.equal(changed[index], (background, foreground)[index])
    composite = outer.refine(image, mask, "a red circle", seed=0, remove=mode == "fg2bg")
    assert torch.equal(composite[~mask], image[~mask])


def test_mode_choice_and_missing_files(tiny, tmp_path):
    sdxl, layers, _ = tiny
    transparent = build_refiner("layerdiffusion", sdxl, "cpu", {"layer_model": str(build_tiny_layer_model(
        tmp_path / "t", sdxl)), "refiner_steps": 2})
    assert isinstance(transparent, LayerDiffusionRefiner) and transparent.conditional is None
    with pytest.raises(InvalidInputError, match="joint is SD 1.5 only"):
        build_refiner("layerdiffusion", sdxl, "cpu", {"layer_model": str(layers), "layer_mode": "joint"})
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInputError, match="layer_xl_fg2ble.safetensors"):
        LayerDiffusionXLCondRefiner(sdxl, "cpu", mode="fg2bg", layer_model=tmp_path / "empty", fallback=False)
