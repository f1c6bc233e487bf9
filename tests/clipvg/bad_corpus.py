"""A generated corpus of broken and oversized inputs for the CLI front ends (shared by
tests/clipvg/test_bad_input.py and benchmarks/bad_input.py).

``cases(seed, count)`` yields ``Case``s: a name, the bytes of one input file (or none) and the
command line that reads it (``{file}``/``{out}`` are filled in by ``Case.argv``). Every case must end
with exit 0 or 2 and, when refused, a last stderr line of the form ``clipvg <command>: error: ...``.
"""
from __future__ import annotations

import io
import random
import re
import struct
import subprocess
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import Image

SVG_HEAD = '<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}">'
NUMBERS = ("1e309", "-1e309", "nan", "inf", "-inf", "1e-400", "99999999999999999999999", "1e38", "-0", "0", "")
FAMILY = "DejaVu Sans"
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
    path = subprocess.run(["fc-match", "-f", "%{file}", FAMILY], capture_output=True, text=True).stdout
    return Path(path).read_bytes()


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
    rng = random.Random(seed)
    made = 0
    while True:
        for generator in GENERATORS:
            for case in generator(rng):
                if made == count:
                    return
                made += 1
                yield case
