"""Float32 matrix products of a frozen layer through oneDNN on CPUs where that is exact and faster.

PyTorch's CPU float32 products go to MKL, which on AMD processors runs its AVX2 code; oneDNN's run
AVX-512 there (2x the rate on this project's machine). PyTorch sends float32 products to oneDNN only
under ``torch.backends.mkldnn.matmul.fp32_precision = "bf16"``, which on CPUs with AMX may round the
inputs to bf16, so it is used only where a probe product shows float32 accuracy, and only around
these products (``linear`` sets and restores the process-wide setting, forward and backward).
"""
from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

import torch
import torch.nn.functional as F

_EXACT = 1e-5  # relative error of the probe product: float32 gives ~3e-7, bf16 inputs ~3e-3


@functools.cache
def onednn_exact() -> bool:
    """True when float32 products under oneDNN's setting keep float32 accuracy on this CPU. The probe
    runs outside autocast: a first call from inside a bf16 autocast (a bf16 CLIP's first step) would
    otherwise measure a bf16 product and, cached, send every later float32 product to MKL. Both a matrix
    product and a batched ``F.linear`` are probed: torch 2.11 kept the first in float32 and rounded the
    second to bf16."""
    backend = getattr(torch.backends.mkldnn, "matmul", None)
    if not torch.backends.mkldnn.is_available() or not hasattr(backend, "fp32_precision"):
        return False
    generator = torch.Generator().manual_seed(0)
    a, b = torch.randn(4, 64, 256, generator=generator), torch.randn(256, 256, generator=generator)
    with _onednn(), torch.autocast("cpu", enabled=False):
        products = [a[0] @ b, F.linear(a, b)]  # a batched product may take another kernel (torch 2.11: bf16)
    exact = [a[0].double() @ b.double(), F.linear(a.double(), b.double())]
    return all(bool((p.double() - e).norm() / e.norm() < _EXACT) for p, e in zip(products, exact))


@contextlib.contextmanager
def _onednn() -> Iterator[None]:
    backend = torch.backends.mkldnn.matmul
    before = backend.fp32_precision
    backend.fp32_precision = "bf16"
    try:
        yield
    finally:
        backend.fp32_precision = before


class _FrozenLinear(torch.autograd.Function):
    """``F.linear`` with a frozen weight, its forward and input gradient under ``_onednn``."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        ctx.save_for_backward(weight)
        with _onednn():
            return F.linear(x, weight, bias)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        (weight,) = ctx.saved_tensors
        with _onednn():
            return grad @ weight, None, None


def linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``F.linear(x (..., in), weight (out, in), bias (out,))`` -> ``(..., out)``; through oneDNN for
    float32 on the CPU when ``onednn_exact()`` and the weight is frozen, else plain ``F.linear``."""
    # onednn_exact() first: torches without the oneDNN setting (< 2.9) may lack is_autocast_enabled(device)
    if (x.device.type != "cpu" or x.dtype != torch.float32 or not onednn_exact() or torch.is_autocast_enabled("cpu")
            or weight.requires_grad or (bias is not None and bias.requires_grad)):
        return F.linear(x, weight, bias)
    return _FrozenLinear.apply(x, weight, bias)
