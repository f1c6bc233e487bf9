"""A generated corpus of broken and oversized inputs for the CLI front ends (shared by
tests/clipvg/test_bad_input.py and benchmarks/bad_input.py).

``cases(seed, count)`` yields ``Case``s: a name, the bytes of one input file (or none) and the
command line that reads it (``{file}``/``{out}`` are filled in by ``Case.argv``). Every case must end
with exit 0 or 2 and, when refused, a last stderr line of the form ``clipvg <command>: error: ...``.
"""
from __future__ import annotations

import base64
import io
import random
import re
import struct
import tempfile
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import Image

from synthetic_fonts import build_font
from system_tools import FAMILY, font_file

SVG_HEAD = '<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}">'
NUMBERS = ("1e309", "-1e309", "nan", "inf", "-inf", "1e-400", "99999999999999999999999", "1e38", "-0", "0", "")
COMMANDS = {
    "svg": ["render", "{file}", "-o", "{out}.png"],
    "png": ["vectorize", "{file}", "-o", "{out}.svg", "--max-size", "16"],
    "ttf": ["font", "AB", "--font", "{file}", "-o", "{out}.svg", "--prompt", ""],  # empty prompt: stops before CLIP
}


@dataclass
class Case:
    """One bad input: ``kind`` svg/png/ttf (the file's type) or arg (no file)."""

    name: str
    kind: str
    data: bytes
    args: list[str]

    def argv(self, folder: Path) -> list[str]:
        """The command line, writing the input into ``folder`` first."""
        file = folder / f"input.{self.kind}"
        if self.kind != "arg":
            file.write_bytes(self.data)
        return [a.format(file=file, out=folder / "out") for a in self.args]


def valid_svg(rng: random.Random) -> str:
    """A small drawable SVG with a group, a path, a rect, a circle and a gradient."""
    n = lambda: f"{rng.uniform(0, 40):.2f}"  # noqa: E731
    return (SVG_HEAD.format(w=48, h=48) + '<defs><linearGradient id="g"><stop offset="0" stop-color="red"/>'
            '<stop offset="1" stop-color="blue"/></linearGradient></defs>'
            f'<g transform="translate({n()} 1)"><path d="M{n()} {n()}L{n()} {n()}C{n()} {n()} {n()} {n()} {n()} {n()}Z" '
            f'fill="url(#g)"/><rect x="{n()}" width="{n()}" height="{n()}" stroke="black" stroke-width="{n()}"/>'
            f'<circle cx="{n()}" cy="{n()}" r="{n()}"/></g></svg>')


def _svg_cases(rng: random.Random) -> Iterator[Case]:
    text = valid_svg(rng)
    numbers = list(re_numbers(text))
    yield Case("svg truncated", "svg", text.encode()[: rng.randrange(len(text))], COMMANDS["svg"])
    start, end = rng.choice(numbers)
    yield Case("svg odd number", "svg", (text[:start] + rng.choice(NUMBERS) + text[end:]).encode(), COMMANDS["svg"])
    depth = rng.choice((50, 300, 1200, 20000))
    body = "<g>" * depth + '<rect width="5" height="5"/>' + "</g>" * depth
    yield Case(f"svg nested {depth}", "svg", (SVG_HEAD.format(w=9, h=9) + body + "</svg>").encode(), COMMANDS["svg"])
    points = rng.choice((100, 10_000, 250_000, 2_100_000))
    huge = SVG_HEAD.format(w=9, h=9) + '<path d="M0 0' + " L1 2" * points + '"/></svg>'
    yield Case(f"svg path of {points} points", "svg", huge.encode(), COMMANDS["svg"])
    side = rng.choice(("1e309", "60000", "-5", "0", "nan", "1e6"))
    yield Case(f"svg canvas {side}", "svg", (SVG_HEAD.format(w=side, h=side) + '<rect width="5" height="5"/></svg>'
                                              ).encode(), COMMANDS["svg"])
    data = bytearray(text.encode())
    for _ in range(rng.randrange(1, 8)):
        data[rng.randrange(len(data))] = rng.choice((0xFF, 0xFE, 0xC3, 0x00, 0x3C, 0x26))
    yield Case("svg bad bytes", "svg", bytes(data), COMMANDS["svg"])
    entity = rng.choice(('<!ENTITY a "&a;">', '<!ENTITY x SYSTEM "file:///etc/passwd">',
                         '<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">'))
    doc = f'<?xml version="1.0"?><!DOCTYPE svg [{entity}]>' + text.replace("</svg>", "<desc>&a;&x;&c;</desc></svg>")
    yield Case("svg entities", "svg", doc.encode(), COMMANDS["svg"])


