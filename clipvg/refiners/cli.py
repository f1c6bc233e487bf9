"""The ``--refiner`` options shared by ``clipvg edit``, ``inpaint`` and ``outpaint``, generated from
the registry's table (``clipvg.refiners.registry.SETTINGS``)."""
from __future__ import annotations

import argparse

from ..errors import InvalidInputError
from .base import Refiner
from .registry import NAMES, SETTINGS, build_refiner, check_settings

METAVARS = {"controlnet_model": "ID|DIR", "layer_model": "ID|DIR", "upscaler_model": "ID|DIR|bicubic",
            "refiner_native_size": "PX"}


def add_refiner_options(parser: argparse.ArgumentParser, layered: bool = False) -> None:
    """``--refiner NAME``, ``--refiner-model ID|DIR``, ``--refit-iterations`` and one option per
    registry setting (``--refiner-steps``, ``--tune-steps``, ...); ``--layered`` when ``layered``."""
    group = parser.add_argument_group("diffusion refiner (needs pip install 'clipvg[diffusion]')")
    group.add_argument("--refiner", choices=NAMES,
                       help="repaint the region with a diffusion model first, then fit the paths to it")
    group.add_argument("--refiner-model", metavar="ID|DIR",
                       help="Hugging Face model id (downloaded on first use) or local diffusers folder")
    for name, setting in SETTINGS.items():
        group.add_argument(f"--{name.replace('_', '-')}", type=setting.type, default=setting.default,
                           choices=setting.choices, metavar=METAVARS.get(name), help=setting.help)
    group.add_argument("--refit-iterations", type=int, default=100,
                       help="steps fitting the paths to the refined picture (default 100)")
    if layered:
        group.add_argument("--layered", action="store_true",
                           help="write the refined region as a background layer and a transparent foreground layer")


def refiner_settings(args: argparse.Namespace) -> dict:
    """The registry settings given on the command line, by name."""
    return {name: getattr(args, name) for name in SETTINGS if hasattr(args, name)}


def refiner_from_args(args: argparse.Namespace) -> Refiner | None:
    """The refiner the options ask for (None without ``--refiner``)."""
    if not args.refiner:
        return None
    if args.refit_iterations < 1:
        raise InvalidInputError("--refit-iterations must be at least 1")
    return build_refiner(args.refiner, args.refiner_model, args.device, refiner_settings(args),
                         layered=getattr(args, "layered", False))


def refiner_meta(args: argparse.Namespace) -> dict:
    """Checkpoint meta of the refiner options (a resume must use the same)."""
    if not args.refiner:
        return {"refiner": None}
    return {"refiner": args.refiner, "refiner_model": args.refiner_model, "refit_iterations": args.refit_iterations,
            "layered": getattr(args, "layered", None), **check_settings(args.refiner, refiner_settings(args))}
