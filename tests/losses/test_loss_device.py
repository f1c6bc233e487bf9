"""The ROI CLIP loss on each device: CUDA (fp32 and fp16 autocast) against the CPU, finite gradients
under autocast, seeded views, and bit-identical repeats with views resampled on the CPU."""

from pathlib import Path

import pytest
import torch

import losses
from clipvg.edit.editor import deterministic

TINY_CONFIG = Path(__file__).with_name("tiny_clip.json")
ROIS = [losses.ROI("a red square", num_patches=6), losses.ROI("a blue circle", (8, 4, 24, 20), num_patches=4)]


def _source() -> torch.Tensor:
    return torch.rand(40, 48, 3, generator=torch.Generator().manual_seed(0))


def _loss_and_gradient(clip: losses.ClipModel, device: torch.device, **kwargs) -> tuple[float, torch.Tensor]:
    loss_fn = losses.ROIClipLoss(clip, ROIS, _source().to(device), generator=torch.Generator().manual_seed(3),
                                 **kwargs)
    image = (_source() * 0.8 + 0.1).to(device).requires_grad_(True)
    loss = loss_fn(image)
    loss.backward()
    return loss.item(), image.grad.cpu()


def test_loss_is_seeded_and_finite_on_each_device(device):
    clip = losses.load_clip(TINY_CONFIG, None, device=device)
    first, grad = _loss_and_gradient(clip, device)
    second, _ = _loss_and_gradient(clip, device)
    assert first == pytest.approx(second, rel=1e-5) and torch.isfinite(grad).all() and grad.abs().sum() > 0


@pytest.mark.parametrize("precision, tolerance", [("fp32", 1e-4), ("fp16", 2e-2)])
def test_cuda_matches_cpu(cuda_device, precision, tolerance):
    cpu_loss, cpu_grad = _loss_and_gradient(losses.load_clip(TINY_CONFIG, None, device="cpu"), torch.device("cpu"))
    clip = losses.load_clip(TINY_CONFIG, None, device=cuda_device, precision=precision)
    cuda_loss, cuda_grad = _loss_and_gradient(clip, cuda_device)
    assert cuda_loss == pytest.approx(cpu_loss, rel=tolerance, abs=tolerance)
    assert torch.isfinite(cuda_grad).all()
    cosine = torch.nn.functional.cosine_similarity(cpu_grad.flatten(), cuda_grad.flatten(), dim=0)
    assert cosine > 1 - tolerance


def test_views_resampled_on_the_cpu_repeat_bit_for_bit(cuda_device):
    clip = losses.load_clip(TINY_CONFIG, None, device=cuda_device)
    with deterministic():
        runs = [_loss_and_gradient(clip, cuda_device, view_device="cpu") for _ in range(2)]
    assert runs[0][0] == runs[1][0] and torch.equal(runs[0][1], runs[1][1])
