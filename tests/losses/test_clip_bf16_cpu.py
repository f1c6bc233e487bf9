"""bf16 autocast of CLIP on the CPU: float32 embeddings and loss, close to fp32, finite gradients."""

import pytest
import torch

import losses
from losses import precision
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


def test_native_bf16_is_read_from_the_cpu_flags():
    line = "flags\t\t: fpu sse2 avx2 avx512f {}\n"
    assert precision.cpu_flags("processor\t: 0\n" + line.format("avx512_bf16")) >= {"avx2", "avx512_bf16"}
    assert precision.cpu_flags(line.format("amx_bf16")) & precision.NATIVE_BF16_FLAGS
    assert not precision.cpu_flags(line.format("avx512bw")) & precision.NATIVE_BF16_FLAGS


@pytest.mark.parametrize("native", [True, False])
def test_auto_resolves_by_the_capability_probe(monkeypatch, native):
    monkeypatch.setattr(precision, "native_bf16", lambda: native)
    assert precision.resolve_precision("auto", "cpu") == ("bf16" if native else "fp32")
    assert precision.resolve_precision("auto", "cuda") == "fp32"
    assert precision.resolve_precision(None, "cpu") == "fp32"  # load_clip's default stays fp32
    assert precision.resolve_precision("fp16", "cpu") == "fp32" and precision.resolve_precision("bf16", "cpu") == "bf16"
    model, weights = losses.shapes_clip_paths()
    assert load_clip(model, weights, device="cpu", precision="auto").precision == ("bf16" if native else "fp32")
    with pytest.raises(losses.LossInputError, match="precision must be one of"):
        precision.resolve_precision("int8", "cpu")


def test_full_precision_turns_autocast_off():
    bf16 = load_clip(*losses.shapes_clip_paths(), device="cpu", precision="bf16")
    fp32 = load_clip(*losses.shapes_clip_paths(), device="cpu")
    images = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with precision.full_precision():
        assert torch.equal(bf16.encode_image(images), fp32.encode_image(images))
    assert not torch.equal(bf16.encode_image(images), fp32.encode_image(images))
