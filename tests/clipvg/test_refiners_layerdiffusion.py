"""LayerDiffusion's latent transparency on a tiny SDXL with weights in the published file layout: the
attention offsets, the transparent decoder (same state-dict layout as the reference UNet1024), the
refiner's transparent layer, the CLI, and the fallback to the difference method."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

pytest.importorskip("diffusers")

from clipvg.errors import InvalidInputError  # noqa: E402
from clipvg.refiners.layerdiffusion import (LayerDiffusionRefiner, apply_offsets, decoder_class,  # noqa: E402
                                            median_of_flips)
from clipvg.svg import load_svg  # noqa: E402
from test_inpaint_cli import disc_photo, run, shapes_clip_args  # noqa: E402
from tiny_diffusion import TINY_DECODER, build_tiny_layer_model, build_tiny_sdxl  # noqa: E402

CLI = ["--refiner-steps", "2", "--refit-iterations", "2"]


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    root = tmp_path_factory.mktemp("layerdiffusion")
    sdxl = build_tiny_sdxl(root / "sdxl")
    return sdxl, build_tiny_layer_model(root / "layers", sdxl)


def test_published_decoder_layout():
    """The default configuration has the reference UNet1024's state dict: 538 tensors, 104,104,804
    parameters (checked key by key and output for output against the reference code once)."""
    with torch.device("meta"):  # shapes only: no 400 MB of random weights
        state = decoder_class()().state_dict()
    assert len(state) == 538 and sum(v.numel() for v in state.values()) == 104_104_804
    assert tuple(state["latent_conv_in.weight"].shape) == (64, 4, 1, 1)  # latent joins at 1/8 size
    assert tuple(state["conv_out.weight"].shape) == (4, 32, 3, 3)  # alpha + RGB
    assert "down_blocks.4.attentions.0.to_q.weight" in state and "mid_block.attentions.0.to_k.weight" in state


def test_offsets_add_to_the_named_weights_and_reject_other_layouts(weights):
    from diffusers import UNet2DConditionModel

    unet = UNet2DConditionModel.from_pretrained(weights[0], subfolder="unet")
    key = "down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q.weight"
    before = unet.state_dict()[key].clone()
    offset = torch.full_like(before, 0.5)
    assert apply_offsets(unet, {key: offset}) == 1
    torch.testing.assert_close(unet.state_dict()[key], before + 0.5)
    with pytest.raises(InvalidInputError, match="SDXL"):
        apply_offsets(unet, {"input_blocks.1.1.proj_in.weight": offset})


def test_decoder_median_of_flips_is_flip_equivariant():
    decoder = decoder_class()(**TINY_DECODER).eval()
    for p in decoder.parameters():
        torch.nn.init.normal_(p, 0, 0.05)
    pixels = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    latent = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        out = median_of_flips(decoder, pixels, latent)
        flipped = median_of_flips(decoder, pixels.flip(3), latent.flip(3))
    assert out.shape == (1, 4, 64, 64) and float(out.min()) >= 0 and float(out.max()) <= 1
    torch.testing.assert_close(out.flip(3), flipped, atol=1e-5, rtol=0)


def test_refiner_generates_a_transparent_layer_inside_the_mask(weights):
    sdxl, layers = weights
    refiner = LayerDiffusionRefiner(sdxl, "cpu", layer_model=layers, steps=2, max_side=64, augment=False)
    assert refiner.fallback is None and refiner.offsets > 0
    image = torch.rand(64, 64, 3, generator=torch.Generator().manual_seed(0))
    mask = torch.zeros(64, 64, dtype=torch.bool)
    mask[8:40, 16:56] = True
    background, foreground = refiner.refine_layers(image, mask, "a red circle", seed=0)
    assert torch.equal(background, image) and foreground.shape == (64, 64, 4)
    assert torch.all(foreground[~mask][:, 3] == 0) and float(foreground[..., 3].max()) > 0
    again = refiner.refine_layers(image, mask, "a red circle", seed=0)[1]
    assert torch.equal(foreground, again)
    composite = refiner.refine(image, mask, "a red circle", seed=0)
    assert torch.equal(composite[~mask], image[~mask])
    with pytest.raises(InvalidInputError, match="remove"):
        refiner.refine(image, mask, "a lawn", remove=True)


def test_layerdiffusion_through_the_cli_writes_a_foreground_layer(weights, tmp_path, capsys):
    sdxl, layers = weights
    photo = disc_photo(tmp_path / "disc.png", 64)
    code, _, err = run(capsys, "inpaint", photo, "--box", "8,8,40,40", "--max-size", "64", "-o", tmp_path / "l.svg",
                       "--prompt", "a green circle", "--refiner", "layerdiffusion", "--refiner-model", sdxl,
                       "--layer-model", layers, "--export-layers", *CLI, *shapes_clip_args(patches=1, iterations=1))
    assert code == 0, err
    scene = load_svg(tmp_path / "l.svg")
    assert "removed" in scene.layer_names and (scene.width, scene.height) == (64, 64)
    pngs = sorted((tmp_path / "l_layers").glob("*.png"))
    assert pngs and all(np.asarray(Image.open(p)).shape[-1] == 4 for p in pngs)


def test_without_layerdiffusion_weights_it_falls_back_to_the_difference_method(weights, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.warns(RuntimeWarning, match="difference method"):
        refiner = LayerDiffusionRefiner(weights[0], "cpu", layer_model=tmp_path / "empty", steps=2)
    assert refiner.fallback is not None
    image = torch.rand(64, 64, 3, generator=torch.Generator().manual_seed(0))
    mask = torch.zeros(64, 64, dtype=torch.bool)
    mask[8:40, 16:56] = True
    background, foreground = refiner.refine_layers(image, mask, "a red circle", seed=0)
    assert torch.equal(background[~mask], image[~mask]) and torch.all(foreground[~mask][:, 3] == 0)
    with pytest.raises(InvalidInputError, match="huggingface-cli download"):
        LayerDiffusionRefiner(weights[0], "cpu", layer_model=tmp_path / "empty", fallback=False)
