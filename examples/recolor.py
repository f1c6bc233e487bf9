"""Recolour: a colour-only edit. Only fill colours change; every control point stays bit-identical,
so the drawing keeps its exact shapes."""
from __future__ import annotations

import time

from _common import ASTRONAUT, max_size, parser, save, settings

import clipvg.edit


def main(argv: list[str] | None = None) -> list:
    cli = parser(__doc__, "a pop art portrait in pink and turquoise")
    cli.add_argument("--input", default=str(ASTRONAUT), help="photo or SVG to recolour")
    args = cli.parse_args(argv)
    run, started = settings(args), time.perf_counter()
    result = clipvg.edit.edit(args.input, args.prompt, params="colors_only", max_size=max_size(args),
                              progress=True, **run)
    return save(result, args.out, "recolor", started)


if __name__ == "__main__":
    main()
