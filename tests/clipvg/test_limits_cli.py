"""Resource limits through the CLI front ends: each over-limit argument stops with exit 2 and one line
naming the limit, before a model loads."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import clipvg
from clipvg.cli import main
from clipvg.errors import ResourceLimitError
from clipvg.fonts import text_to_scene
from edit_scenes import red_circle
from system_tools import FAMILY, system_font


def one_line_error(capsys, argv: list[str]) -> str:
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    return err


def test_font_size_times_characters_is_limited(tmp_path, capsys):
    system_font(FAMILY)
    assert text_to_scene("AB", FAMILY, 64).num_paths == 2
    with pytest.raises(ResourceLimitError, match="font_cells limit"):
        text_to_scene("A" * 10_000, FAMILY, 128)
    out = str(tmp_path / "f.svg")
    err = one_line_error(capsys, ["font", "A" * 10_000, "--font", FAMILY, "-o", out, "--prompt", "x"])
    assert "font_cells limit" in err and "CLIPVG_MAX_FONT_CELLS" in err and "--max-size" not in err
    err = one_line_error(capsys, ["font", "A", "--font", FAMILY, "--size", "100000", "-o", out, "--prompt", "x"])
    assert "render_pixels limit" in err or "memory_bytes limit" in err


def test_outpaint_margins_are_limited(tmp_path, capsys):
    source = tmp_path / "in.svg"
    clipvg.save_svg(red_circle(32), source)
    err = one_line_error(capsys, ["outpaint", str(source), "--left", "100000", "-o", str(tmp_path / "o.svg"),
                                  "--prompt", "x"])
    assert "--left" in err and "outpaint_margin limit" in err


def test_vectorize_refuses_an_image_over_the_megapixel_limit(tmp_path, capsys, monkeypatch):
    path = tmp_path / "photo.png"
    Image.fromarray(np.zeros((800, 1000, 3), np.uint8)).save(path)
    monkeypatch.setenv("CLIPVG_MAX_MEGAPIXELS", "0.5")
    err = one_line_error(capsys, ["vectorize", str(path), "-o", str(tmp_path / "v.svg")])
    assert "1000x800" in err and "megapixels limit of 0.5" in err
