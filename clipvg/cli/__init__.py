"""The ``clipvg`` command line: one module per subcommand, each with ``add_parser`` and ``run``."""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

from ..errors import ClipvgError
from ..limits import using
from ..startup import set_startup_environment
from .limit_options import add_limit_arguments, limits_from_args

# Subcommand modules, in the order ``clipvg --help`` lists them.
COMMANDS = ("render", "vectorize", "edit", "font", "outpaint", "inpaint", "serve", "batch")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The top-level parser listing every subcommand. With ``only`` (a name in ``COMMANDS``) only
    that command's module is imported and its options registered (the others may load torch and
    CLIP code: seconds of start-up); None registers them all (``clipvg --help``, a mistyped name)."""
    parser = argparse.ArgumentParser(prog="clipvg", description="Edit pictures with words, as vectors.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        if only is not None and name != only:
            sub.add_parser(name)
            continue
        module = importlib.import_module(f"{__name__}.{name}_command")
        command = module.add_parser(sub)
        command.set_defaults(run=module.run)
        command.add_argument("--verbose", action="store_true",
                             help="show clipvg's log on stderr (debug level, with the libraries' held-back warnings)")
        add_limit_arguments(command)
    return parser


def show_log() -> None:
    """Send the log of clipvg and its losses (debug level) to stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    for name in ("clipvg", "losses"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)


def main(argv: list[str] | None = None) -> int:
    """Entry point: parse ``argv``, run the subcommand; user errors print one line and exit 2; a
    subcommand may return its own exit status (``batch``: 1 when some jobs failed)."""
    set_startup_environment()  # the process's start-up: before CUDA starts
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv[0] if argv and argv[0] in COMMANDS else None).parse_args(argv)
    if args.verbose:
        show_log()
    try:
        with using(limits_from_args(args)):
            code = args.run(args)
    except ClipvgError as error:
        print(f"clipvg {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"clipvg {args.command}: interrupted", file=sys.stderr)
        return 130
    return code or 0
