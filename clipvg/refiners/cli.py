"""The ``--refiner`` options shared by ``clipvg edit``, ``inpaint`` and ``outpaint``."""
from __future__ import annotations

import argparse

from .base import Refiner
from .registry import NAMES, make_refiner


def add_refiner_options(parser: argparse.ArgumentParser, layered: bool = False) -> None:
    """``--refiner NAME``, ``--refiner-model ID|DIR``, ``--refiner-steps``, ``--tune-steps``,
    ``--eta``, ``--refit-iterations`` (and ``--layered`` when ``layered``)."""
    group = parser.add_argument_group("diffusion refiner (needs pip install 'clipvg[diffusion]')")
    group.add_argument("--refiner", choices=NAMES,
                       help="repaint the region with a diffusion model first, then fit the paths to it")
    group.add_argument("--refiner-model", metavar="ID|DIR",
                       help="Hugging Face model id (downloaded on first use) or local diffusers folder")
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
    """The refiner the options ask for (None without ``--refiner``)."""
    from ..errors import InvalidInputError

    if not args.refiner:
        return None
    for name in ("refiner_steps", "refit_iterations"):
        if getattr(args, name) < 1:
            raise InvalidInputError(f"--{name.replace('_', '-')} must be at least 1")
    if args.tune_steps < 0:
        raise InvalidInputError("--tune-steps must be >= 0")
    settings = {"sd-inpaint": dict(steps=args.refiner_steps),
                "imagic": dict(steps=args.refiner_steps, embed_steps=args.tune_steps, finetune_steps=args.tune_steps,
                               eta=args.eta),
                "unitune": dict(steps=args.refiner_steps, finetune_steps=args.tune_steps)}[args.refiner]
    return make_refiner(args.refiner, args.refiner_model, args.device, **settings)


def refiner_meta(args: argparse.Namespace) -> dict:
    """Checkpoint meta of the refiner options (a resume must use the same)."""
    keys = ("refiner", "refiner_model", "refiner_steps", "tune_steps", "eta", "refit_iterations", "layered")
    return {k: getattr(args, k, None) for k in keys}
