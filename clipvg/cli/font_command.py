"""``clipvg font TEXT --font FONT -o OUT.svg --prompt TEXT``: font stylisation (shape-only edit); FONT is
a .ttf/.otf file or an installed family name ("DejaVu Sans", found through fontconfig)."""
from __future__ import annotations

import argparse

from ..edit.spec import Subset
from .edit_command import RUN_OPTIONS, add_run_options, job_spec, run_and_report


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = sub.add_parser("font", help="set text in a font and reshape its glyphs toward a prompt")
    parser.add_argument("text", help="the text to set (\\n for new lines)")
    parser.add_argument("--font", required=True,
                        help='TrueType (.ttf) or OpenType/CFF (.otf) font file, or an installed family ("DejaVu Sans")')
    parser.add_argument("--size", type=float, default=128.0, help="em size in pixels (default 128)")
    add_run_options(parser)
    return parser


def run(args: argparse.Namespace) -> None:
    from ..edit.editor import Editor
    from ..edit.job import edit_options, file_digest, run_session
    from ..fonts import find_font, text_to_scene

    font = find_font(args.font)
    spec = job_spec(args, RUN_OPTIONS, input=font)
    spec.subset = Subset(points=True, colors=False, stroke_widths=True)
    text = args.text.replace("\\n", "\n")
    meta = {"text": text, "font": file_digest(font), "size": args.size}

    def new_editor(options, clip) -> Editor:
        return Editor(text_to_scene(text, font, args.size), options, clip)

    run_and_report(spec, lambda s, show_bar: run_session(s, edit_options(s), new_editor, meta, show_bar=show_bar),
                   args.quiet)
