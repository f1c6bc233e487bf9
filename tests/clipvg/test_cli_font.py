"""``clipvg font``'s layout flags (clipvg.font_layout): letter spacing, baselines, vertical writing and
text on a path move the glyphs as the SVG text layout places them (DejaVu Sans from fonts-dejavu-core and
the synthetic test font, registered with fontconfig); bad values stop with one line and exit 2."""
from __future__ import annotations

import numpy as np
import pytest

from clipvg.cli import main
from clipvg.errors import InvalidInputError
from clipvg.font_layout import text_layout_scene
from clipvg.svg import load_svg
from edit_scenes import quick_settings
from text_fonts import FAMILY, text_font  # noqa: F401

pytestmark = pytest.mark.usefixtures("text_font")
SIZE = 100.0  # the synthetic font has 1000 units per em: 1 unit = 0.1 px
DEJAVU = "DejaVu Sans"


def _boxes(scene) -> np.ndarray:
    """(x0, y0, x1, y1) of each glyph path, (N, 4) px."""
    boxes = []
    for path in scene.paths():
        points = np.concatenate([s.points for s in path.subpaths])
        boxes.append([*points.min(0), *points.max(0)])
    return np.asarray(boxes)


def _points(scene) -> np.ndarray:
    return np.concatenate([s.points for p in scene.paths() for s in p.subpaths])


def test_layers_keep_the_glyph_names():
    scene = text_layout_scene("H I", DEJAVU, SIZE, letter_spacing="3")
    assert scene.layer_names == ["glyph0_H", "glyph1_I"]


@pytest.mark.parametrize("spacing, px", [("20", 20.0), ("0.15em", 15.0), ("-5", -5.0)])
def test_letter_spacing_adds_after_each_letter(spacing, px):
    plain = _boxes(text_layout_scene("HIH", DEJAVU, SIZE, margin=10))
    spaced = _boxes(text_layout_scene("HIH", DEJAVU, SIZE, margin=10, letter_spacing=spacing))
    np.testing.assert_allclose(spaced[:, 0] - plain[:, 0], px * np.arange(3), atol=1e-3)
    np.testing.assert_allclose(spaced[:, 1], plain[:, 1], atol=1e-3)


# downward shift of the glyphs in em when the baseline is set (synthetic font: ascender 800, descender
# -200, x-height 500 units; Chrome's ratios as in clipvg.svg.text.baselines)
@pytest.mark.parametrize("baseline, em", [("middle", 0.25), ("central", 0.3), ("hanging", 0.64),
                                          ("mathematical", 0.4), ("text-before-edge", 0.8)])
def test_baseline_moves_the_glyphs_down(baseline, em):
    plain = _boxes(text_layout_scene("AVO", FAMILY, SIZE, margin=10))
    moved = _boxes(text_layout_scene("AVO", FAMILY, SIZE, margin=10, baseline=baseline))
    np.testing.assert_allclose(moved[:, 1] - plain[:, 1], em * SIZE, atol=1e-3)
    np.testing.assert_allclose(moved[:, 0], plain[:, 0], atol=1e-3)


def test_vertical_text_stacks_letters_and_columns_right_to_left():
    scene = text_layout_scene("HI\nH", DEJAVU, SIZE, margin=10, vertical=True)
    boxes = _boxes(scene)
    centres = (boxes[:, 0] + boxes[:, 2]) / 2
    assert abs(centres[0] - centres[1]) < 1e-3  # one column
    assert boxes[1, 1] > boxes[0, 3]  # I below H
    plain = _boxes(text_layout_scene("HI\nH", DEJAVU, SIZE, margin=10))
    line = plain[2, 1] - plain[0, 1]  # the line height the horizontal lines step by
    np.testing.assert_allclose(centres[0] - centres[2], line, atol=1e-3)  # next column to the left
    np.testing.assert_allclose(boxes[2, 1], boxes[0, 1], atol=1e-3)
    assert scene.width > boxes[:, 2].max() and scene.height > boxes[:, 3].max()


