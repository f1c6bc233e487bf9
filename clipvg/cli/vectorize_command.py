"""``clipvg vectorize IN.png -o OUT.svg``: trace a raster into a layered SVG (one group per round)."""
from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

from ..errors import InvalidInputError


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = sub.add_parser("vectorize", help="trace a raster image into a layered, editable SVG")
    parser.add_argument("input", help="image file (PNG, JPEG, ...; gray, RGB, RGBA, 8 or 16 bit)")
    parser.add_argument("-o", "--output", required=True, help="SVG file to write")
    parser.add_argument("--paths", type=_positive("--paths", "paths"), default=None, metavar="N",
                        help="path budget: at most N paths in all; regions are merged, least colour error "
                             "first, until it holds (overrides the --quality preset's budget)")
    parser.add_argument("--quality", choices=("draft", "default", "fine", "auto"), default=None,
                        help="budget preset: about 250, 1000 or 3000 paths at 512 px (scaled with the canvas), "
                             "with a matching curve tolerance; auto (the default when no --paths, --quality or "
                             "--rounds is given): the knee of the picture's rate-distortion curve, at most 3000 "
                             "paths at 512 px; --rounds alone gives the fixed colour rounds")
    parser.add_argument("--gradients", choices=("none", "linear", "radial"), default=None,
                        help="with a budget: gradient fills to fit where they lower the error (default radial: "
                             "linear and radial)")
    parser.add_argument("--rounds", type=_rounds, default=None, metavar="N,N,...",
                        help="colours per full-image round, bottom to top (10,30); alone, fixed colour rounds "
                             "with as many paths as they need; with a budget, the layers and their relative "
                             "detail (default 10,30: a bottom layer a third as detailed)")
    parser.add_argument("--region", type=_region, action="append", default=[], metavar="X,Y,W,H:N",
                        help="extra N-colour round over a box in input pixels, on top (repeatable)")
    parser.add_argument("--max-size", type=int, default=512,
                        help="downscale so the long side is at most this many pixels (default 512)")
    parser.add_argument("--min-area", type=_positive("--min-area", "pixels"), default=None,
                        help="smallest region in pixels (default 18; 3 with a budget)")
    parser.add_argument("--backend", choices=("native", "vtracer"), default="native")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--psnr", choices=("fills", "render"), default="fills",
                        help="the summary's PSNR vs the input: of the regions' fills at the pixel centres, as the "
                             "vectorizer found them (fills, default: no extra work), or of the written paths "
                             "rendered (render: curves and anti-aliasing too; loads torch, a few seconds more)")
    return parser


def run(args: argparse.Namespace) -> None:
    """Vectorize, write the SVG, print one summary line. Loads no torch for the native backend (unless
    ``--psnr render``): the SVG comes from the vectorizer's numpy paths and the PSNR from its own
    regions' fills (``fill_raster``: the colours the paths are filled with, at the pixel centres, before
    curve smoothing and anti-aliasing); the vtracer backend's PSNR is always of its rendered scene."""
    from vectorize import load_image, vectorize_paths
    from vectorize.image_io import resize_long_side
    from vectorize.metrics import psnr, raster_psnr

    source, target = Path(args.input), Path(args.output)
    if target.suffix.lower() != ".svg":
        raise InvalidInputError(f"output must be an .svg file, got {target}")
    if target.resolve() == source.resolve():
        raise InvalidInputError(f"output {target} is the input; choose another output path")
    started = time.perf_counter()
    image = load_image(source)
    with warnings.catch_warnings(record=True) as notes:
        warnings.simplefilter("always")
        no_detail_flag = args.paths is None and args.quality is None and args.rounds is None
        result = vectorize_paths(image, rounds=args.rounds or (10, 30), regions=args.region,
                                 max_size=args.max_size, min_area=args.min_area, backend=args.backend,
                                 progress=True, seed=args.seed, paths=args.paths,
                                 quality="auto" if no_detail_flag else args.quality, gradients=args.gradients)
        reference = resize_long_side(image, args.max_size)
    seconds = time.perf_counter() - started
    result.save_svg(target)
    for note in {str(n.message) for n in notes}:
        print(f"note: {note}")
    layers = " + ".join(str(len(result.layer_paths(name))) for name in result.layer_names)
    if result.levels is None or args.psnr == "render":
        quality = f"PSNR {psnr(result.scene(), reference):.2f} dB vs input (rendered)"
    else:
        quality = f"PSNR {raster_psnr(result.fill_raster(), reference):.2f} dB vs input (region fills)"
    print(f"wrote {target}: {result.num_paths} paths ({layers}), {quality}, {seconds:.1f} s")


def _rounds(text: str) -> tuple[int, ...]:
    try:
        rounds = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"rounds are comma-separated colour counts like 10,30, got {text!r}")
    if not rounds or min(rounds) < 1:
        raise argparse.ArgumentTypeError(f"every round needs at least 1 colour, got {text!r}")
    return rounds


def _positive(flag: str, unit: str):
    """An argparse type for ``flag``: a whole number of ``unit`` >= 1."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} is a whole number of {unit}, got {text!r}") from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"{flag} must be at least 1, got {text!r}")
        return value
    return parse


def _region(text: str):
    from vectorize import Region

    try:
        box, colors = text.split(":") if ":" in text else (text, "30")
        x, y, w, h = (int(v) for v in box.split(","))
        return Region(box=(x, y, w, h), colors=int(colors))
    except (ValueError, InvalidInputError) as error:
        raise argparse.ArgumentTypeError(f"a region is X,Y,W,H or X,Y,W,H:N in input pixels, got {text!r} ({error})")
