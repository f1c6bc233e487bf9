"""save_svg / scene_to_svg_string: the written SVG keeps everything and other readers accept it."""
from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import resvg_py
import svgelements
import torch
from PIL import Image

from clipvg import (GradientStops, InvalidInputError, LinearGradient, Path, RadialGradient, Scene, Solid,
                    Stroke, Subpath, load_svg, save_svg)
from clipvg.svg import scene_to_svg_string
from svg_renderers import cairosvg_module
from svg_samples import COMPOUND_3, DONUT_EVENODD, FAITHFUL

NS = {"svg": "http://www.w3.org/2000/svg"}
INKSCAPE = "{http://www.inkscape.org/namespaces/inkscape}"


def resvg_rgba(text: str) -> np.ndarray:
    """(H, W, 4) premultiplied RGBA in [0, 1] rendered by resvg."""
    image = Image.open(io.BytesIO(bytes(resvg_py.svg_to_bytes(svg_string=text)))).convert("RGBA")
    rgba = np.asarray(image, dtype=np.float64) / 255
    return np.concatenate([rgba[..., :3] * rgba[..., 3:], rgba[..., 3:]], axis=-1)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1 / max(np.mean((a - b) ** 2), 1e-12)))


def sample_scene() -> Scene:
    stops = GradientStops([0.0, 0.4, 1.0], [[1, 0, 0, 1], [0, 1, 0, 0.5], [0, 0, 1, 1]])
    square = Subpath.polygon([[10, 10], [50, 10], [50, 50], [10, 50]])
    hole = Subpath.polygon([[20, 20], [20, 40], [40, 40], [40, 20]])
    curve = Subpath([[5, 60], [20, 50], [35, 70], [50, 60], [60, 55], [70, 64]], [3, 2], closed=False)
    paths = [
        Path([square, hole], fill=Solid((0.2, 0.4, 0.6, 0.8)), fill_rule="evenodd", layer="base", id="donut"),
        Path([curve], stroke=Stroke(Solid((0, 0, 0, 1)), width=2.5, cap="round", join="bevel", miter_limit=6),
             opacity=0.5, layer="lines"),
        Path([square], fill=LinearGradient((10, 10), (50, 50), stops, (1, 0.2, 0, 1, 3, 0), "reflect"),
             layer="base"),
        Path([hole], fill=RadialGradient((30, 30), 12, stops, (26, 28), spread="repeat"),
             stroke=Stroke(LinearGradient((0, 0), (80, 0), stops), width=1), layer="top"),
    ]
    return Scene.from_paths(paths, 80, 72, ["base", "lines", "top"])


def test_written_svg_structure():
    root = ET.fromstring(scene_to_svg_string(sample_scene()))
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == ("80", "72", "0 0 80 72")
    groups = root.findall("svg:g", NS)
    assert [g.get(f"{INKSCAPE}label") for g in groups] == ["base", "lines", "base", "top"]
    assert {g.get(f"{INKSCAPE}groupmode") for g in groups} == {"layer"}
    assert len({g.get("id") for g in groups}) == 4  # the second "base" run gets its own id
    donut = root.find(".//svg:path[@id='donut']", NS)
    assert donut.get("fill") == "#336699" and donut.get("fill-opacity") == "0.8"
    assert donut.get("fill-rule") == "evenodd" and donut.get("d").count("M") == 2
    line = groups[1].find("svg:path", NS)
    assert line.get("fill") == "none" and line.get("opacity") == "0.5"
    assert (line.get("stroke-width"), line.get("stroke-linecap"), line.get("stroke-linejoin"),
            line.get("stroke-miterlimit")) == ("2.5", "round", "bevel", "6")
    assert line.get("d") == "M5 60 C20 50 35 70 50 60 Q60 55 70 64"
    linear, radial, stroke = root.find("svg:defs", NS)
    assert linear.get("gradientUnits") == "userSpaceOnUse" and linear.get("spreadMethod") == "reflect"
    assert linear.get("gradientTransform") == "matrix(1 0.2 0 1 3 0)"
    assert [s.get("stop-opacity") for s in linear] == [None, "0.5", None]
    assert (radial.get("fx"), radial.get("fy"), radial.get("r"), radial.get("spreadMethod")) == ("26", "28", "12", "repeat")
    assert stroke.get("gradientTransform") is None
    assert root.find(".//svg:path[@stroke]", NS) is not None


def test_every_subpath_and_the_fill_rule_survive():
    donut = ET.fromstring(scene_to_svg_string(load_svg(DONUT_EVENODD))).find(".//svg:path", NS)
    assert donut.get("fill-rule") == "evenodd" and donut.get("d").count("M") == 2
    three = ET.fromstring(scene_to_svg_string(load_svg(COMPOUND_3))).find(".//svg:path", NS)
    assert three.get("d").count("M") == 3 and three.get("d").count("Z") == 3 and three.get("fill-rule") is None
    scene = load_svg(scene_to_svg_string(load_svg(COMPOUND_3)))
    assert [s.degrees.tolist() for s in scene.path(0).subpaths] == [[1, 1, 1, 1], [1, 1, 1], [3, 1, 1, 1]]


