"""The ``--refiner`` options shared by ``clipvg edit``, ``inpaint`` and ``outpaint``."""
from __future__ import annotations

import argparse

from .base import Refiner
from .precision import PRECISIONS
from .registry import NAMES, make_refiner

DEFAULT_UPSCALER = "stabilityai/stable-diffusion-x4-upscaler"


def add_refiner_options(parser: argparse.ArgumentParser, layered: bool = False) -> None:
    """``--refiner NAME``, ``--refiner-model ID|DIR``, ``--controlnet-model``, ``--layer-model``,
    ``--refiner-precision``, ``--refiner-native-size``, ``--upscaler-model``, ``--refiner-steps``,
    ``--tune-steps``, ``--eta``, ``--refit-iterations`` (and ``--layered`` when ``layered``)."""
    group = parser.add_argument_group("diffusion refiner (needs pip install 'clipvg[diffusion]')")
    group.add_argument("--refiner", choices=NAMES,
                       help="repaint the region with a diffusion model first, then fit the paths to it")
    group.add_argument("--refiner-model", metavar="ID|DIR",
                       help="Hugging Face model id (downloaded on first use) or local diffusers folder")
    group.add_argument("--controlnet-model", metavar="ID|DIR",
                       help="controlnet-inpaint: the mask ControlNet (default lllyasviel/control_v11p_sd15_inpaint, "
                            "or a folder from python -m clipvg.refiners.train_mask_controlnet)")
    group.add_argument("--layer-model", metavar="ID|DIR",
                       help="layerdiffusion: the LayerDiffusion weights (default lllyasviel/LayerDiffuse_Diffusers)")
    group.add_argument("--refiner-precision", choices=PRECISIONS, default="auto",
                       help="weights as fp32, fp16, bf16 or int8 (torchao; pip install 'clipvg[int8]'); "
                            "auto: fp16 on CUDA, fp32 on the CPU")
    group.add_argument("--refiner-native-size", type=int, default=0, metavar="PX",
                       help="above this long side, repaint a crop shrunk to it, super-resolve the new region and "
                            "blend it in (pixels outside the region stay identical); default 0: off")
    group.add_argument("--upscaler-model", metavar="ID|DIR|bicubic", default=DEFAULT_UPSCALER,
                       help="with --refiner-native-size: the x4 super-resolution model, or bicubic")
    group.add_argument("--refiner-steps", type=int, default=30, help="diffusion sampling steps (default 30)")
    group.add_argument("--tune-steps", type=int, default=100,
                       help="imagic/unitune: embedding-optimisation and fine-tuning steps (default 100)")
    group.add_argument("--eta", type=float, default=0.7, help="imagic: interpolation toward the prompt (default 0.7)")
    group.add_argument("--refit-iterations", type=int, default=100,
                       help="steps fitting the paths to the refined picture (default 100)")
    if layered:
        group.add_argument("--layered", action="store_true",
                           help="write the refined region as a background layer and a transparent foreground layer")


def refiner_from_args(args: argparse.Namespace) -> Refiner | None:
    """The refiner the options ask for (None without ``--refiner``), wrapped in a HighResRefiner
    when ``--refiner-native-size`` is set (not for the layered refiners)."""
    from ..errors import InvalidInputError

    if not args.refiner:
        return None
    for name in ("refiner_steps", "refit_iterations"):
        if getattr(args, name) < 1:
            raise InvalidInputError(f"--{name.replace('_', '-')} must be at least 1")
    if args.tune_steps < 0:
        raise InvalidInputError("--tune-steps must be >= 0")
    native = getattr(args, "refiner_native_size", 0) or 0
    if native < 0 or 0 < native < 64:
        raise InvalidInputError("--refiner-native-size must be 0 (off) or at least 64")
    precision = getattr(args, "refiner_precision", None)
    settings = {"sd-inpaint": dict(steps=args.refiner_steps),
                "controlnet-inpaint": dict(steps=args.refiner_steps, controlnet=getattr(args, "controlnet_model", None)),
                "imagic": dict(steps=args.refiner_steps, embed_steps=args.tune_steps, finetune_steps=args.tune_steps,
                               eta=args.eta),
                "unitune": dict(steps=args.refiner_steps, finetune_steps=args.tune_steps),
                "layerdiffusion": dict(steps=args.refiner_steps)}[args.refiner]
    if args.refiner == "layerdiffusion" and getattr(args, "layer_model", None):
        settings["layer_model"] = args.layer_model
    refiner = make_refiner(args.refiner, args.refiner_model, args.device, precision=precision, **settings)
    if native and not getattr(refiner, "layered", False) and not getattr(args, "layered", False):
        from .highres import HighResRefiner

        upscaler = None if args.upscaler_model in (None, "", "bicubic") else args.upscaler_model
        refiner = HighResRefiner(refiner, native=native, upscaler=upscaler, device=args.device, precision=precision)
    return refiner


def refiner_meta(args: argparse.Namespace) -> dict:
    """Checkpoint meta of the refiner options (a resume must use the same). The options added after
    the first refiners appear only when set away from their defaults, so older checkpoints resume."""
    keys = ("refiner", "refiner_model", "refiner_steps", "tune_steps", "eta", "refit_iterations", "layered")
    meta = {k: getattr(args, k, None) for k in keys}
    defaults = {"controlnet_model": None, "layer_model": None, "refiner_precision": "auto", "refiner_native_size": 0,
                "upscaler_model": DEFAULT_UPSCALER}
    meta.update({k: getattr(args, k) for k, default in defaults.items() if getattr(args, k, default) != default})
    return meta