@pytest.fixture
def guides(tmp_path):
    """A horizontal guide, and the same guide turned 90 degrees (written inside a translated group)."""
    flat, turned = tmp_path / "flat.svg", tmp_path / "turned.svg"
    root = '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400">{}</svg>'
    flat.write_text(root.format('<path d="M 50 150 L 390 150" stroke="black"/>'))
    turned.write_text(root.format('<g transform="translate(0 -10)"><path d="M 100 30 L 100 390" stroke="black"/>'
                                  '</g><path d="M 0 0 L 5 5"/>'))
    return flat, turned


def test_on_path_follows_the_path(guides):
    flat, turned = guides
    along = text_layout_scene("AVO", FAMILY, SIZE, on_path=flat)
    plain = text_layout_scene("AVO", FAMILY, SIZE, margin=0)
    assert (along.width, along.height) == (400, 400)
    # on a straight path the text sits as if set at the path's start (each glyph's middle found on the
    # path by resvg's arc-length search, to 0.5 user units)
    origin = np.array([0.0, 800 * SIZE / 1000])  # plain text's first origin: (margin, margin + ascender)
    np.testing.assert_allclose(_points(along), _points(plain) - origin + [50, 150], atol=0.5)
    # on the turned path every glyph turns with it, about the path's start
    down = text_layout_scene("AVO", FAMILY, SIZE, on_path=turned)
    rotated = (_points(along) - [50, 150]) @ np.array([[0.0, 1.0], [-1.0, 0.0]]) + [100, 20]
    np.testing.assert_allclose(_points(down), rotated, atol=0.5)
    np.testing.assert_allclose(_points(down)[:, 0], rotated[:, 0], atol=0.02)  # across the path: exact


@pytest.mark.parametrize("flag, value, message", [
    ("--baseline", "sideways", "--baseline 'sideways' is unknown"),
    ("--letter-spacing", "wide", "--letter-spacing 'wide' is not a length"),
    ("--on-path", "{missing}", "not found"),
    ("--on-path", "{empty}", "has no path"),
    ("--on-path", "{short}", "draws nothing (off the path"),
])
def test_bad_values_stop_with_one_line(tmp_path, capsys, flag, value, message):
    root = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">{}</svg>'
    (tmp_path / "empty.svg").write_text(root.format("<g/>"))
    (tmp_path / "short.svg").write_text(root.format('<rect width="0.1" height="0.1"/>'))  # shapes are paths too
    value = value.format(**{name: tmp_path / f"{name}.svg" for name in ("missing", "empty", "short")})
    code = main(["font", "AVO", "--font", FAMILY, flag, value, "-o", str(tmp_path / "out.svg"), "--prompt", "x"])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err


def test_font_file_not_installed(tmp_path):
    from synthetic_fonts import build_font

    with pytest.raises(InvalidInputError, match="not installed"):
        text_layout_scene("AVO", build_font(tmp_path / "loose.ttf"), SIZE, vertical=True)


def test_font_command_on_path(tmp_path, capsys, guides, monkeypatch):
    """The guide SVG is read once: the layout sets the text on the path the input check read."""
    import clipvg.svg.reader as reader

    reads = []
    read = reader._read_svg
    monkeypatch.setattr(reader, "_read_svg", lambda *args: reads.append(args[0]) or read(*args))
    settings = quick_settings()
    code = main(["font", "AVO", "--font", FAMILY, "--on-path", str(guides[1]), "--letter-spacing", "4",
                 "-o", str(tmp_path / "font.svg"), "--prompt", "flames", "--iterations", "1", "--clip-model",
                 settings["clip_model"], "--clip-weights", settings["clip_weights"], "--patches", "2", "--device",
                 "cpu", "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert reads.count(str(guides[1])) == 1
    scene = load_svg(tmp_path / "font.svg")
    assert scene.layer_names == ["glyph0_A", "glyph1_V", "glyph2_O"] and (scene.width, scene.height) == (400, 400)