def test_other_readers_accept_the_output():
    text = scene_to_svg_string(sample_scene())
    document = svgelements.SVG.parse(io.StringIO(text))
    assert len([e for e in document.elements() if isinstance(e, svgelements.Path)]) == 4
    assert resvg_rgba(text)[..., 3].max() > 0
    assert cairosvg_module().svg2png(bytestring=text.encode()).startswith(b"\x89PNG")


@pytest.mark.parametrize("name", sorted(FAITHFUL))
def test_resaved_svg_renders_like_the_original(name):
    original = FAITHFUL[name]
    resaved = scene_to_svg_string(load_svg(original))
    assert psnr(resvg_rgba(original), resvg_rgba(resaved)) >= 40
    cairosvg_module().svg2png(bytestring=resaved.encode())


def test_save_svg_writes_a_file_atomically(tmp_path):
    target = tmp_path / "out" / "scene.svg"
    save_svg(sample_scene(), target, precision=2)
    text = target.read_text(encoding="utf-8")
    assert text.startswith("<?xml") and "inkscape:groupmode" in text
    assert list(target.parent.iterdir()) == [target]


def test_precision_rounds_coordinates():
    scene = Scene.from_paths([Path([Subpath.polygon([[1.23456, 2.5], [3, 4.99999], [0, 1]])], fill=Solid((0, 0, 0, 1)))],
                             10, 10)
    d = ET.fromstring(scene_to_svg_string(scene, precision=2)).find(".//svg:path", NS).get("d")
    assert d == "M1.23 2.5 L3 5 L0 1 L1.23 2.5 Z"


@pytest.mark.parametrize("precision", [0, 1, 4, 6])
def test_coordinates_are_written_like_per_number_formatting(precision):
    """Each number (formatted a path at a time) reads as f"{v:.{precision}f}" with trailing zeros and a
    bare point dropped, and a zero without its minus."""
    rng = np.random.default_rng(precision)
    values = np.concatenate([[0, -0.0, -1e-7, 100, -100, 10.05, 0.05, 2.5, 1234.5678901, -0.5, 0.5, 1.5],
                             rng.normal(0, 300, 200) * 10.0 ** -rng.integers(0, 7, 200)]).astype(np.float32)
    scene = Scene.from_paths([Path([Subpath.polygon(values.reshape(-1, 2))], fill=Solid((0, 0, 0, 1)))], 10, 10)
    d = ET.fromstring(scene_to_svg_string(scene, precision=precision)).find(".//svg:path", NS).get("d")
    closed = np.concatenate([values, values[:2]])  # the closing segment returns to the start point
    assert d.replace("M", "").replace("L", "").replace(" Z", "").split() == [printf(float(v), precision) for v in closed]


def printf(value: float, precision: int) -> str:
    """f"{value:.{precision}f}" with trailing zeros and a bare point dropped, and a zero without its minus."""
    text = f"{value:.{precision}f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text == "-0" else text


def per_number_data(subpaths: list[Subpath], precision: int) -> str:
    """A path's ``d`` written a number at a time (``printf``), the reference for the batched writer."""
    parts = []
    for subpath in subpaths:
        points = subpath.points.astype(np.float64).tolist() + (subpath.points[:1].tolist() if subpath.closed else [])
        words, row = [f"M{printf(points[0][0], precision)} {printf(points[0][1], precision)}"], 1
        for degree in subpath.degrees.tolist():
            numbers = [printf(v, precision) for point in points[row:row + degree] for v in point]
            words.append("LQC"[degree - 1] + " ".join(numbers))
            row += degree
        parts.append(" ".join(words) + (" Z" if subpath.closed else ""))
    return " ".join(parts)


@pytest.mark.parametrize("precision", [0, 2, 4, 8, 9])
def test_batched_path_data_matches_per_number_formatting(precision, monkeypatch, writer_test_paths):
    """``path_data`` over many paths, in several chunks, writes what per-number printf writes: mixed
    degrees, open and closed subpaths, paths without subpaths, exact halves (printf rounds them to even),
    and a chunk with a number too large for the batch or a precision past it (a number at a time)."""
    from clipvg.svg import path_writer

    monkeypatch.setattr(path_writer, "CHUNK", 40)
    paths = writer_test_paths(np.random.default_rng(precision), precision, 30, 17, 4)
    assert list(path_writer.path_data(paths, precision)) == [per_number_data(s, precision) for s in paths]
    assert "1152921504606846976" in list(path_writer.path_data(paths, precision))[17]


def test_non_finite_scene_is_refused_and_the_target_kept(tmp_path):
    target = tmp_path / "scene.svg"
    target.write_text("old")
    scene = sample_scene()
    scene.points[0, 0] = torch.nan
    with pytest.raises(InvalidInputError, match="NaN"):
        save_svg(scene, target)
    assert target.read_text() == "old" and len(list(tmp_path.iterdir())) == 1


def test_empty_scene_and_empty_layers():
    scene = Scene.from_paths([Path([Subpath.polygon([[0, 0], [1, 0], [1, 1]])], layer="b")], 4, 4, ["a", "b", "c"])
    reloaded = load_svg(scene_to_svg_string(scene))
    assert reloaded.layer_names == ["a", "b", "c"] and reloaded.num_paths == 1
    assert load_svg(scene_to_svg_string(Scene.empty(5, 6))).num_paths == 0
