"""clipvg.fonts.text_to_scene: outlines, holes, kerning, layers, errors (fonts built by the tests)."""
from __future__ import annotations

import glob

import pytest
import torch

import clipvg
from clipvg.errors import InvalidInputError
from clipvg.fonts import text_to_scene
from synthetic_fonts import ADVANCE, build_font

SIZE = 100.0  # px per em; the test fonts have 1000 units per em, so 1 unit = 0.1 px


@pytest.fixture(scope="module")
def fonts(tmp_path_factory):
    root = tmp_path_factory.mktemp("fonts")
    return {
        "ttf": build_font(root / "pair.ttf", gpos="feature kern { pos A V -120; } kern;"),
        "otf": build_font(root / "class.otf", cff=True,
                          gpos="@L = [A]; @R = [V O]; feature kern { pos @L @R -50; } kern;"),
        "legacy": build_font(root / "legacy.ttf", kern_table={("A", "V"): -100}),
    }


def _left_edge(scene, layer: int) -> float:
    points = scene.points[scene.point_path_index() == layer]
    return float(points[:, 0].min())


@pytest.mark.parametrize("kind, degree", [("ttf", 2), ("otf", 3)])
def test_outline_curves_and_holes(fonts, kind, degree):
    scene = text_to_scene("O", fonts[kind], SIZE, margin=10)
    assert scene.num_paths == 1 and scene.layer_names == ["glyph0_O"]
    assert degree in scene.segment_degrees.tolist()
    assert len(scene.path(0).subpaths) == 2  # outer contour and hole, one compound path
    alpha = clipvg.render(scene)[..., 3]
    baseline = 10 + 80  # margin + ascent (800 units)
    ring = alpha[baseline - 15, 10 + 17]  # between outer (x 10..80 from 100..700 units) and hole
    hole = alpha[baseline - 40, 10 + 40]  # centre of the 250..550 hole
    outside = alpha[2, 2]
    assert ring > 0.99 and hole < 0.01 and outside < 0.01


@pytest.mark.parametrize("kind, units", [("ttf", -120), ("otf", -50), ("legacy", -100)])
def test_kerning_moves_the_second_glyph(fonts, kind, units):
    kerned = text_to_scene("AV", fonts[kind], SIZE)
    plain = text_to_scene("AV", fonts[kind], SIZE, kerning=False)
    shift = _left_edge(kerned, 1) - _left_edge(plain, 1)
    assert shift == pytest.approx(units * SIZE / 1000, abs=1e-4)
    assert _left_edge(kerned, 0) == _left_edge(plain, 0)
    assert kerned.width == plain.width + round(units * SIZE / 1000)


def test_class_kerning_applies_only_to_listed_pairs(fonts):
    kerned = text_to_scene("VO", fonts["otf"], SIZE)  # V is not in the left class
    plain = text_to_scene("VO", fonts["otf"], SIZE, kerning=False)
    assert torch.equal(kerned.points, plain.points)


def test_layout_layers_spaces_and_lines(fonts):
    scene = text_to_scene("A V\nO", fonts["ttf"], SIZE, margin=0, fill=(1, 0, 0, 1))
    assert scene.layer_names == ["glyph0_A", "glyph1_V", "glyph2_O"]  # the space has no outline
    assert scene.width == 3 * ADVANCE * SIZE / 1000
    assert scene.height == 2 * SIZE  # two lines of ascent - descent = 1000 units, no line gap
    assert _left_edge(scene, 1) == pytest.approx(2 * ADVANCE * SIZE / 1000 + 5)  # after A and the space
    assert float(scene.points[scene.point_path_index() == 2][:, 1].min()) > SIZE  # O on the second line
    assert scene.fill_color[:, :3].tolist() == [[1.0, 0.0, 0.0]] * 3


def test_points_are_pixels_y_down(fonts):
    scene = text_to_scene("A", fonts["ttf"], SIZE, margin=10)
    points = scene.points
    assert float(points[:, 1].max()) == pytest.approx(10 + 80)  # baseline: margin + ascent
    assert float(points[:, 1].min()) == pytest.approx(10 + 80 - 70)  # apex at 700 units
    assert float(points[:, 0].min()) == pytest.approx(10 + 5)


def test_errors(fonts, tmp_path):
    bad = tmp_path / "bad.ttf"
    bad.write_bytes(b"not a font")
    with pytest.raises(InvalidInputError, match="cannot read font"):
        text_to_scene("A", bad)
    with pytest.raises(InvalidInputError, match="not found"):
        text_to_scene("A", tmp_path / "missing.ttf")
    with pytest.raises(InvalidInputError, match="no glyph for 'Z'"):
        text_to_scene("AZ", fonts["ttf"])
    with pytest.raises(InvalidInputError, match="empty"):
        text_to_scene("  ", fonts["ttf"])
    with pytest.raises(InvalidInputError, match="size"):
        text_to_scene("A", fonts["ttf"], size=0)


SYSTEM_FONTS = sorted(path for root in ("/usr/share/fonts", "/usr/share/texmf/fonts") for ext in ("ttf", "otf")
                      for path in glob.glob(f"{root}/**/*.{ext}", recursive=True))


@pytest.mark.parametrize("suffix", [".ttf", ".otf"])
def test_system_font(suffix):
    found = [f for f in SYSTEM_FONTS if f.endswith(suffix)]
    if not found:
        pytest.skip(f"no {suffix} font installed (CI installs fonts-dejavu-core and fonts-texgyre)")
    font = next((f for f in found if "DejaVuSans.ttf" in f or "texgyreheros-regular" in f), found[0])
    scene = text_to_scene("Hello", font, 48)
    assert scene.num_paths == 5
    alpha = clipvg.render(scene)[..., 3]
    assert 0.05 < float(alpha.mean()) < 0.6
