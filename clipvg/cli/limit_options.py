"""The resource-limit flags every command takes, generated from ``clipvg.limits.ResourceLimits``'s
fields: ``--max-megapixels``, ``--max-render-pixels``, ``--max-paths``, ... (``clipvg.limits.flag``).
``main`` runs the command under the limits they set (``clipvg.limits.using``), so every check, the
job specs the command builds and batch jobs without their own values see them."""
from __future__ import annotations

import argparse

from ..limits import ResourceLimits, describe, flag, names, option_name, resource_limits


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise argparse.ArgumentTypeError(f"not a positive number: {text!r}")
    return value


def add_limit_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one ``--max-<name>`` flag per resource limit, in a "resource limits" group; a flag not
    given stays out of the namespace (the environment's or the default limit applies)."""
    group = parser.add_argument_group("resource limits (each also set by its CLIPVG_MAX_<NAME> environment setting)")
    for name in names():
        group.add_argument(flag(name), dest=option_name(name), type=_number, default=argparse.SUPPRESS,
                           metavar="N", help=describe(name))


def limits_from_args(args: argparse.Namespace) -> ResourceLimits:
    """The limits in force (environment, defaults) with the flags given in ``args`` put in."""
    return resource_limits().with_values({name: getattr(args, option_name(name), None) for name in names()}, flag)
