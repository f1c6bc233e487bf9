"""Fine-tuning a diffusion UNet that is correct in every precision (Imagic, UniTune).

A refiner loaded in fp16 or bf16 cannot be fine-tuned on its own weights: Adam's eps (1e-8) is
zero in fp16, so the first update divides by zero and most weights become NaN; in bf16 an update
of lr 1e-6 is below the weights' resolution (8 mantissa bits) and is rounded away. So the copy that
learns is kept in float32 (the master weights, and the optimizer state and updates with them), its
forward and backward run under ``torch.autocast`` at the refiner's dtype, and fp16 gradients go
through a ``GradScaler`` (loss scaling) so small ones do not underflow. The tuned UNet stays in
float32 and is sampled under the same autocast (``Tuned``), so no update is rounded away afterwards.

Optimizers: ``adafactor`` (transformers' Adafactor with a fixed learning rate: no relative step,
no parameter scaling; UniTune's optimizer) and ``adamw`` (torch AdamW, weight decay 0 by default:
Adam, Imagic's optimizer).
"""
from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass
from typing import Any, Callable

import torch

from ..errors import InvalidInputError

OPTIMIZERS = ("adafactor", "adamw")
TRAINABLE = ("all", "cross-attention")

Loss = Callable[[Any, int], torch.Tensor]


@dataclass(frozen=True)
class TuneSettings:
    """One fine-tuning run: ``steps`` optimizer updates at learning rate ``lr`` with ``optimizer``
    (one of OPTIMIZERS); each update sees ``batch`` noised copies of the picture, run
    ``micro_batch`` at a time (gradient accumulation, the same gradient as the whole batch at
    once; 0: all at once); ``train``: which UNet weights learn, ``all`` or ``cross-attention`` (the
    ``attn2`` layers only)."""

    steps: int
    lr: float
    optimizer: str = "adafactor"
    batch: int = 1
    micro_batch: int = 0
    train: str = "all"

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise InvalidInputError(f"unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
        if self.train not in TRAINABLE:
            raise InvalidInputError(f"unknown trainable set {self.train!r}; choose one of {', '.join(TRAINABLE)}")
        if self.steps < 0 or self.batch < 1 or self.micro_batch < 0 or not self.lr > 0:
            raise InvalidInputError(f"fine-tuning needs steps >= 0, batch >= 1, micro_batch >= 0 and lr > 0; got "
                                    f"steps={self.steps} batch={self.batch} micro_batch={self.micro_batch} lr={self.lr}")

    def chunks(self) -> list[int]:
        """The micro-batch sizes of one update (they sum to ``batch``)."""
        size = self.micro_batch or self.batch
        return [min(size, self.batch - start) for start in range(0, self.batch, size)]


def make_optimizer(name: str, parameters: list[torch.nn.Parameter], lr: float) -> torch.optim.Optimizer:
    """The optimizer ``name`` (one of OPTIMIZERS) on ``parameters`` at the fixed learning rate ``lr``."""
    if name == "adafactor":
        from transformers.optimization import Adafactor

        return Adafactor(parameters, lr=lr, scale_parameter=False, relative_step=False, warmup_init=False)
    if name == "adamw":
        return torch.optim.AdamW(parameters, lr=lr, weight_decay=0.0)
    raise InvalidInputError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")


def trainable(unet: torch.nn.Module, which: str) -> list[torch.nn.Parameter]:
    """The parameters of ``unet`` that learn: all, or those of the cross-attention (``attn2``) layers."""
    named = list(unet.named_parameters())
    if which == "cross-attention":
        named = [(n, p) for n, p in named if ".attn2." in n]
        if not named:
            raise InvalidInputError("this UNet has no cross-attention (attn2) layers to fine-tune; use train='all'")
    return [p for _, p in named]


def autocast(device: torch.device, dtype: torch.dtype) -> contextlib.AbstractContextManager:
    """``torch.autocast`` at ``dtype`` on ``device``'s type; nothing for float32."""
    if dtype == torch.float32:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=dtype)


class Tuned(torch.nn.Module):
    """A fine-tuned float32 UNet that runs like the refiner's own: its forward runs under autocast at
    ``dtype`` and its ``.sample`` comes back in ``dtype``. ``losses`` (steps,) float32 holds the
    training loss of every update (kept on the device; read it when needed)."""

    def __init__(self, unet: torch.nn.Module, dtype: torch.dtype, losses: torch.Tensor) -> None:
        super().__init__()
        self.unet, self.compute_dtype, self.losses = unet, dtype, losses

    @property
    def config(self) -> Any:
        return self.unet.config

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor, **kwargs: Any) -> Any:
        with autocast(sample.device, self.compute_dtype):
            out = self.unet(sample, timestep, **kwargs)
        out.sample = out.sample.to(self.compute_dtype)
        return out


def train(parameters: list[torch.Tensor], loss: Callable[[int], torch.Tensor], settings: TuneSettings,
          device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """Optimise float32 ``parameters`` for ``settings.steps`` updates of ``loss(batch) -> scalar`` (the
    mean loss of ``batch`` noised copies; micro-batches accumulate), computed under autocast at
    ``dtype``, fp16 with loss scaling (a step whose gradients overflow is skipped and the scale
    lowered, as GradScaler does). Returns the loss of each update, (steps,) float32 on ``device``."""
    optimizer = make_optimizer(settings.optimizer, parameters, settings.lr)
    scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)
    losses = torch.zeros(settings.steps, device=device)
    for step in range(settings.steps):
        optimizer.zero_grad(set_to_none=True)
        for size in settings.chunks():
            with autocast(device, dtype):
                value = loss(size).float() * (size / settings.batch)
            scaler.scale(value).backward()
            losses[step] += value.detach()
        scaler.step(optimizer)
        scaler.update()
    return losses


def finetune(unet: torch.nn.Module, loss: Loss, settings: TuneSettings, device: torch.device,
             dtype: torch.dtype) -> Tuned:
    """A float32 copy of ``unet`` fine-tuned by ``settings`` (``train``) on ``loss(module, batch)``,
    the denoising loss of ``batch`` noised copies. ``unet`` itself is left as it was (frozen)."""
    master = copy.deepcopy(unet)
    # nn.Module.to: diffusers' own .to warns about casting a loaded model; the cast here is the point
    torch.nn.Module.to(master, device=device, dtype=torch.float32).requires_grad_(False)
    parameters = trainable(master, settings.train)
    for parameter in parameters:
        parameter.requires_grad_(True)
    losses = train(parameters, lambda batch: loss(master.train(), batch), settings, device, dtype)
    return Tuned(master.requires_grad_(False).eval(), dtype, losses)
