"""Font stylisation: set a word in a font (one layer per glyph) and reshape the glyph outlines toward
a prompt with a shape-only edit; colours stay bit-identical."""
from __future__ import annotations

import glob
import time

from _common import parser, save, settings

import clipvg.edit
from clipvg.fonts import text_to_scene

FONT_PATTERNS = ("/usr/share/fonts/**/DejaVuSans-Bold.ttf", "/usr/share/fonts/**/*.ttf",
                 "/usr/share/texmf/fonts/**/*.otf")


def default_font() -> str | None:
    """A font installed on this machine (DejaVu Sans Bold if present)."""
    for pattern in FONT_PATTERNS:
        found = sorted(glob.glob(pattern, recursive=True))
        if found:
            return found[0]
    return None


def main(argv: list[str] | None = None) -> list:
    cli = parser(__doc__, "a font made of flames")
    cli.add_argument("--text", default="CLIPVG")
    cli.add_argument("--font", default=default_font(), help="a .ttf or .otf file (default: an installed font)")
    args = cli.parse_args(argv)
    if args.font is None:
        cli.error("no font found on this machine; pass --font FILE.ttf")
    run, started = settings(args), time.perf_counter()
    scene = text_to_scene(args.text, args.font, size=24 if args.quick else 160)
    result = clipvg.edit.edit(scene, args.prompt, params="shapes_only", progress=True, **run)
    return save(result, args.out, "font_stylize", started)


if __name__ == "__main__":
    main()
