"""``clipvg outpaint`` and ``clipvg inpaint`` end to end on CPU with the shapes CLIP (no refiner)."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from clipvg.cli import main
from clipvg.svg import load_svg
from edit_scenes import quick_settings

GREEN = "a green circle on a white background"


def shapes_clip_args(patches: int, iterations: int) -> list[str]:
    """CLI options for a quick CPU run with the shapes CLIP (shared with the refiner tests)."""
    settings = quick_settings()
    return ["--clip-model", settings["clip_model"], "--clip-weights", settings["clip_weights"],
            "--patches", str(patches), "--device", "cpu", "--quiet", "--iterations", str(iterations)]


def disc_photo(path, size: int):
    """A red disc (left of centre) on near-white, ``size`` px square, saved as PNG at ``path``."""
    yy, xx = np.mgrid[0:size, 0:size]
    image = np.full((size, size, 3), 250, np.uint8)
    image[(xx - 0.42 * size) ** 2 + (yy - size / 2) ** 2 < (0.21 * size) ** 2] = (220, 30, 30)
    Image.fromarray(image).save(path)
    return path


@pytest.fixture(scope="module")
def clip_args():
    return shapes_clip_args(patches=2, iterations=2)


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    return disc_photo(tmp_path_factory.mktemp("photo") / "disc.png", 48)


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_outpaint_cli_grows_the_canvas(photo, tmp_path, capsys, clip_args):
    code, out, err = run(capsys, "outpaint", photo, "-o", tmp_path / "o.svg", "-o", tmp_path / "o.png",
                         "--left", 8, "--bottom", 4, "--prompt", GREEN, "--export-layers", *clip_args)
    assert code == 0, err
    scene = load_svg(tmp_path / "o.svg")
    assert (scene.width, scene.height) == (56, 52) and scene.layer_names[-1] == "outpaint"
    assert Image.open(tmp_path / "o.png").size == (56, 52)
    assert (tmp_path / "o_layers").is_dir() and "step 2/2" in out
    assert not (tmp_path / "o.checkpoint").exists()  # the start checkpoint is cleaned up


def test_inpaint_cli_box_mask_and_remove(photo, tmp_path, capsys, clip_args):
    code, _, err = run(capsys, "inpaint", photo, "-o", tmp_path / "i.svg", "--box", "8,12,24,24",
                       "--prompt", GREEN, *clip_args)
    assert code == 0, err
    assert load_svg(tmp_path / "i.svg").layer_names[-1] == "inpaint"
    mask = np.zeros((48, 48), np.uint8)
    mask[12:37, 8:33] = 255
    Image.fromarray(mask).save(tmp_path / "m.png")
    code, _, err = run(capsys, "inpaint", photo, "-o", tmp_path / "r.svg", "--mask", tmp_path / "m.png",
                       "--remove", "--prompt", "a white background", *clip_args)
    assert code == 0, err
    removed = load_svg(tmp_path / "r.svg")
    assert removed.layer_names[-1] == "removed" and (removed.width, removed.height) == (48, 48)


def test_inpaint_cli_resume_equals_uninterrupted(photo, tmp_path, capsys, clip_args):
    args = ["--box", "8,12,24,24", "--prompt", GREEN, *clip_args[:-2]]
    assert run(capsys, "inpaint", photo, "-o", tmp_path / "full.svg", *args, "--iterations", 3)[0] == 0
    assert run(capsys, "inpaint", photo, "-o", tmp_path / "a.svg", *args, "--iterations", 1,
               "--resume", tmp_path / "ck")[0] == 0
    assert run(capsys, "inpaint", photo, "-o", tmp_path / "b.svg", *args, "--iterations", 3,
               "--resume", tmp_path / "ck")[0] == 0
    assert (tmp_path / "b.svg").read_bytes() == (tmp_path / "full.svg").read_bytes()


@pytest.mark.parametrize("argv, message", [
    (["outpaint", "{photo}", "-o", "{out}", "--prompt", "x"], "--left"),
    (["inpaint", "{photo}", "-o", "{out}", "--prompt", "x"], "--mask"),
    (["inpaint", "{photo}", "-o", "{out}", "--prompt", "x", "--box", "1,2,3"], "box"),
    (["inpaint", "{photo}", "-o", "{out}", "--prompt", "x", "--box", "100,100,5,5"], "outside"),
    (["inpaint", "{photo}", "-o", "{out}", "--prompt", "x", "--box", "1,1,5,5", "--layered"], "refiner"),
])
def test_cli_bad_input_is_one_line(photo, tmp_path, capsys, argv, message):
    argv = [a.format(photo=photo, out=tmp_path / "o.svg") for a in argv]
    code, _, err = run(capsys, *argv, "--device", "cpu")
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
