"""``clipvg render``: writes the PNG atomically, never touches the input, one-line errors."""
from __future__ import annotations

import hashlib
import sys

import numpy as np
import pytest
from PIL import Image

import clipvg
from clipvg.cli import main
from clipvg.samples import EXPORT_SAMPLES
from svg_samples import SHAPES


@pytest.fixture
def svg_file(tmp_path):
    path = tmp_path / "shapes.svg"
    path.write_text(SHAPES)
    return path


def test_render_writes_the_same_pixels_as_the_api(svg_file, tmp_path, capsys) -> None:
    before = hashlib.sha256(svg_file.read_bytes()).hexdigest()
    out = tmp_path / "out" / "shapes.png"
    assert main(["render", str(svg_file), "-o", str(out), "--width", "128"]) == 0
    assert "wrote" in capsys.readouterr().out
    written = np.asarray(Image.open(out), dtype=np.float64) / 255
    expected = clipvg.render(clipvg.load_svg(svg_file), 128, background=(1, 1, 1), samples=EXPORT_SAMPLES).numpy()
    assert written.shape == (128, 128, 4)
    assert np.abs(written - expected).max() <= 1 / 255 + 1e-6
    assert hashlib.sha256(svg_file.read_bytes()).hexdigest() == before
    assert [p.name for p in out.parent.iterdir()] == ["shapes.png"]  # no temporary file left behind


def test_transparent_background(svg_file, tmp_path) -> None:
    out = tmp_path / "t.png"
    assert main(["render", str(svg_file), "-o", str(out), "--background", "none"]) == 0
    assert np.asarray(Image.open(out))[0, 0, 3] == 0


@pytest.mark.parametrize("make_input, extra, message", [
    (lambda d: d / "missing.svg", [], "missing.svg"),
    (lambda d: (d / "bad.svg").write_text("<svg><path d='M0 0'") and d / "bad.svg", [], "bad.svg"),
    (lambda d: d / "x.svg", ["--backend", "diffvg"], "pydiffvg"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch, make_input, extra, message, svg_file) -> None:
    source = make_input(tmp_path)
    if source.name == "x.svg":
        source.write_text(SHAPES)
        monkeypatch.setitem(sys.modules, "pydiffvg", None)  # as where it is not built, even where it is
    code = main(["render", str(source), "-o", str(tmp_path / "o.png"), *extra])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o.png").exists()


def test_output_must_be_png_and_not_the_input(svg_file, capsys) -> None:
    assert main(["render", str(svg_file), "-o", str(svg_file.with_suffix(".jpg"))]) == 2
    assert main(["render", str(svg_file), "-o", str(svg_file)]) == 2
    assert svg_file.read_text() == SHAPES


# a stroke under a skew is outlined when the Scene is built: its polygons have more points than the ReadSVG counted
SKEWED = ('<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20"><path d="M3 3 L11 15" stroke="navy" '
          'stroke-width="3" transform="skewX(20)"/></svg>')


@pytest.mark.parametrize("markup, plans", [(SHAPES, 1), (SKEWED, 2)])
def test_render_plans_once_unless_the_scene_has_more_points(tmp_path, monkeypatch, markup, plans) -> None:
    """The plan made on the SVG before torch loaded is the renderer's, unless an outline added points to the
    Scene; the PNG is the API's either way."""
    import clipvg.cli.render_command as command
    import clipvg.render.api as api

    planned = []
    for module in (command, api):
        plan = module.render_plan
        monkeypatch.setattr(module, "render_plan",
                            lambda *args, plan=plan, **named: planned.append(args[0]) or plan(*args, **named))
    (tmp_path / "in.svg").write_text(markup)
    assert main(["render", str(tmp_path / "in.svg"), "-o", str(tmp_path / "out.png"), "--width", "40"]) == 0
    assert len(planned) == plans
    written = np.asarray(Image.open(tmp_path / "out.png"))
    expected = api.render_rgba8(clipvg.load_svg(tmp_path / "in.svg"), 40, background=(1, 1, 1))
    assert np.array_equal(written, expected)
