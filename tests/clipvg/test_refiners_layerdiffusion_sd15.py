"""LayerDiffusion's public weight layouts on tiny UNets: the ldm -> diffusers names (against diffusers'
own checkpoint converter), the SDXL frozen patches (LoRA and dense offsets, the conditional models'
widened conv_in and concatenated latent), the SD 1.5 attention sharing (against a by-hand
computation from the file's tensors), and the SD 1.5 refiner in each mode and precision."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

pytest.importorskip("diffusers")

from clipvg.errors import InvalidInputError  # noqa: E402
from clipvg.refiners.layerdiffusion_sd15 import MODES, LayerDiffusionSD15Refiner  # noqa: E402
from clipvg.refiners.layerdiffusion_sharing import SharingState, attention_names, load_sharing  # noqa: E402
from clipvg.refiners.layerdiffusion_weights import (RESNET_NAMES, apply_patch_offsets, concat_condition,  # noqa: E402
                                                    diffusers_name, ldm_names, patch_offsets, restore_weights)
from clipvg.refiners.registry import build_refiner  # noqa: E402
from tiny_diffusion import build_tiny_sd, build_tiny_sd15_layer_model, build_tiny_sdxl, public_sharing_state  # noqa: E402

# the public SD 1.5 attention-sharing order (lllyasviel/sd-forge-layerdiffuse, attention_sharing.py)
PUBLIC_SD15_ORDER = ([f"input_blocks.{n}.1" for n in (1, 2, 4, 5, 7, 8)] +
                     [f"output_blocks.{n}.1" for n in range(3, 12)] + ["middle_block.1"])


def sd15_shaped_unet():
    """SD 1.5's block structure (4 levels, 2 layers a block, attention in the first three) at tiny widths."""
    from diffusers import UNet2DConditionModel

    torch.manual_seed(0)
    return UNet2DConditionModel(block_out_channels=(8, 16, 16, 16), layers_per_block=2, cross_attention_dim=8,
                                attention_head_dim=2, norm_num_groups=4,
                                down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
                                up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3)


def to_ldm(key: str, names: dict) -> str:
    """The ldm name of diffusers ``key`` (inverting ``ldm_names``)."""
    for prefix, (target, resnet) in sorted(names.items(), key=lambda item: -len(item[1][0])):
        if key.startswith(target):
            rest = key[len(target):]
            if not resnet:
                return prefix + rest
            inner = next((a for a, b in RESNET_NAMES.items() if rest.startswith(b)), None)
            if inner is not None:
                return prefix + inner + rest[len(RESNET_NAMES[inner]):]
    raise AssertionError(f"no ldm name for {key}")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("ld15")
    sd = build_tiny_sd(root / "sd", vae_levels=4)
    return sd, build_tiny_sd15_layer_model(root / "layers", sd), root


@pytest.fixture(scope="module")
def tiny_unet(tiny):
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel.from_pretrained(tiny[0], subfolder="unet")


@pytest.mark.parametrize("shape", ["sd15", "sdxl"])
def test_ldm_names_agree_with_diffusers_checkpoint_converter(shape, tmp_path):
    from diffusers import UNet2DConditionModel
    from diffusers.loaders.single_file_utils import convert_ldm_unet_checkpoint

    unet = sd15_shaped_unet() if shape == "sd15" else UNet2DConditionModel.from_pretrained(
        build_tiny_sdxl(tmp_path / "xl"), subfolder="unet")
    names, state = ldm_names(unet.config), unet.state_dict()
    ldm = {"model.diffusion_model." + to_ldm(k, names): v for k, v in state.items()}
    assert [diffusers_name(k, names) for k in ldm] == list(state)
    converted = convert_ldm_unet_checkpoint(ldm, dict(unet.config))
    assert set(converted) == set(state) and all(torch.equal(converted[k], state[k]) for k in state)


def test_sharing_order_is_the_public_sd15_order():
    unet = sd15_shaped_unet()
    names = ldm_names(unet.config)
    layers = [to_ldm(name + ".to_q.weight", names).removesuffix(".to_q.weight") for name in attention_names(unet)]
    assert layers == [f"{block}.transformer_blocks.0.{kind}" for block in PUBLIC_SD15_ORDER for kind in ("attn1", "attn2")]


