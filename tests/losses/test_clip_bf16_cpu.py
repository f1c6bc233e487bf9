"""bf16 autocast of CLIP on the CPU: float32 embeddings and loss, close to fp32, finite gradients."""

import torch

import losses
from losses.clip_model import load_clip


def test_bf16_on_the_cpu_runs_under_autocast_close_to_fp32():
    model, weights = losses.shapes_clip_paths()
    fp32 = load_clip(model, weights, device="cpu")
    bf16 = load_clip(model, weights, device="cpu", precision="bf16")
    assert bf16 is not fp32 and bf16.precision == "bf16"
    images = torch.rand(3, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    images_bf16 = images.clone().requires_grad_(True)
    embedded = bf16.encode_image(images_bf16)
    reference = fp32.encode_image(images)
    assert embedded.dtype == torch.float32
    assert torch.nn.functional.cosine_similarity(embedded, reference).min() > 0.98
    text = bf16.encode_text(["a red circle"])
    assert text.dtype == torch.float32
    loss = (1 - embedded @ text.T).sum()  # the loss in fp32
    assert loss.dtype == torch.float32
    loss.backward()
    assert torch.isfinite(images_bf16.grad).all() and images_bf16.grad.abs().sum() > 0
    seen = []
    hook = bf16.model.visual.ln_post.register_forward_hook(lambda m, i, o: seen.append(torch.get_autocast_dtype("cpu")
                                                                                if torch.is_autocast_enabled("cpu")
                                                                                else None))
    bf16.encode_image(images)
    hook.remove()
    assert seen == [torch.bfloat16]
