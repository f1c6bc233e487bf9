import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

from clipvg.cli import main


@pytest.fixture
def png(tmp_path):
    image = np.zeros((40, 64, 3), np.uint8)
    image[:] = (240, 240, 240)
    image[5:30, 5:30] = (200, 0, 0)
    image[10:35, 35:60] = (0, 90, 200)
    path = tmp_path / "in.png"
    Image.fromarray(image).save(path)
    return path


def test_vectorize_command_writes_layered_svg_and_summary(png, tmp_path, capsys):
    before = png.read_bytes()
    out = tmp_path / "out" / "in.svg"
    assert main(["vectorize", str(png), "-o", str(out), "--rounds", "3,6", "--region", "30,5,30,30:4",
                 "--max-size", "32", "--min-area", "1"]) == 0
    printed = capsys.readouterr()
    assert "paths" in printed.out and "PSNR" in printed.out and " s" in printed.out
    assert "resized from 64x40 to 32x20" in printed.out
    root = ET.parse(out).getroot()
    groups = [g.get("id") for g in root.iter("{http://www.w3.org/2000/svg}g")]
    assert groups == ["round-1-3colors", "round-2-6colors", "region-1-4colors"]
    assert root.get("width") == "32"
    assert png.read_bytes() == before


@pytest.mark.parametrize("args, message", [
    (["missing.png", "-o", "x.svg"], "does not exist"),
    (["{png}", "-o", "{png}"], "must be an .svg"),
    (["{png}", "-o", "out.png.svg", "--region", "500,500,10,10:3"], "outside"),
])
def test_user_errors_print_one_line_and_exit_2(png, tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    args = [a.format(png=png) for a in args]
    assert main(["vectorize", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_output_never_overwrites_the_input(tmp_path, capsys):
    svg_named_png = tmp_path / "picture.svg"
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(svg_named_png, format="PNG")
    before = svg_named_png.read_bytes()
    assert main(["vectorize", str(svg_named_png), "-o", str(svg_named_png)]) == 2
    assert "is the input" in capsys.readouterr().err
    assert svg_named_png.read_bytes() == before


@pytest.mark.parametrize("flag", [["--rounds", "10,x"], ["--rounds", "0"], ["--region", "1,2,3:4"]])
def test_malformed_options_are_usage_errors(png, flag):
    with pytest.raises(SystemExit) as stop:
        main(["vectorize", str(png), "-o", "x.svg", *flag])
    assert stop.value.code == 2


def test_paths_quality_and_gradients_flags(png, tmp_path, capsys):
    out = tmp_path / "budget.svg"
    assert main(["vectorize", str(png), "-o", str(out), "--paths", "4", "--rounds", "30"]) == 0
    assert "4 paths" in capsys.readouterr().out
    root = ET.parse(out).getroot()
    assert len(list(root.iter("{http://www.w3.org/2000/svg}path"))) <= 4
    assert [g.get("id") for g in root.iter("{http://www.w3.org/2000/svg}g")] == ["round-1-4paths"]
    draft = tmp_path / "draft.svg"
    assert main(["vectorize", str(png), "-o", str(draft), "--quality", "draft", "--gradients", "none"]) == 0
    assert "linearGradient" not in draft.read_text() and "radialGradient" not in draft.read_text()


@pytest.mark.parametrize("flag", [["--paths", "0"], ["--paths", "x"], ["--paths", "2.5"], ["--quality", "ultra"],
                                  ["--gradients", "cubic"], ["--min-area", "0"]])
def test_bad_budget_flags_are_usage_errors(png, flag, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["vectorize", str(png), "-o", "x.svg", *flag])
    assert stop.value.code == 2
    assert flag[0] in capsys.readouterr().err


def test_gradients_with_fixed_colour_rounds_is_a_one_line_error(png, tmp_path, capsys):
    assert main(["vectorize", str(png), "-o", str(tmp_path / "x.svg"), "--rounds", "10,30", "--gradients", "linear"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--paths" in err or "paths=" in err
    assert len(err.splitlines()) == 1


def test_no_detail_flag_gives_the_knee_budget(png, tmp_path, capsys):
    out = tmp_path / "auto.svg"
    assert main(["vectorize", str(png), "-o", str(out)]) == 0
    assert "paths" in capsys.readouterr().out
    groups = [g.get("id") for g in ET.parse(out).getroot().iter("{http://www.w3.org/2000/svg}g")]
    assert len(groups) == 2 and all(g.startswith("round-") and g.endswith("paths") for g in groups)
    assert main(["vectorize", str(png), "-o", str(out), "--gradients", "none"]) == 0  # auto, flat fills
    assert "linearGradient" not in out.read_text()
