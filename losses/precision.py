"""CLIP's numeric precision: which autocast a precision name means, and what ``"auto"`` picks here.

``"auto"`` (the editor's default) is bf16 autocast on CPUs that compute bf16 natively (AVX-512 bf16 or
AMX, about 1.7x fp32's speed for CLIP's step there) and float32 everywhere else, CUDA included. Under
any autocast the embeddings and the loss stay float32; ``full_precision`` turns autocast off for a
redo (the editor redoes a step whose reduced-precision gradient is not finite).
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from losses.errors import LossInputError

if TYPE_CHECKING:
    import torch

# torch dtype names (torch is imported on use, so the CLI's option tables and refusals load no torch)
AUTOCAST_DTYPES = {"fp16": "float16", "bf16": "bfloat16"}
PRECISIONS = ("auto", "fp32", *AUTOCAST_DTYPES)
# CPU flags (Linux /proc/cpuinfo) of native bf16 arithmetic: AVX-512 bf16 dot products, AMX tiles
NATIVE_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
_full_precision: contextvars.ContextVar[bool] = contextvars.ContextVar("clip_full_precision", default=False)


def cpu_flags(cpuinfo: str) -> frozenset[str]:
    """The CPU feature flags listed on the ``flags`` lines of a Linux ``/proc/cpuinfo`` text."""
    return frozenset(flag for line in cpuinfo.splitlines() if line.split(":", 1)[0].strip() == "flags"
                     for flag in line.split(":", 1)[1].split())


@functools.cache
def native_bf16() -> bool:
    """True when this CPU computes bf16 natively (a flag of ``NATIVE_BF16_FLAGS`` in /proc/cpuinfo);
    False where the flags cannot be read (other systems)."""
    try:
        return bool(cpu_flags(Path("/proc/cpuinfo").read_text()) & NATIVE_BF16_FLAGS)
    except OSError:
        return False


def resolve_precision(precision: str | None, device: str | torch.device) -> str:
    """The precision CLIP runs in on ``device``: None means "fp32"; "auto" is "bf16" on a CPU with
    ``native_bf16()``, else "fp32"; "fp16" and "bf16" autocast on CUDA, only "bf16" on the CPU (fp32
    otherwise)."""
    precision = precision or "fp32"
    if precision not in PRECISIONS:
        raise LossInputError(f"precision must be one of {PRECISIONS} or None, got {precision!r}")
    import torch

    kind = torch.device(device).type
    if precision == "auto":
        return "bf16" if kind == "cpu" and native_bf16() else "fp32"
    return precision if kind == "cuda" or (kind == "cpu" and precision == "bf16") else "fp32"


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """``torch.autocast`` of ``precision`` ("fp16"/"bf16") on ``device``'s type; no autocast for
    "fp32" or inside ``full_precision``."""
    dtype = AUTOCAST_DTYPES.get(precision)
    if dtype is None or _full_precision.get():
        return contextlib.nullcontext()
    import torch

    return torch.autocast(device.type, dtype=getattr(torch, dtype))


@contextlib.contextmanager
def full_precision() -> Iterator[None]:
    """Inside (this thread or task only), every CLIP model runs in float32 whatever its precision."""
    token = _full_precision.set(True)
    try:
        yield
    finally:
        _full_precision.reset(token)
