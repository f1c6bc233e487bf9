"""The renderer on each device: CUDA agrees with the CPU (pixels and gradients), chunked rendering
with recomputation agrees with one pass, and repeated renders are identical."""
from __future__ import annotations

import pytest
import torch

from clipvg.render import torch_backend
from clipvg.render import render
from clipvg.svg import load_svg
from render_samples import RENDER_SAMPLES

# float32 on both devices: atomics and fused multiply-adds reorder sums, nothing more
PIXEL_ATOL = 2e-5
GRADIENT_COSINE = 0.9999


def _scene(name: str, device: torch.device):
    """A render sample moved off the pixel grid: where an edge lies exactly on a pixel boundary the
    gradient is one-sided, and which side float32 rounding picks differs between summation orders."""
    scene = load_svg(RENDER_SAMPLES[name], device=device)
    scene.points = scene.points + torch.tensor([0.37, 0.21], device=device)
    return scene


def _render_with_gradients(scene) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Image (H, W, 4) on white and the gradients of a fixed random weighting of it (zeros for a parameter
    the image does not use, such as the stroke widths of a scene without strokes)."""
    params = scene.parameters(points=True, colors=True, stroke_widths=True)
    image = render(scene, background=(1.0, 1.0, 1.0))
    weights = torch.rand(image.shape, generator=torch.Generator().manual_seed(0)).to(image.device)
    (image * weights).sum().backward()
    return image.detach().cpu(), [torch.zeros_like(p, device="cpu") if p.grad is None else p.grad.detach().cpu()
                                   for p in params]


@pytest.mark.parametrize("name", sorted(RENDER_SAMPLES))
def test_cuda_matches_cpu_pixels_and_gradients(name, cuda_device):
    cpu_image, cpu_grads = _render_with_gradients(_scene(name, torch.device("cpu")))
    gpu_image, gpu_grads = _render_with_gradients(_scene(name, cuda_device))
    torch.testing.assert_close(gpu_image, cpu_image, atol=PIXEL_ATOL, rtol=0)
    for cpu, gpu in zip(cpu_grads, gpu_grads):
        if cpu.norm() == 0:
            assert gpu.norm() < 1e-6
            continue
        cosine = torch.nn.functional.cosine_similarity(cpu.flatten().double(), gpu.flatten().double(), dim=0)
        assert cosine > GRADIENT_COSINE


@pytest.mark.parametrize("name", ["opacity_stack", "stroke_styles"])
def test_chunked_render_equals_one_pass(name, device, monkeypatch):
    """Bounded chunks (recomputed in backward) give the same image and gradients as one pass."""
    whole_image, whole_grads = _render_with_gradients(_scene(name, device))
    monkeypatch.setattr(torch_backend, "CHUNK_PIXELS", 64)
    chunked_image, chunked_grads = _render_with_gradients(_scene(name, device))
    torch.testing.assert_close(chunked_image, whole_image, atol=PIXEL_ATOL, rtol=0)
    for whole, chunked in zip(whole_grads, chunked_grads):
        torch.testing.assert_close(chunked, whole, atol=1e-3, rtol=1e-3)  # float32, other summation order


def test_repeated_renders_are_identical(device):
    scene = _scene("stroke_styles", device)
    first = render(scene, background=(1.0, 1.0, 1.0))
    assert torch.equal(render(scene, background=(1.0, 1.0, 1.0)), first)
    assert first.device.type == device.type
