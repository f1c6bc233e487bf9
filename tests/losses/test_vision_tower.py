"""The lean image tower (losses.vision_tower, losses.cpu_matmul) against open_clip's own forward:
same embeddings and input gradients (float64 to rounding, float32 within float tolerance), same ROI
loss and gradient, and open_clip's forward kept for towers it does not cover."""
import json

import pytest
import torch
import torch.nn.functional as F

import losses
from losses import cpu_matmul, vision_tower


def _images(count: int, size: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    generator = torch.Generator().manual_seed(1)
    return torch.rand(count, 3, size, size, generator=generator, dtype=dtype).requires_grad_(True)


def _embed_and_grad(forward, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Embeddings ``(B, D)`` and the gradient of a fixed weighted sum of them w.r.t. ``images``."""
    images.grad = None
    embedded = forward(images)
    weights = torch.linspace(-1, 1, embedded.numel(), dtype=embedded.dtype).view_as(embedded)
    (embedded * weights).sum().backward()
    return embedded.detach(), images.grad.clone()


@pytest.mark.parametrize("which", ["tiny", "shapes"])
def test_lean_tower_is_open_clips_forward_in_float64(which, tiny_clip, shapes_clip):
    clip = {"tiny": tiny_clip, "shapes": shapes_clip}[which]
    visual = clip.model.visual
    assert vision_tower.supports(visual)
    try:
        visual.double()
        images = _images(3, clip.image_size, torch.float64)
        lean = _embed_and_grad(lambda x: vision_tower.encode_image(visual, x), images)
        reference = _embed_and_grad(visual, images)
    finally:
        visual.float()
    torch.testing.assert_close(lean[0], reference[0], rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(lean[1], reference[1], rtol=1e-10, atol=1e-12)


def test_lean_roi_loss_and_gradient_match_open_clips_forward_in_float32(shapes_clip):
    image = torch.rand(96, 80, 3, generator=torch.Generator().manual_seed(2))
    source = torch.rand(96, 80, 3, generator=torch.Generator().manual_seed(3))
    results = []
    for lean in (True, False):
        shapes_clip.lean = lean
        try:
            loss_fn = losses.ROIClipLoss(shapes_clip, [losses.ROI("a red circle", num_patches=6),
                                                       losses.ROI("a blue square", box=(10, 20, 40, 50), num_patches=3)],
                                         source, generator=torch.Generator().manual_seed(0))
            pixels = image.clone().requires_grad_(True)
            loss = loss_fn(pixels)
            loss.backward()
            results.append((loss.detach(), pixels.grad))
        finally:
            shapes_clip.lean = True
    (loss, grad), (ref_loss, ref_grad) = results
    torch.testing.assert_close(loss, ref_loss, rtol=1e-5, atol=1e-5)
    assert (grad - ref_grad).norm() / ref_grad.norm() < 1e-4


@pytest.mark.parametrize("batch, tokens, inputs, outputs", [(5, 7, 48, 96), (4, 50, 256, 256)])  # tiny; ViT-like
def test_frozen_linear_through_onednn_equals_f_linear_forward_and_backward(batch, tokens, inputs, outputs):
    generator = torch.Generator().manual_seed(4)
    x = torch.randn(batch, tokens, inputs, generator=generator, requires_grad=True)
    weight, bias = torch.randn(outputs, inputs, generator=generator), torch.randn(outputs, generator=generator)
    out = cpu_matmul.linear(x, weight, bias)
    grad_out = torch.randn(out.shape, generator=generator)
    (grad,) = torch.autograd.grad(out, x, grad_out)
    reference = F.linear(x.double(), weight.double(), bias.double())
    (ref_grad,) = torch.autograd.grad(reference, x, grad_out.double())
    atol = 1e-6 * inputs  # float32 sums of ``inputs`` terms of size ~1; bf16 inputs are ~1e3 times further off
    torch.testing.assert_close(out.double(), reference, rtol=1e-5, atol=atol)
    torch.testing.assert_close(grad.double(), ref_grad.double(), rtol=1e-5, atol=atol)
    assert ("FrozenLinear" in type(out.grad_fn).__name__) == cpu_matmul.onednn_exact()
    assert torch.backends.mkldnn.matmul.fp32_precision != "bf16"  # the process-wide setting is restored


def test_a_trainable_weight_gets_its_gradient():
    weight = torch.randn(4, 3, requires_grad=True)
    x = torch.randn(2, 3)
    cpu_matmul.linear(x, weight).sum().backward()
    torch.testing.assert_close(weight.grad, x.sum(0).expand(4, 3))


def test_towers_it_does_not_cover_keep_open_clips_forward(tmp_path):
    config = {"embed_dim": 16, "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "head_width": 16,
                                               "patch_size": 8, "ls_init_value": 0.5},
              "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 16, "heads": 2, "layers": 1}}
    path = tmp_path / "layerscale_clip.json"
    path.write_text(json.dumps(config))
    clip = losses.load_clip(path, pretrained=None, device="cpu")
    assert not vision_tower.supports(clip.model.visual)
    images = _images(2, 32)
    embedded = clip.encode_image(images)
    clip.lean = False
    assert torch.equal(embedded, clip.encode_image(images))


def test_the_onednn_probe_ignores_an_enclosing_autocast():
    """A bf16 CLIP's first step may be the probe's first call: it must not cache bf16's error as
    oneDNN's (the float32 CLIP then ran on MKL at half the rate)."""
    cpu_matmul.onednn_exact.cache_clear()
    try:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            under_autocast = cpu_matmul.onednn_exact()
        cpu_matmul.onednn_exact.cache_clear()
        assert under_autocast == cpu_matmul.onednn_exact()
    finally:
        cpu_matmul.onednn_exact.cache_clear()
