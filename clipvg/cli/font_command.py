"""``clipvg font TEXT --font FONT -o OUT.svg --prompt TEXT``: font stylisation (shape-only edit); FONT is
a .ttf/.otf file or an installed family name ("DejaVu Sans", found through fontconfig). ``--letter-spacing``,
``--baseline``, ``--vertical`` and ``--on-path`` set the text by the SVG text layout (``clipvg.font_layout``)."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..edit.spec import JobSpec, Subset
from ..input_check import check_svg
from .edit_command import RUN_OPTIONS, add_run_options, job_spec, run_and_report

if TYPE_CHECKING:
    from ..svg.reader import ReadSVG


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = sub.add_parser("font", help="set text in a font and reshape its glyphs toward a prompt")
    parser.add_argument("text", help="the text to set (\\n for new lines)")
    parser.add_argument("--font", required=True,
                        help='TrueType (.ttf) or OpenType/CFF (.otf) font file, or an installed family ("DejaVu Sans")')
    parser.add_argument("--size", type=float, default=128.0, help="em size in pixels (default 128)")
    parser.add_argument("--letter-spacing", help="extra space after each letter: px (4) or em (0.1em)")
    parser.add_argument("--baseline", help="the baseline set on the line (dominant-baseline): alphabetic (default), "
                        "middle, central, hanging, mathematical, ideographic, text-before-edge, text-after-edge")
    parser.add_argument("--vertical", action="store_true", help="write top to bottom, lines right to left "
                        "(writing-mode vertical-rl)")
    parser.add_argument("--on-path", metavar="FILE.svg", help="set the text along the first path of this SVG "
                        "(one line; the output keeps that SVG's canvas)")
    add_run_options(parser)
    return parser


def run(args: argparse.Namespace) -> None:
    from ..fonts import check_font, check_text, find_font, text_to_scene

    text = args.text.replace("\\n", "\n")
    check_text(text, args.size)  # before the editor's modules and the job spec's CPU note load (seconds)

    def check_inputs(spec: JobSpec) -> ReadSVG | None:  # after the prompt and options, before torch loads
        check_font(spec.input, text)
        return None if args.on_path is None else check_svg(args.on_path)  # the guide, laid out without reading again

    spec = job_spec(args, RUN_OPTIONS, check_inputs, input=find_font(args.font))  # args.read: the guide read
    font = spec.input
    spec.subset = Subset(points=True, colors=False, stroke_widths=True)
    from ..edit.editor import Editor
    from ..edit.job import check_resources, edit_options, file_digest, run_session
    meta = {"text": text, "font": file_digest(font), "size": args.size}
    layout = {k: v for k, v in (("letter_spacing", args.letter_spacing), ("baseline", args.baseline),
                                ("vertical", args.vertical or None), ("on_path", args.read)) if v is not None}
    if layout:  # laid out now, so that bad values and sizes fail before a model loads
        from ..font_layout import text_layout_scene

        laid_out = text_layout_scene(text, args.font, args.size, **layout)
        meta.update(layout, **({"on_path": file_digest(args.on_path)} if args.on_path else {}))
    else:
        laid_out = text_to_scene(text, font, args.size)
    check_resources(laid_out, spec, "clipvg font (--size and the text set the canvas)")

    def new_editor(options, clip) -> Editor:
        return Editor(laid_out.clone(), options, clip)

    run_and_report(spec, lambda s, show_bar: run_session(s, edit_options(s), new_editor, meta, show_bar=show_bar),
                   args.quiet, args.cpu_note)