def test_frozen_patches_add_lora_and_widen_conv_in_for_the_concatenated_latent(tmp_path):
    from diffusers import UNet2DConditionModel

    unet = UNet2DConditionModel.from_pretrained(build_tiny_sdxl(tmp_path / "xl"), subfolder="unet")
    g = torch.Generator().manual_seed(0)
    q = "diffusion_model.input_blocks.3.1.transformer_blocks.0.attn1.to_q.weight"  # level 1, layer 0 (1 per block)
    up, down, alpha = torch.randn(32, 4, generator=g), torch.randn(4, 32, generator=g), torch.tensor(2.0)
    conv = torch.randn(16, 8, 3, 3, generator=g) * 0.1  # conv_in: 4 more input channels (the condition latent)
    state = {f"{q}::lora::0": up, f"{q}::lora::1": down, f"{q}::lora::2": alpha,
             "diffusion_model.input_blocks.0.0.weight::diff::0": conv}
    base_q = unet.down_blocks[1].attentions[0].transformer_blocks[0].attn1.to_q.weight.detach().clone()
    base_conv = unet.conv_in.weight.detach().clone()
    backup = apply_patch_offsets(unet, patch_offsets(state, unet, "layer_xl_fg2ble.safetensors"))
    torch.testing.assert_close(unet.down_blocks[1].attentions[0].transformer_blocks[0].attn1.to_q.weight,
                               base_q + alpha / 4 * up @ down)
    widened = torch.cat([base_conv, torch.zeros(16, 4, 3, 3)], 1) + conv
    torch.testing.assert_close(unet.conv_in.weight, widened)
    sample, condition = torch.randn(2, 4, 8, 8, generator=g), torch.randn(1, 4, 8, 8, generator=g)
    with concat_condition(unet, condition):
        first = unet.conv_in(torch.cat([sample, condition.expand(2, -1, -1, -1)], 1))
        torch.testing.assert_close(first, F.conv2d(torch.cat([sample, condition.repeat(2, 1, 1, 1)], 1), widened,
                                                   unet.conv_in.bias, padding=1))
        hooked = unet.conv_in(sample)  # the hook adds the condition channels itself
    torch.testing.assert_close(hooked, first)
    restore_weights(unet, backup)
    assert torch.equal(unet.conv_in.weight, base_conv) and unet.conv_in.in_channels == 4


def test_frozen_patch_errors_name_the_file_and_key(tiny_unet):
    with pytest.raises(InvalidInputError, match=r"fg2ble.safetensors.*'input_blocks\.99"):
        patch_offsets({"input_blocks.99.1.proj_in.weight::diff::0": torch.zeros(1)}, tiny_unet, "fg2ble.safetensors")
    with pytest.raises(InvalidInputError, match="not a LayerDiffusion patch"):
        patch_offsets({"hookers.layers.0.temporal_i.weight": torch.zeros(1)}, tiny_unet, "x.safetensors")
    with pytest.raises(InvalidInputError, match="unknown patch kind 'loha'"):
        patch_offsets({"out.2.weight::loha::0": torch.zeros(1)}, tiny_unet, "x.safetensors")


def test_sharing_loader_rejects_other_layouts(tiny_unet):
    from diffusers import UNet2DConditionModel

    unet = UNet2DConditionModel.from_config(tiny_unet.config)
    state = public_sharing_state(unet, 2, True)
    for broken, match in (({**state, "hookers.layers.99.temporal_i.weight": torch.zeros(1)}, "unknown key"),
                          ({k: v for k, v in state.items() if "temporal_q.bias" not in k}, "missing key"),
                          ({**state, "hookers.layers.0.temporal_i.bias": torch.zeros(3)}, "mis-shaped key")):
        with pytest.raises(InvalidInputError, match=f"bg2fg.safetensors: {match}"):
            load_sharing(unet, broken, 2, True, "bg2fg.safetensors")


