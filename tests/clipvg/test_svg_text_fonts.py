"""Fonts by family name through fontconfig, and damaged font files, for text_to_scene."""
from __future__ import annotations

import shutil
import subprocess

import pytest
import torch

from clipvg.errors import FontError, InvalidInputError
from clipvg.fonts import find_font, text_to_scene
from text_fonts import FAMILY, text_font  # noqa: F401

pytestmark = pytest.mark.usefixtures("text_font")


def test_family_name_and_path_give_the_same_scene(text_font):
    assert find_font(FAMILY) == str(text_font)
    assert find_font(str(text_font)) == str(text_font)
    by_name = text_to_scene("AVO", FAMILY, 50)
    by_path = text_to_scene("AVO", text_font, 50)
    assert torch.equal(by_name.points, by_path.points)


@pytest.mark.skipif(shutil.which("fc-match") is None, reason="needs fontconfig's fc-match")
@pytest.mark.parametrize("name", ["sans-serif", "sans-serif:bold", "serif", "monospace:italic"])
def test_a_generic_family_is_fontconfigs_choice_for_it(name):
    chosen = subprocess.run(["fc-match", "-f", "%{file}", name], capture_output=True, text=True, check=True).stdout
    assert find_font(name) == chosen


@pytest.mark.skipif(shutil.which("fc-match") is None, reason="needs fontconfig's fc-match")
def test_a_style_after_the_generic_family_picks_another_face():
    assert find_font("sans-serif:bold") != find_font("sans-serif")


def test_unknown_family_and_missing_file_raise_font_error(tmp_path):
    with pytest.raises(FontError, match="not installed"):
        find_font("No Such Family")
    with pytest.raises(FontError, match="not found"):
        text_to_scene("A", tmp_path / "missing.ttf")


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9])
def test_truncated_font_raises_font_error(text_font, tmp_path, keep):
    data = text_font.read_bytes()
    damaged = tmp_path / "damaged.ttf"
    damaged.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(FontError) as caught:
        text_to_scene("AVO", damaged, 50)
    assert isinstance(caught.value, InvalidInputError)  # the CLI's one-line error path



def test_font_command_takes_a_family_name(tmp_path, capsys):
    from clipvg.cli import main
    from clipvg.svg import load_svg
    from edit_scenes import quick_settings

    settings = quick_settings()
    code = main(["font", "AVO", "--font", FAMILY, "-o", str(tmp_path / "word.svg"), "--prompt", "flames",
                 "--size", "32", "--iterations", "1", "--clip-model", settings["clip_model"], "--clip-weights",
                 settings["clip_weights"], "--patches", "1", "--device", "cpu", "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert load_svg(tmp_path / "word.svg").layer_names == ["glyph0_A", "glyph1_V", "glyph2_O"]


def test_font_command_names_a_missing_family_in_one_line(capsys):
    from clipvg.cli import main

    code = main(["font", "AVO", "--font", "No Such Family", "-o", "never.svg", "--prompt", "flames"])
    err = capsys.readouterr().err
    assert code != 0 and "'No Such Family' is not installed" in err and "Traceback" not in err
