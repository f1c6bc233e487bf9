"""``clipvg edit`` and ``clipvg font`` end to end on CPU with the small shapes CLIP."""
from __future__ import annotations

import hashlib
import os
import signal
import sys

import numpy as np
import pytest
import torch
from PIL import Image

import clipvg
from clipvg.cli import main
from clipvg.edit.editor import Editor
from clipvg.svg import load_svg
from edit_scenes import quick_settings, red_circle
from svg_renderers import RENDERERS, available, cairosvg_module, psnr
from synthetic_fonts import build_font

GREEN = "a green circle on a white background"


@pytest.fixture(scope="module")
def clip_args():
    settings = quick_settings()
    return ["--clip-model", settings["clip_model"], "--clip-weights", settings["clip_weights"],
            "--patches", "2", "--device", "cpu", "--quiet"]


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    """A 64 px photo-like PNG: a red disc with soft shading on white."""
    yy, xx = np.mgrid[0:64, 0:64]
    inside = (xx - 30.5) ** 2 + (yy - 33.5) ** 2 < 18 ** 2
    image = np.full((64, 64, 3), 250, np.uint8)
    image[inside] = np.stack([230 - xx[inside], 30 + yy[inside] // 4, 30 + xx[inside] // 4], -1)
    path = tmp_path_factory.mktemp("photo") / "disc.png"
    Image.fromarray(image).save(path)
    return path


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_edit_writes_svg_png_pdf_and_never_touches_the_input(photo, tmp_path, capsys, clip_args):
    cairosvg_module()
    before = digest(photo)
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "edit", photo, "-o", out / "e.svg", "-o", out / "e.png", "-o", out / "e.pdf",
                            "--prompt", GREEN, "--iterations", 2, *clip_args)
    assert code == 0, err
    assert digest(photo) == before
    assert "wrote" in stdout and "step 2/2" in stdout
    scene = load_svg(out / "e.svg")
    assert scene.layer_names == ["round-1-10colors", "round-2-30colors"]
    assert Image.open(out / "e.png").size == (64, 64)
    assert (out / "e.pdf").read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in out.iterdir()) == ["e.pdf", "e.png", "e.svg"]  # no temporary files left


def test_pdf_without_cairo_is_refused_before_any_work(photo, tmp_path, capsys, clip_args, monkeypatch):
    monkeypatch.setitem(sys.modules, "cairosvg", None)  # import cairosvg raises ImportError, as without libcairo
    code, _, err = run(capsys, "edit", photo, "-o", tmp_path / "e.svg", "-o", tmp_path / "e.pdf",
                       "--prompt", GREEN, "--iterations", 2, *clip_args)
    assert code == 2 and "e.pdf" in err and "libcairo2" in err
    assert not tmp_path.joinpath("e.svg").exists()  # refused before the optimisation, not after


@pytest.mark.parametrize("renderer", sorted(RENDERERS))
def test_written_svg_renders_like_clipvg_elsewhere(photo, tmp_path, capsys, clip_args, renderer):
    if not available(renderer):
        pytest.skip(f"{renderer} is not installed here (CI installs it)")
    code, _, err = run(capsys, "edit", photo, "-o", tmp_path / "e.svg", "-o", tmp_path / "e.png",
                       "--prompt", GREEN, "--iterations", 2, *clip_args)
    assert code == 0, err
    ours = np.asarray(Image.open(tmp_path / "e.png").convert("RGB"), np.float64) / 255
    theirs = RENDERERS[renderer](tmp_path / "e.svg")
    assert theirs.shape == ours.shape
    assert psnr(theirs, ours) >= 35


def test_colors_only_from_svg_keeps_the_geometry(tmp_path, capsys, clip_args):
    source = tmp_path / "circle.svg"
    clipvg.save_svg(red_circle(), source)
    code, _, err = run(capsys, "edit", source, "-o", tmp_path / "green.svg", "--prompt", GREEN,
                       "--colors-only", "--iterations", 3, *clip_args)
    assert code == 0, err
    before, after = load_svg(source), load_svg(tmp_path / "green.svg")
    assert torch.equal(before.points, after.points)
    assert not torch.equal(before.fill_color, after.fill_color)