def by_hand_attention(q, k, v, heads):
    """softmax(q k^T / sqrt(d)) v per head, (N, C) tensors."""
    d = q.shape[1] // heads
    outs = []
    for h in range(heads):
        s = slice(h * d, (h + 1) * d)
        outs.append(torch.softmax(q[:, s] @ k[:, s].T / math.sqrt(d), -1) @ v[:, s])
    return torch.cat(outs, 1)


def by_hand_layer(state, i, attn, hidden, context, control, mark, prompts, frames):
    """The public attention-sharing layer ``i`` from the file's tensors, row by row (row = sample * frames + frame)."""
    p = f"hookers.layers.{i}."

    def lora(name, f, x, base):
        w = base.weight + state[f"{p}{name}_lora.{f}.up.weight"] @ state[f"{p}{name}_lora.{f}.down.weight"]
        return x @ w.T + (0 if base.bias is None else base.bias)

    ys = []
    for r in range(hidden.shape[0]):
        f = r % frames
        x = hidden[r]
        if control is not None:
            c = F.silu(F.conv2d(control, state[f"{p}control_convs.{f}.0.weight"], state[f"{p}control_convs.{f}.0.bias"],
                                padding=1))
            c = F.conv2d(c, state[f"{p}control_convs.{f}.2.weight"], state[f"{p}control_convs.{f}.2.bias"])
            x = x + c[0].flatten(1).T
        ctx = x if context is None else (prompts[f][0] if mark[r] == 0 else context[r])
        o = by_hand_attention(lora("to_q", f, x, attn.to_q), lora("to_k", f, ctx, attn.to_k),
                              lora("to_v", f, ctx, attn.to_v), attn.heads)
        ys.append(x + lora("to_out", f, o, attn.to_out[0]))
    y = torch.stack(ys)
    t = F.layer_norm(y, y.shape[-1:], state[f"{p}temporal_n.weight"], state[f"{p}temporal_n.bias"], 1e-6)
    t = t @ state[f"{p}temporal_i.weight"].T + state[f"{p}temporal_i.bias"]
    z = y.clone()
    for b in range(hidden.shape[0] // frames):
        for n in range(hidden.shape[1]):
            seq = t[b * frames:(b + 1) * frames, n]
            qkv = [seq @ state[f"{p}temporal_{m}.weight"].T + state[f"{p}temporal_{m}.bias"] for m in "qkv"]
            o = by_hand_attention(*qkv, attn.heads) @ state[f"{p}temporal_o.weight"].T + state[f"{p}temporal_o.bias"]
            z[b * frames:(b + 1) * frames, n] += o
    return z - hidden


@pytest.mark.parametrize("cross", [False, True])
def test_attention_sharing_matches_the_by_hand_computation(tiny_unet, cross):
    from diffusers import UNet2DConditionModel

    unet = UNet2DConditionModel.from_config(tiny_unet.config)
    unet.load_state_dict(tiny_unet.state_dict())
    frames = 2
    state = public_sharing_state(unet, frames, True, scale=0.05)
    sharing = load_sharing(unet, state, frames, True, "bg2fg.safetensors")
    index = 1 if cross else 0  # down_blocks.1.attentions.0: attn1, attn2 (16 tokens at 4 x 4)
    name = attention_names(unet)[index]
    attn = unet.get_submodule(name)
    g = torch.Generator().manual_seed(4)
    picture = torch.rand(1, 3, 64, 64, generator=g)
    hidden = torch.randn(2 * frames, 16, 32, generator=g)  # uncond rows then cond rows, frames interleaved
    context = torch.randn(2 * frames, 5, 16, generator=g) if cross else None
    prompts = [torch.randn(1, 5, 16, generator=g) for _ in range(frames)]
    mark = torch.tensor([1.0, 1.0, 0.0, 0.0])
    control = sharing.encode(picture)
    sharing.set_state(SharingState(cond_mark=mark, prompts=prompts, control=control))
    with torch.no_grad():
        ours = attn(hidden, encoder_hidden_states=context)
        expected = by_hand_layer(state, index, attn, hidden, context, control[16], mark, prompts, frames)
    torch.testing.assert_close(ours, expected, atol=2e-5, rtol=1e-4)
    assert set(control) == {64, 16, 4, 1} and control[64].shape == (1, 256, 8, 8)  # 1/8 ... 1/64 of 64 px


def square_mask():
    mask = torch.zeros(64, 64, dtype=torch.bool)
    mask[8:40, 16:56] = True
    return mask


@pytest.mark.parametrize("mode,precision", [(m, "fp32") for m in MODES] + [("bg2fg", "fp16"), ("bg2fg", "bf16"),
                                                                           ("joint", "fp16"), ("joint", "bf16")])
def test_refiner_modes_keep_pixels_outside_the_mask(tiny, mode, precision):
    sd, layers, _ = tiny
    refiner = LayerDiffusionSD15Refiner(sd, "cpu", mode=mode, layer_model=layers, steps=2, max_side=64,
                                        augment=False, precision=precision, frame_prompts={"blend": "a garden"})
    assert refiner.fallback is None and refiner.pipeline.unet.dtype == {"fp32": torch.float32, "fp16": torch.float16,
                                                                        "bf16": torch.bfloat16}[precision]
    image, mask = torch.rand(64, 64, 3, generator=torch.Generator().manual_seed(0)), square_mask()
    background, foreground = refiner.refine_layers(image, mask, "a red circle", seed=0)
    assert torch.isfinite(background).all() and torch.isfinite(foreground).all()
    assert torch.equal(background[~mask], image[~mask]) and torch.all(foreground[~mask][:, 3] == 0)
    if mode in ("fg2bg", "joint"):  # a new background inside the mask
        assert not torch.equal(background[mask], image[mask])
    if mode == "fg2bg":  # the mask's content is the foreground
        assert torch.equal(foreground[mask][:, :3], image[mask]) and torch.all(foreground[mask][:, 3] == 1)
    again = refiner.refine_layers(image, mask, "a red circle", seed=0)
    assert torch.equal(again[0], background) and torch.equal(again[1], foreground)
    composite = refiner.refine(image, mask, "a red circle", seed=0)
    assert torch.isfinite(composite).all() and torch.equal(composite[~mask], image[~mask])


def test_conditional_modes_see_their_condition_picture(tiny):
    sd, layers, _ = tiny
    refiner = LayerDiffusionSD15Refiner(sd, "cpu", mode="bg2fg", layer_model=layers, steps=2, max_side=64,
                                        augment=False)
    mask = square_mask()
    first = torch.rand(64, 64, 3, generator=torch.Generator().manual_seed(0))
    second = torch.rand(64, 64, 3, generator=torch.Generator().manual_seed(1))
    assert not torch.equal(refiner.refine_layers(first, mask, "a cat")[1], refiner.refine_layers(second, mask, "a cat")[1])
    with pytest.raises(InvalidInputError, match="remove"):
        refiner.refine(first, mask, "a lawn", remove=True)


def test_registry_builds_each_mode_and_falls_back_without_weights(tiny):
    sd, layers, root = tiny
    refiner = build_refiner("layerdiffusion-sd15", sd, "cpu", {"layer_model": str(layers), "layer_mode": "fg2bg",
                                                                "refiner_steps": 2})
    assert refiner.mode == "fg2bg" and refiner.steps == 2 and refiner.decoder is None
    with pytest.raises(InvalidInputError, match="layer_mode must be one of"):
        build_refiner("layerdiffusion-sd15", sd, "cpu", {"layer_mode": "sideways"})
    (root / "empty").mkdir(exist_ok=True)
    with pytest.raises(InvalidInputError, match="layer_sd15_joint.safetensors.*huggingface-cli download"):
        LayerDiffusionSD15Refiner(sd, "cpu", mode="joint", layer_model=root / "empty", fallback=False)
    with pytest.warns(RuntimeWarning, match="difference method"):
        fallback = LayerDiffusionSD15Refiner(sd, "cpu", mode="joint", layer_model=root / "empty", steps=2)
    assert fallback.fallback is not None