def re_numbers(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each number in ``text``."""
    return ((m.start(), m.end()) for m in re.finditer(r"-?\d+(?:\.\d+)?", text))


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` px gray, with a tiny (wrong-size) IDAT."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0\0")) + chunk(b"IEND", b"")


def _image_cases(rng: random.Random) -> Iterator[Case]:
    pixels = np.random.default_rng(rng.randrange(1 << 30)).integers(0, 255, (12, 12, 3), np.uint8)
    for fmt in ("PNG", "JPEG"):
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, fmt)
        data = buffer.getvalue()
        yield Case(f"{fmt} truncated", "png", data[: rng.randrange(len(data))], COMMANDS["png"])
        flipped = bytearray(data)
        for _ in range(rng.randrange(1, 6)):
            flipped[rng.randrange(len(flipped))] = rng.randrange(256)
        yield Case(f"{fmt} bytes flipped", "png", bytes(flipped), COMMANDS["png"])
    side = rng.choice((0, 1, 9000, 30000, 1 << 30))
    yield Case(f"PNG header {side} px", "png", png_header(side, side), COMMANDS["png"])


@lru_cache(maxsize=1)
def _font_bytes() -> bytes:
    """The bytes of FAMILY's file where fontconfig has it, else of the synthetic test font (a machine
    without fonts, such as the GPU machine, still gets broken fonts to read)."""
    path = font_file(FAMILY)
    if path is not None:
        return path.read_bytes()
    with tempfile.TemporaryDirectory() as folder:
        return build_font(Path(folder) / "synthetic.ttf").read_bytes()


def _font_cases(rng: random.Random) -> Iterator[Case]:
    data = _font_bytes()
    yield Case("TTF truncated", "ttf", data[: rng.randrange(len(data))], COMMANDS["ttf"])
    flipped = bytearray(data[:4096])
    flipped[rng.randrange(len(flipped))] = rng.randrange(256)
    yield Case("TTF head flipped", "ttf", bytes(flipped), COMMANDS["ttf"])


def _argument_cases(rng: random.Random) -> Iterator[Case]:
    svg = valid_svg(rng).encode()
    value = rng.choice(("-5", "0", "60000", "1000000000", "1e9", "nan", "x"))
    yield Case(f"render --width {value}", "svg", svg, ["render", "{file}", "-o", "{out}.png", "--width", value])
    side = rng.choice(("left", "right", "top", "bottom"))
    yield Case(f"outpaint --{side} {value}", "svg", svg,
               ["outpaint", "{file}", "-o", "{out}.svg", f"--{side}", value, "--prompt", "x"])
    size = rng.choice(("100000", "-1", "nan", "inf", "0"))
    yield Case(f"font --size {size}", "arg", b"", ["font", "AB", "--font", FAMILY, "--size", size, "-o", "{out}.svg",
                                                  "--prompt", ""])
    yield Case("font 10000 characters", "arg", b"", ["font", "A" * 10_000, "--font", FAMILY, "-o", "{out}.svg",
                                                     "--prompt", "x"])


GENERATORS = (_svg_cases, _image_cases, _font_cases, _argument_cases)


def cases(seed: int, count: int) -> Iterator[Case]:
    """``count`` cases drawn from every generator in turn (the same ``seed``, the same cases)."""
    return _drawn(GENERATORS, seed, count)


def _drawn(generators: tuple, seed: int, count: int) -> Iterator[Case]:
    """``count`` cases from ``generators`` in turn, one random stream seeded with ``seed``."""
    rng = random.Random(seed)
    made = 0
    while True:
        for generator in generators:
            for case in generator(rng):
                if made == count:
                    return
                made += 1
                yield case


# -- the wider campaign (benchmarks/bad_input.py): SVG attribute fuzz, batch job lines, web requests --

FUZZ_NUMBERS = NUMBERS + ("1", "2.5", "-3", "1e3", ".5", "1.5.5", "0x10", "++1", "1e", "12345678901234567890e10")
TRANSFORMS = ("translate({a} {b})", "rotate({a} {b} {c})", "scale({a})", "scale({a},{b})", "skewX({a})", "skewY({a})",
              "matrix({a} {b} {c} {a} {b} {c})", "matrix({a},{b})", "rotate(", "translate({a}) scale({b}) rotate({c})",
              "foo({a})", "matrix({a} 0 0 {a} 0 0)")
COLOURS = ("red", "#f00", "#ff000080", "#12", "rgb({a},{b},{c})", "rgb({a}%,{b}%,{c}%)", "rgba({a},{b},{c},{a})",
           "hsl({a},{b}%,{c}%)", "currentColor", "none", "url(#g)", "url(#missing) red", "url(#g", "transparent",
           "icc-color(x)", "#gggggg", "rgb(1e309,0,0)", "inherit")
LENGTHS = ("{a}", "{a}px", "{a}mm", "{a}em", "{a}%", "{a}in", "{a}pt", "{a}ex", "{a}q", "{a}furlong", " {a} ")
ASPECTS = ("none", "xMidYMid", "xMinYMax slice", "xMaxYMin meet", "defer xMidYMid", "junk", "xMidYMid sliced", "")
PATH_COMMANDS = "MmLlHhVvCcSsQqTtAaZz"
ELEMENTS = ("path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "g", "use", "text")


def _numbers(rng: random.Random, count: int) -> list[str]:
    return [rng.choice(FUZZ_NUMBERS) if rng.random() < 0.15 else f"{rng.uniform(-50, 90):.{rng.randrange(4)}f}"
            for _ in range(count)]


def _fill(template: str, rng: random.Random) -> str:
    a, b, c = _numbers(rng, 3)
    return template.format(a=a, b=b, c=c)


def fuzz_path_data(rng: random.Random) -> str:
    """Random path data: real commands with 0-7 numbers each, odd numbers and junk tokens mixed in."""
    parts = []
    for _ in range(rng.randrange(1, 12)):
        command = rng.choice(PATH_COMMANDS + "XY,") if rng.random() < 0.95 else rng.choice(("", " ", "..", "#"))
        parts.append(command + rng.choice((" ", ",", "")).join(_numbers(rng, rng.randrange(8))))
    return rng.choice((" ", "")).join(parts)


def _fuzz_element(rng: random.Random, depth: int = 0) -> str:
    kind = rng.choice(ELEMENTS)
    attributes = {"fill": _fill(rng.choice(COLOURS), rng), "transform": _fill(rng.choice(TRANSFORMS), rng)}
    if kind == "path":
        attributes["d"] = fuzz_path_data(rng)
    elif kind in ("polyline", "polygon"):
        attributes["points"] = " ".join(_numbers(rng, rng.randrange(9)))
    elif kind == "use":
        attributes["href"] = rng.choice(("#a", "#g", "#self", "#", "http://x/y#z", ""))
    else:
        for name in rng.sample(("x", "y", "width", "height", "r", "rx", "ry", "cx", "cy", "x1", "y2"), 4):
            attributes[name] = _fill(rng.choice(LENGTHS), rng)
    for name in rng.sample(("stroke", "stroke-width", "opacity", "fill-opacity", "stroke-dasharray", "style",
                            "clip-path", "mask", "filter", "font-size", "stroke-linejoin"), rng.randrange(4)):
        value = {"stroke": lambda: _fill(rng.choice(COLOURS), rng), "style": lambda: _fuzz_style(rng),
                 "stroke-dasharray": lambda: ",".join(_numbers(rng, rng.randrange(5))),
                 "clip-path": lambda: "url(#c)", "mask": lambda: "url(#m)", "filter": lambda: "url(#f)",
                 "stroke-linejoin": lambda: rng.choice(("miter", "round", "arcs", "x"))}.get(
                     name, lambda: _fill(rng.choice(LENGTHS), rng))()
        attributes[name] = value
    attributes["id"] = rng.choice(("a", "b", "self", "c", "m"))
    text = " ".join(f'{k}="{escape(v)}"' for k, v in attributes.items())
    if kind == "g" and depth < 3:
        return f"<g {text}>" + "".join(_fuzz_element(rng, depth + 1) for _ in range(rng.randrange(3))) + "</g>"
    if kind == "text":
        return f"<text {text}>{escape(rng.choice(('Hi', '', 'x' * 40, chr(rng.randrange(32, 0x2FFF)))))}</text>"
    return f"<{kind} {text}/>"


def _fuzz_style(rng: random.Random) -> str:
    declarations = [f"{rng.choice(('fill', 'stroke', 'opacity', 'stroke-width', 'display', 'x', ''))}:"
                    f"{_fill(rng.choice(COLOURS + LENGTHS), rng)}" for _ in range(rng.randrange(4))]
    return rng.choice((";", "; ", ";;")).join(declarations) + rng.choice(("", ";", "}", "/*", "!important"))


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def fuzz_svg(rng: random.Random) -> str:
    """A small SVG document with fuzzed sizes, viewBox, preserveAspectRatio, paint servers, clip paths,
    masks, filters and shapes (each attribute valid or broken at random)."""
    width, height = (_fill(rng.choice(LENGTHS), rng) for _ in range(2))
    viewbox = " ".join(_numbers(rng, rng.choice((4, 4, 4, 3, 5))))
    defs = ('<defs><linearGradient id="g" x1="{a}" x2="{b}" gradientTransform="{t}"><stop offset="{c}" '
            'stop-color="{k}"/><stop offset="1" stop-color="blue"/></linearGradient>'
            '<clipPath id="c"><circle r="{a}" cx="{b}" cy="{c}"/></clipPath><mask id="m"><rect width="{b}" '
            'height="{c}" fill="{k}"/></mask><filter id="f"><feGaussianBlur stdDeviation="{a}"/></filter></defs>')
    a, b, c = _numbers(rng, 3)
    defs = defs.format(a=a, b=b, c=c, t=escape(_fill(rng.choice(TRANSFORMS), rng)), k=escape(_fill(rng.choice(COLOURS), rng)))
    body = "".join(_fuzz_element(rng) for _ in range(rng.randrange(1, 6)))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="{escape(width)}" '
            f'height="{escape(height)}" viewBox="{viewbox}" preserveAspectRatio="{rng.choice(ASPECTS)}">{defs}{body}</svg>')


def _svg_fuzz_cases(rng: random.Random) -> Iterator[Case]:
    yield Case("svg fuzzed attributes", "svg", fuzz_svg(rng).encode(), COMMANDS["svg"])


# an SVG whose reading needs the renderer's stroke and image code made lazy (a stroke under a skew or a
# non-uniform scale, a pattern stroke, an embedded SVG image), with one thing that must be refused or skipped
# fault: (canvas side, defs, the skewed path's attributes (stroke-width, transform, filter), the inner SVG's fault)
OUTLINED_FAULTS = {
    "canvas 60000": ("60000", "", {}, ""),
    "blur over 8192 px": ("8192", '<filter id="f"><feGaussianBlur stdDeviation="{n}00"/></filter>',
                          {"filter": "url(#f)"}, ""),
    "stroke-width 1e12": ("64", "", {"stroke-width": "1e12"}, ""),
    "odd skew": ("64", "", {"transform": "skewX({odd})"}, ""),
    "inner SVG truncated": ("64", "", {}, "cut"),
    "inner SVG nested 20000": ("64", "", {}, "deep"),
    "inner SVG canvas 1e6": ("64", "", {}, "huge"),
}


def outlined_svg(rng: random.Random, fault: str) -> str:
    """An SVG with a skewed, a non-uniformly scaled and a pattern stroke and an embedded SVG image (itself with a
    skewed stroke), spoiled by ``fault`` (an ``OUTLINED_FAULTS`` key)."""
    side, defs, spoiled, inner_fault = OUTLINED_FAULTS[fault]
    n = lambda: f"{rng.uniform(1, 40):.2f}"  # noqa: E731
    attributes = {"stroke-width": n(), "transform": f"skewX({n()})", **spoiled}
    skewed = "".join(f' {k}="{v.format(odd=rng.choice(NUMBERS))}"' for k, v in attributes.items())
    inner = ('<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{w}"><path d="M2 2L{a} {b}" stroke="navy" '
             'stroke-width="3" transform="skewY({c})"/>{deep}</svg>').format(
        w="1000000" if inner_fault == "huge" else "20", a=n(), b=n(), c=n(),
        deep="<g>" * 20000 + "</g>" * 20000 if inner_fault == "deep" else "")
    inner = inner[:rng.randrange(len(inner))] if inner_fault == "cut" else inner
    uri = "data:image/svg+xml;base64," + base64.b64encode(inner.encode()).decode()
    return (SVG_HEAD.format(w=side, h=side) + defs.format(n=rng.randrange(1, 9)) +
            '<pattern id="p" width="4" height="4" patternUnits="userSpaceOnUse"><rect width="2" height="4"/></pattern>'
            f'<path d="M{n()} {n()}Q{n()} {n()} {n()} {n()}" fill="none" stroke="green"{skewed}/>'
            f'<ellipse cx="{n()}" cy="{n()}" rx="{n()}" ry="{n()}" stroke="blue" transform="scale(1 {n()})"/><path d="M{n()} {n()}L{n()} {n()}" stroke="url(#p)" stroke-width="{n()}"/>'
            f'<image width="{n()}" height="{n()}" href="{uri}"/></svg>')


def _outlined_svg_cases(rng: random.Random) -> Iterator[Case]:
    fault = rng.choice(sorted(OUTLINED_FAULTS))
    yield Case(f"svg outlined strokes, SVG image: {fault}", "svg", outlined_svg(rng, fault).encode(), COMMANDS["svg"])


JOB_VALUES = (None, True, 0, -1, 1.5, 1e309, "", "x", "10,10,5,5=a box", [], {}, [1, 2], {"box": [1, 2, 3], "prompt": 1},
              [[0, 0, 10, 10], "a cat"], "a" * 2000, 10 ** 30, float("nan"))
JOB_KEYS = ("prompt", "roi", "iterations", "patches", "seed", "max_size", "colors_only", "mask", "output", "device",
            "precision", "backend", "clip_model", "params", "max_paths", "max_megapixels", "max_seconds", "refiner",
            "checkpoint_every", "id", "steps", "bogus", "input")


def _job_cases(rng: random.Random) -> Iterator[Case]:
    """A JSON Lines batch file of one to three jobs with junk values, keys, lines and bytes; ``{svg}`` in
    it stands for a valid SVG written beside it."""
    import json

    lines = []
    for _ in range(rng.randrange(1, 4)):
        job = {"input": "{svg}", "prompt": "a green circle"}
        for key in rng.sample(JOB_KEYS, rng.randrange(1, 4)):
            job[key] = rng.choice(JOB_VALUES)
        lines.append(json.dumps(job))
    broken = rng.random()
    if broken < 0.1:
        lines.append(lines[0][: rng.randrange(len(lines[0]))])
    elif broken < 0.15:
        lines.append(rng.choice(("[]", "null", "7", '"job"', "{", "# comment", "")))
    data = "\n".join(lines).encode()
    if rng.random() < 0.05:
        data += b"\n\xff\xfe{\x00"
    yield Case("batch job lines", "job", data, ["batch", "{file}", "-o", "{out}", "--iterations", "1"])


REQUEST_KEYS = ("version", "prompt", "rois", "change", "region_only", "iterations", "patches", "seed")


def _request_cases(rng: random.Random) -> Iterator[Case]:
    """A web editor request (JSON: method, path, query, body) with junk values; ``{doc}`` stands for a
    document uploaded before (a small valid SVG)."""
    import json

    choice = rng.random()
    if choice < 0.5:
        body = {"version": 0, "prompt": "a blue circle", "iterations": 1, "patches": 1}
        for key in rng.sample(REQUEST_KEYS, rng.randrange(1, 4)):
            body[key] = rng.choice(JOB_VALUES + ([{"x": 1, "y": 1, "w": 5, "h": 5, "prompt": "x"}],
                                                 [{"x": "a", "y": None}], "colors", "shapes"))
        request = {"method": "POST", "path": "/api/documents/{doc}/edits", "json": body}
    elif choice < 0.7:
        request = {"method": "POST", "path": "/api/documents", "body": valid_svg(rng),
                   "query": {"name": rng.choice(("a.svg", "../../x.svg", "", "x" * 300, "a\x00b.svg")),
                             "rounds": rng.choice(("10,30", "a,b", "-1", "0", "99999", "")),
                             "max_size": rng.choice(("16", "-5", "1e9", "x", "0"))}}
    elif choice < 0.85:
        request = {"method": rng.choice(("GET", "DELETE", "POST")),
                   "path": rng.choice(("/api/documents/{doc}/versions/%s/%s", "/api/jobs/%s/%s", "/api/documents/%s/%s"))
                   % (rng.choice(("0", "-1", "99", "x", "..", "%00")), rng.choice(("svg", "png", "zip", "pdf", "stop",
                                                                                    "resume", "continue", "events", "x")))}
    else:
        request = {"method": "POST", "path": "/api/documents/{doc}/edits",
                   "raw": rng.choice(("", "{", "[]", "null", '{"version": 0', "\xff", "x" * 5000))}
    yield Case("web request", "request", json.dumps(request).encode(), [])


def outline_points_svg(rng: random.Random) -> str:
    """An SVG whose path data is within the points limits and whose stroke, outlined when the Scene is built
    (under a skew or a non-uniform scale, or painted with a pattern), is over them: a zigzag of 30 000 or 40 000
    vertices (each adds 7-8 edges to the bound at the least) with random joins, caps, width and dashes."""
    vertices = rng.choice((30_000, 40_000))
    data = " ".join(f"{(i * rng.randrange(1, 9)) % 97} {(i * 7) % 89}" for i in range(vertices))
    paint, transform = rng.choice((("red", f"skewX({rng.uniform(1, 60):.1f})"),
                                   ("red", f"scale(1 {rng.uniform(0.1, 3):.2f})"), ("url(#p)", "")))
    dashes = rng.choice(("", ' stroke-dasharray="3 1"', ' stroke-dasharray="0 2"'))
    join, cap = rng.choice(("miter", "round", "bevel")), rng.choice(("butt", "round", "square"))
    return (SVG_HEAD.format(w=100, h=100) + '<pattern id="p" width="4" height="4" patternUnits="userSpaceOnUse">'
            f'<rect width="2" height="4"/></pattern><path id="zig" d="M{data}" fill="none" stroke="{paint}" '
            f'stroke-width="{rng.uniform(0.5, 12):.2f}" stroke-linejoin="{join}" stroke-linecap="{cap}" '
            f'transform="{transform}"{dashes}/></svg>')


def _outline_points_cases(rng: random.Random) -> Iterator[Case]:
    # drawn beside the shared stream (the other generators' cases stay), seeded from its state's integers only:
    # the state's last item is None, whose hash is its address, so hashing the whole state differed between runs
    own = random.Random(hash(rng.getstate()[1]))
    yield Case("svg stroke outline over the points limits", "svg", outline_points_svg(own).encode(), COMMANDS["svg"])


def _deep_json_cases(rng: random.Random) -> Iterator[Case]:
    # a batch job line and a web request body whose arrays nest past Python's recursion limit or just under it;
    # drawn beside the shared stream, as _outline_points_cases
    import json

    own = random.Random(hash(rng.getstate()[1]) + 1)
    depth = own.choice((500, 990, 5_000, 100_000))
    deep = "[" * depth + "]" * depth
    key = own.choice(("input", "prompt", "regions", "params", "limits", "roi", "seed"))
    line = '{"input": "{svg}", "prompt": "a cat", "%s": %s}' % (key, deep) if key not in ("input", "prompt") \
        else '{"%s": %s, "prompt": "a cat"}' % (key, deep)
    yield Case("batch job line nested N deep", "job", line.encode(), ["batch", "{file}", "-o", "{out}", "--iterations", "1"])
    body = deep if own.random() < 0.5 else '{"version": 0, "prompt": "a cat", "%s": %s}' % (key, deep)
    yield Case("web request nested N deep", "request",
               json.dumps({"method": "POST", "path": "/api/documents/{doc}/edits", "raw": body}).encode(), [])


def nested_svg(kind: str, size: int) -> str:
    """An SVG that nests or repeats one thing ``size`` times: CSS selectors or values, a chain of uses, text
    characters, bare movetos, gradient stops."""
    rect = '<rect id="r" width="9" height="9"/>'
    body = {
        "css selector": "<style>" + ":not(" * size + "rect" + ")" * size + " { fill: red }</style>" + rect,
        "css value": "<style>rect { fill: " + "f(" * size + ")" * size + " }</style>" + rect,
        "use chain": "".join(f'<use id="u{k}" href="#u{k + 1}"/>' for k in range(size)) + f'<rect id="u{size}" width="9" height="9"/>',
        "text": f'<text y="20" font-size="4">{"ab c" * (size // 4)}</text>',
        "bare movetos": f'<path d="{"M" * size}"/>' + rect,
        "gradient stops": '<linearGradient id="g">' + '<stop offset=".5" stop-color="red"/>' * size
                          + '</linearGradient><rect width="9" height="9" fill="url(#g)"/>',
    }[kind]
    return SVG_HEAD.format(w=48, h=48) + body + "</svg>"


NESTED_SIZES = {"css selector": (50, 300, 5_000), "css value": (300, 50_000), "use chain": (100, 300, 3_000),
                "text": (2_000, 30_000, 200_000), "bare movetos": (10_000, 1_000_000), "gradient stops": (1_000, 20_000)}


def _nested_svg_cases(rng: random.Random) -> Iterator[Case]:
    # drawn beside the shared stream, as _outline_points_cases
    own = random.Random(hash(rng.getstate()[1]) + 2)
    kind = own.choice(sorted(NESTED_SIZES))
    yield Case(f"svg {kind} N", "svg", nested_svg(kind, own.choice(NESTED_SIZES[kind])).encode(), COMMANDS["svg"])


def long_segment_stroke_svg(segments: int) -> str:
    """A stroked zigzag of ``segments`` long segments across a 200 px canvas, within the points limits: the render's
    memory grows with the pieces its edges are cut into at the pixel grid (``clipvg.crossings``; 150 000 segments
    took 18 GB through ``clipvg render`` before they were counted)."""
    data = " ".join(f"{i % 190} {(i * 7) % 190}" for i in range(segments + 1))
    return SVG_HEAD.format(w=200, h=200) + f'<path d="M{data}" fill="none" stroke="red"/></svg>'


def _long_segment_stroke_cases(rng: random.Random) -> Iterator[Case]:
    # drawn beside the shared stream, as _outline_points_cases
    own = random.Random(hash(rng.getstate()[1]) + 3)
    # one in ten is the render drawn in bands of rows (14.5 s through `clipvg render` in one thread: the campaign's
    # slowest accepted case); the others are drawn in one piece or refused by their pieces
    segments = 30_000 if own.random() < 0.1 else own.choice((1_000, 150_000))
    yield Case("svg stroke of N long segments", "svg", long_segment_stroke_svg(segments).encode(), COMMANDS["svg"])


CAMPAIGN_GENERATORS = GENERATORS + (_svg_fuzz_cases, _svg_fuzz_cases, _svg_fuzz_cases, _outlined_svg_cases, _job_cases,
                                    _job_cases, _request_cases, _request_cases, _outline_points_cases, _deep_json_cases,
                                    _nested_svg_cases, _long_segment_stroke_cases)


def campaign_cases(seed: int, count: int) -> Iterator[Case]:
    """``count`` cases of the CLI corpus (``cases``) and the campaign's own generators, in turn."""
    return _drawn(CAMPAIGN_GENERATORS, seed, count)
