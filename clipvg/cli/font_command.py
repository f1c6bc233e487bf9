"""``clipvg font TEXT --font FONT.ttf -o OUT.svg --prompt TEXT``: font stylisation (shape-only edit)."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import InvalidInputError
from ..edit.editor import Editor
from .edit_command import add_run_options, file_digest, run_options, run_session


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = sub.add_parser("font", help="set text in a font and reshape its glyphs toward a prompt")
    parser.add_argument("text", help="the text to set (\\n for new lines)")
    parser.add_argument("--font", required=True, help="TrueType (.ttf) or OpenType/CFF (.otf) font file")
    parser.add_argument("--size", type=float, default=128.0, help="em size in pixels (default 128)")
    add_run_options(parser)
    return parser


def run(args: argparse.Namespace) -> None:
    from ..fonts import text_to_scene

    if not Path(args.font).is_file():
        raise InvalidInputError(f"font file not found: {args.font}")
    text = args.text.replace("\\n", "\n")
    run_session(args, run_options(args, "shapes_only"), lambda options: Editor(text_to_scene(text, args.font, args.size), options),
                (args.font,), {"text": text, "font": file_digest(args.font), "size": args.size})
