"""Face edit, CLIPVG's "Self-Portrait of Vincent van Gogh": vectorize the bundled astronaut photo in
two rounds (10 and 30 colours) plus a 30-colour round over the face, then edit the picture toward
the prompt. Run with --quick for a small, offline smoke run."""
from __future__ import annotations

import time

import vectorize
from _common import ASTRONAUT, max_size, parser, save, settings

import clipvg.edit

FACE = (55, 30, 110, 115)  # x, y, w, h in pixels of the 256 px photo


def main(argv: list[str] | None = None) -> list:
    cli = parser(__doc__, "Self-Portrait of Vincent van Gogh")
    args = cli.parse_args(argv)
    run, started = settings(args), time.perf_counter()
    scene = vectorize.vectorize(ASTRONAUT, regions=[vectorize.Region(box=FACE, colors=30)],
                                max_size=max_size(args))
    result = clipvg.edit.edit(scene, args.prompt, progress=True, **run)
    return save(result, args.out, "face_edit", started)


if __name__ == "__main__":
    main()
