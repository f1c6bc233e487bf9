"""Outpaint: grow the canvas on both sides and paint the new strips toward the prompt. The new area
starts as a mirror image of the picture plus noise, becomes its own SVG layer, and only that layer
moves; every original path stays exactly where it was (shifted by the left margin)."""
from __future__ import annotations

import time

from _common import ASTRONAUT, max_size, parser, save, settings

from clipvg.inpaint import outpaint


def main(argv: list[str] | None = None) -> list:
    cli = parser(__doc__, "an astronaut in front of a rocket launch pad")
    cli.add_argument("--input", default=str(ASTRONAUT), help="photo or SVG to extend")
    cli.add_argument("--margin", type=float, default=0.25, help="width added on each side, as a share of the width")
    args = cli.parse_args(argv)
    run, started = settings(args), time.perf_counter()
    margin = round(args.margin * max_size(args))
    result = outpaint(args.input, args.prompt, left=margin, right=margin, max_size=max_size(args), progress=True,
                      **run)
    return save(result, args.out, "outpaint", started)


if __name__ == "__main__":
    main()
