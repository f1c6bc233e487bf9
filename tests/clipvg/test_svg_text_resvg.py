"""SVG text drawn by clipvg against resvg (resvg-py) with the same fonts: DejaVu Sans (Debian's
fonts-dejavu-core) and the synthetic test font; a case passes when fewer than 1 % of its pixels
differ by more than 16/255."""
from __future__ import annotations

import io

import numpy as np
import pytest
import resvg_py
from PIL import Image

import clipvg
from text_fonts import FAMILY, load, svg, text_font  # noqa: F401

pytestmark = pytest.mark.usefixtures("text_font")
DEJAVU = 'font-family="DejaVu Sans" font-size="28"'
PATH = '<path id="curve" d="M 20 150 C 80 60 220 60 380 150" fill="none" stroke="gray"/>'
# arcs, which resvg measures as kurbo's cubics (arms 4/3 tan(step / 4)): a glyph lands 0.1-0.3 px off otherwise
RING = ('<path id="ring" d="M 280 100 A 80 80 0 0 1 200 180 80 80 0 0 1 120 100 80 80 0 0 1 200 20 '
        '80 80 0 0 1 280 100 Z" fill="none" stroke="gray"/>')
# an arc under a non-uniform transform (resvg makes the cubics first, then transforms them) and one with a zero
# radius (a line)
TILTED = ('<path id="tilted" d="M 40 120 A 170 70 15 0 1 370 110" transform="translate(0 -10) scale(1 1.2) '
          'rotate(-5 200 100)" fill="none" stroke="gray"/><path id="flat" d="M 20 185 A 0 0 0 0 1 380 185"/>')
CASES = {
    "position-lists": f'<text x="20 60 100 140" y="60 80 100 120" {DEJAVU}>Text</text>',
    "nested-dx-rotate": (f'<text x="20" y="100" {DEJAVU} rotate="10">Te<tspan dx="5 10" dy="-10" rotate="-20 30">x'
                         f'<tspan fill="red">ts</tspan></tspan> after</text>'),
    "anchors": (f'<text x="200" y="50" text-anchor="middle" {DEJAVU}>Middle</text>'
                f'<text x="380" y="100" text-anchor="end" {DEJAVU}>End <tspan x="380" y="150">two</tspan></text>'),
    "spacing": f'<text x="20" y="100" letter-spacing="4" word-spacing="20" {DEJAVU}>A few words, spaced</text>',
    "text-length-spacing": f'<text x="20" y="60" textLength="360" {DEJAVU}>Stretched out</text>',
    "text-length-glyphs": f'<text x="20" y="140" textLength="300" lengthAdjust="spacingAndGlyphs" {DEJAVU}>Squeezed</text>',
    "text-path": f'{PATH}<text {DEJAVU}><textPath xlink:href="#curve" startOffset="20">Text along a curve</textPath></text>',
    "text-path-arcs": (f'{RING}<text {DEJAVU}><textPath xlink:href="#ring">Around and around the ring, '
                       f'then some more words</textPath></text>'),
    "text-path-transformed-arcs": (f'{TILTED}<text {DEJAVU}><textPath xlink:href="#tilted">Along a tilted '
                                   f'ellipse</textPath><textPath href="#flat">and a flat arc</textPath></text>'),
    # the space between the path and the tspan goes with the tspan: the tspan starts one space after the last glyph
    "text-path-then-tspan": (f'{PATH}<text x="20" y="40" {DEJAVU}>\n  Text\n  <textPath xlink:href="#curve">\n'
                             f'    Along a curve\n  </textPath>\n  <tspan fill="green">after</tspan>\n</text>'),
    "baselines": (f'<text x="20" y="100" {DEJAVU}>H<tspan baseline-shift="super">2</tspan>O '
                  f'<tspan baseline-shift="sub">x</tspan> <tspan dominant-baseline="central">mid</tspan>'
                  f'<tspan dominant-baseline="hanging">hang</tspan></text>'),
    "decoration": (f'<text x="20" y="100" fill="navy" text-decoration="line-through" {DEJAVU}>Struck '
                   f'<tspan fill="red">red</tspan> <tspan text-decoration="overline" fill="green">over</tspan></text>'),
    "vertical": f'<text x="200" y="20" writing-mode="tb" {DEJAVU}>Vertical</text>',
    "stroke-transform": (f'<text x="20" y="120" transform="rotate(-10 200 100)" fill="gold" stroke="black" '
                         f'stroke-width="1.5" font-family="DejaVu Sans" font-size="48">Outlined</text>'),
    "synthetic-kerning": f'<text x="20" y="150" font-family="{FAMILY}" font-size="100">AVO A</text>',
    "bidi": f'<text x="20" y="100" {DEJAVU}>Hello <tspan fill="green">שָׁלוֹם</tspan> عالم 123.</text>',
    "white-space": (f'<text x="20" y="100" {DEJAVU}>\n   Several   <tspan> spaces </tspan>\n  '
                    f'<tspan xml:space="preserve">kept   here</tspan></text>'),  # a tspan's space after a space
}


def _on_white(rgba: np.ndarray) -> np.ndarray:
    return rgba[..., :3] * rgba[..., 3:] + (1 - rgba[..., 3:])


@pytest.mark.parametrize("name", sorted(CASES))
def test_text_matches_resvg(name, text_font):
    markup = svg(CASES[name])
    png = resvg_py.svg_to_bytes(svg_string=markup, font_dirs=[str(text_font.parent)])
    reference = np.asarray(Image.open(io.BytesIO(bytes(png))).convert("RGBA"), dtype=np.float64) / 255
    ours = clipvg.render(load(markup)).numpy().astype(np.float64)
    differing = (np.abs(_on_white(ours) - _on_white(reference)).max(-1) > 16 / 255).mean()
    assert reference[..., 3].max() > 0 and differing < 0.01, f"{differing:.2%} of pixels differ"

