"""The ``--refiner`` options shared by ``clipvg edit``, ``inpaint`` and ``outpaint``, from the edit
options table (``clipvg.edit.flat``), which reads the refiner registry's table."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..errors import InvalidInputError
from .registry import build_refiner, check_settings

if TYPE_CHECKING:
    from .base import Refiner


def add_refiner_options(parser: argparse.ArgumentParser, layered: bool = False) -> None:
    """``--refiner NAME``, ``--refiner-model ID|DIR``, one option per registry setting
    (``--refiner-steps``, ``--tune-steps``, ...), ``--refit-iterations``; ``--layered`` when ``layered``."""
    from ..edit.flat import add_arguments, refiner_options

    group = parser.add_argument_group("diffusion refiner (needs pip install 'clipvg[diffusion]')")
    add_arguments(group, refiner_options())
    if layered:
        group.add_argument("--layered", action="store_true",
                           help="write the refined region as a background layer and a transparent foreground layer")


def refiner_settings(args: argparse.Namespace) -> dict:
    """The registry settings given on the command line, by name."""
    from .registry import SETTINGS

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
