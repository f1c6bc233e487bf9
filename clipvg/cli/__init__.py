"""The ``clipvg`` command line: one module per subcommand, each with ``add_parser`` and ``run``."""
from __future__ import annotations

import argparse
import importlib
import sys

from ..errors import ClipvgError

# Subcommand modules, in the order ``clipvg --help`` lists them.
COMMANDS = ("render", "vectorize", "edit", "font", "outpaint", "inpaint", "serve", "batch")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand registered."""
    parser = argparse.ArgumentParser(prog="clipvg", description="Edit pictures with words, as vectors.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        module = importlib.import_module(f"{__name__}.{name}_command")
        command = module.add_parser(sub)
        command.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: parse ``argv``, run the subcommand; user errors print one line and exit 2; a
    subcommand may return its own exit status (``batch``: 1 when some jobs failed)."""
    from ..edit.editor import set_startup_environment

    set_startup_environment()  # the process's start-up: before CUDA starts
    args = build_parser().parse_args(argv)
    try:
        code = args.run(args)
    except ClipvgError as error:
        print(f"clipvg {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"clipvg {args.command}: interrupted", file=sys.stderr)
        return 130
    return code or 0
