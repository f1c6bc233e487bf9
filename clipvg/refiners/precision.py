"""Refiner weight precision: ``--refiner-precision auto|fp32|fp16|bf16|int8``.

int8 goes through torchao (``pip install 'clipvg[int8]'``), chosen over optimum-quanto and
bitsandbytes because it is PyTorch's own quantization library (released with each torch version,
its last release in the package lists is months old, optimum-quanto's over a year), it quantizes the
same ``nn.Linear`` layers on the CPU and on CUDA (bitsandbytes' 8-bit matmul is CUDA-first), it is a
3.4 MB wheel with no build step, and diffusers loads it natively (``TorchAoConfig``). The kernel is
chosen per device:

* CUDA, compute capability >= 8.0 (A100, H100, ...): int8 weights *and* dynamically quantized int8
  activations (``Int8DynamicActivationInt8WeightConfig``, the int8 tensor-core matmul), the rest of
  the model in bfloat16;
* older CUDA GPUs: int8 weight-only (``Int8WeightOnlyConfig``), the rest in float16;
* CPU: int8 weight-only, the rest in bfloat16.

Without torchao (or where it fails on a model) int8 falls back to that 16-bit precision with a
warning naming the fallback. Only ``nn.Linear`` layers are quantized (attention and feed-forward
projections: 31 % of SD 1.5's UNet parameters, most of SDXL's and of the text encoders); convolutions
and the VAE stay in 16 bits, and a module that is fine-tuned afterwards (Imagic, UniTune) is never
quantized. Measured on the CPU with SD 1.5's UNet layout (859.5 M parameters, random weights): weights
3279 MiB fp32, 1639 MiB fp16, 1383 MiB int8 (a float32 rest gave 2507 MiB, hence the 16-bit rest);
one forward's output differs from fp16's by 1.25e-2 (relative L2; bf16 alone accounts for most), and
runs slower than fp32 there (weight-only int8 saves memory, not CPU time). SDXL's UNet is 87 % linear
weights: about 4897 MiB in fp16, 2768 MiB in int8 + bf16 (computed from its layout).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Iterable

import torch

from ..errors import InvalidInputError

PRECISIONS = ("auto", "fp32", "fp16", "bf16", "int8")
DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


@dataclass(frozen=True)
class Precision:
    """What a refiner loads its weights as: ``dtype`` for every module, and ``int8`` (the torchao
    config class name) for the linear layers of the modules it quantizes, None for none."""

    name: str
    dtype: torch.dtype
    int8: str | None = None

    @property
    def label(self) -> str:
        return f"int8 ({self.int8}, rest {str(self.dtype).split('.')[-1]})" if self.int8 else self.name


def int8_config_name(device: torch.device) -> str:
    """The torchao config for int8 on ``device`` (see the module docstring)."""
    if device.type == "cuda" and torch.cuda.get_device_capability(device) >= (8, 0):
        return "Int8DynamicActivationInt8WeightConfig"
    return "Int8WeightOnlyConfig"


def resolve_precision(name: str | None, device: torch.device) -> Precision:
    """``name`` (one of PRECISIONS, None = auto) on ``device``: auto is float16 on CUDA, float32 on the CPU."""
    name = name or "auto"
    if name not in PRECISIONS:
        raise InvalidInputError(f"unknown refiner precision {name!r}; choose one of {', '.join(PRECISIONS)}")
    if name == "auto":
        return Precision("fp16" if device.type == "cuda" else "fp32", torch.float16 if device.type == "cuda" else torch.float32)
    if name != "int8":
        return Precision(name, DTYPES[name])
    config = int8_config_name(device)
    # the layers left unquantized (convolutions, norms, the VAE) in 16 bits, so int8 is always smaller
    # than fp16: bfloat16 where int8 activations are used and on the CPU (oneDNN has bf16 kernels,
    # float16 convolutions there are slow), float16 on older GPUs (no fast bfloat16)
    if device.type == "cuda" and not config.startswith("Int8Dynamic"):
        dtype = torch.float16
    else:
        dtype = torch.bfloat16
    return Precision("int8", dtype, config)


def torchao_available() -> bool:
    try:
        import torchao.quantization  # noqa: F401
    except ImportError:
        return False
    return True


def quantize_int8(modules: Iterable[Any], precision: Precision) -> Precision:
    """Quantize the linear layers of ``modules`` in place as ``precision`` asks. Returns the precision
    actually in force: ``precision`` itself, or (torchao missing or failing) the same dtype without
    int8, after a warning."""
    if precision.int8 is None:
        return precision
    fallback = Precision(str(precision.dtype).split(".")[-1].replace("float", "fp").replace("bfp16", "bf16"),
                         precision.dtype)
    if not torchao_available():
        warnings.warn(f"--refiner-precision int8 needs torchao (pip install 'clipvg[int8]'); running at "
                      f"{fallback.name} instead", RuntimeWarning, stacklevel=2)
        return fallback
    import torchao.quantization as ao

    config = getattr(ao, precision.int8)()
    try:
        for module in modules:
            if module is not None:
                ao.quantize_(module, config)
    except (RuntimeError, NotImplementedError, TypeError, ValueError) as error:
        warnings.warn(f"torchao int8 ({precision.int8}) failed on this model ({error}); running at "
                      f"{fallback.name} instead", RuntimeWarning, stacklevel=2)
        return fallback
    return precision


def weight_bytes(module: Any) -> int:
    """Bytes held by ``module``'s parameters and buffers (int8 tensors count their int8 data and scales)."""
    total = 0
    for tensor in list(module.parameters()) + list(module.buffers()):
        total += tensor_bytes(tensor)
    return total


def tensor_bytes(tensor: torch.Tensor) -> int:
    """Storage bytes of ``tensor``; a tensor subclass (torchao's Int8Tensor) counts its inner tensors."""
    flatten = getattr(tensor, "__tensor_flatten__", None)
    if flatten is None or type(tensor) in (torch.Tensor, torch.nn.Parameter):
        return tensor.numel() * tensor.element_size()
    names, _ = flatten()
    return sum(tensor_bytes(getattr(tensor, name)) for name in names)