def test_export_layers_frames_and_gif(photo, tmp_path, capsys, clip_args):
    code, _, err = run(capsys, "edit", photo, "-o", tmp_path / "e.svg", "--prompt", GREEN, "--iterations", 4,
                       "--save-every", 2, "--export-layers", *clip_args)
    assert code == 0, err
    layers = sorted(p.name for p in (tmp_path / "e_layers").iterdir())
    assert layers == ["00_round-1-10colors.png", "00_round-1-10colors.svg",
                      "01_round-2-30colors.png", "01_round-2-30colors.svg"]
    top = np.asarray(Image.open(tmp_path / "e_layers" / "01_round-2-30colors.png"))
    assert top.shape == (64, 64, 4) and top[..., 3].min() < 255  # transparent where the layer has no paths
    assert load_svg(tmp_path / "e_layers" / "01_round-2-30colors.svg").layer_names == ["round-2-30colors"]
    frames = sorted(p.name for p in (tmp_path / "e_frames").iterdir())
    assert frames == ["frame_00000.png", "frame_00002.png", "frame_00004.png"]
    assert Image.open(tmp_path / "e.gif").n_frames == 3
    assert (tmp_path / "e.checkpoint" / "checkpoint.pt").is_file()


def test_ctrl_c_saves_and_resume_equals_uninterrupted(photo, tmp_path, capsys, clip_args, monkeypatch):
    common = ["--prompt", GREEN, "--iterations", 4, *clip_args]
    assert run(capsys, "edit", photo, "-o", tmp_path / "full.svg", *common)[0] == 0

    step = Editor.step

    def step_then_ctrl_c(editor):
        loss = step(editor)
        if editor.step_count == 2:
            os.kill(os.getpid(), signal.SIGINT)
        return loss

    monkeypatch.setattr(Editor, "step", step_then_ctrl_c)
    code, stdout, err = run(capsys, "edit", photo, "-o", tmp_path / "part.svg", *common)
    assert code == 130
    assert "step 2/4" in stdout and f"--resume {tmp_path / 'part.checkpoint'}" in err
    assert (tmp_path / "part.svg").is_file()
    monkeypatch.setattr(Editor, "step", step)
    code, stdout, err = run(capsys, "edit", photo, "-o", tmp_path / "part.svg", *common,
                            "--resume", tmp_path / "part.checkpoint")
    assert code == 0, err
    assert (tmp_path / "part.svg").read_text() == (tmp_path / "full.svg").read_text()
    code, _, err = run(capsys, "edit", photo, "-o", tmp_path / "other.svg", "--prompt", "a blue circle",
                       "--iterations", 4, *clip_args, "--resume", tmp_path / "part.checkpoint")
    assert code == 2 and "different settings (prompt" in err


def test_font_command(tmp_path, capsys, clip_args):
    font = build_font(tmp_path / "test.otf", cff=True)
    code, _, err = run(capsys, "font", "AVO", "--font", font, "-o", tmp_path / "font.svg", "--prompt",
                       "a font made of flames", "--size", 32, "--iterations", 2, *clip_args)
    assert code == 0, err
    scene = load_svg(tmp_path / "font.svg")
    assert scene.layer_names == ["glyph0_A", "glyph1_V", "glyph2_O"]
    assert scene.fill_color[:, :3].abs().max() == 0  # shape-only: the glyphs stay black


@pytest.mark.parametrize("argv, message", [
    (["missing.png"], "input file not found"),
    (["{garbage}"], "garbage.png"),
    (["{photo}", "--roi", "1,2,3=a cat"], "malformed ROI"),
    (["{photo}", "--roi", "1,2,3,4"], "malformed ROI"),
    (["{photo}", "--roi", "1,2,0,4=a cat"], "zero or negative size"),
    (["{photo}", "--roi", "40,40,40,40=a cat"], "not inside the 64x64 canvas"),
    (["{photo}", "--prompt", "  "], "prompt is empty"),
    (["{photo}", "--clip-model", "NoSuchNet-B-99"], "unknown CLIP architecture"),
    (["{photo}", "--clip-weights", "/nowhere/weights.pt"], "neither a local file"),
    (["{photo}", "--region-only"], "region-only edit needs"),
    (["{photo}", "-o", "{photo}"], "also an input"),
    (["{photo}", "-o", "out.txt"], "must end in"),
    (["{photo}", "--device", "tpu"], "unknown device"),
    (["{photo}", "--iterations", "-1"], "--iterations (steps) must be at least 0"),
])
def test_bad_input_gives_one_line_and_exit_2(photo, tmp_path, capsys, clip_args, argv, message):
    garbage = tmp_path / "garbage.png"
    garbage.write_bytes(b"\x89PNG not really")
    argv = [a.format(photo=photo, garbage=garbage) for a in argv]
    defaults = ["-o", tmp_path / "o.svg", "--prompt", GREEN, "--iterations", 1]
    code, _, err = run(capsys, "edit", argv[0], *clip_args, *defaults, *argv[1:])
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("clipvg edit: error:") and message in lines[0], err
    assert not (tmp_path / "o.svg").exists()
