"""Multi-ROI edit: one prompt for the whole picture and one per region (CLIPVG's "Justice League"
edit gives every person their own prompt). Boxes are fractions of the canvas, so --quick's small
canvas gets the same regions."""
from __future__ import annotations

import time

from _common import ASTRONAUT, max_size, parser, save, scaled_box, settings

import clipvg.edit

ROIS = [((0.2, 0.1, 0.45, 0.48), "Joker, Heath Ledger"),
        ((0.8, 0.0, 0.2, 1.0), "a red rocket made of candy")]


def main(argv: list[str] | None = None) -> list:
    cli = parser(__doc__, "a comic book illustration")
    args = cli.parse_args(argv)
    run, started = settings(args), time.perf_counter()
    scene = clipvg.edit.load_source(ASTRONAUT, max_size=max_size(args))
    rois = [(scaled_box(box, scene.width), prompt) for box, prompt in ROIS]
    result = clipvg.edit.edit(scene, args.prompt, rois=rois, progress=True, **run)
    return save(result, args.out, "multi_roi_edit", started)


if __name__ == "__main__":
    main()
