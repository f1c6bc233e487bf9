"""A diffusion refiner on each device, on tiny components built from configs: the CLI's inpaint with
``--refiner sd-inpaint`` runs where ``--device`` says and still gives an editable vector scene."""
from __future__ import annotations

import pytest

pytest.importorskip("diffusers")

from clipvg.svg import load_svg  # noqa: E402
from test_inpaint_cli import disc_photo, run, shapes_clip_args  # noqa: E402
from tiny_diffusion import build_tiny_sd  # noqa: E402


def test_sd_inpaint_refiner_runs_on_the_device(device, tmp_path, capsys):
    model = build_tiny_sd(tmp_path / "inpaint", inpaint=True)
    photo = disc_photo(tmp_path / "disc.png", 32)
    code, _, err = run(capsys, "inpaint", photo, "--box", "6,8,16,16", "-o", tmp_path / "r.svg", "--prompt",
                       "a green circle on a white background", "--refiner", "sd-inpaint", "--refiner-model", model,
                       "--refiner-steps", "2", "--refit-iterations", "2",
                       *shapes_clip_args(patches=1, iterations=1), "--device", str(device))
    assert code == 0, err
    scene = load_svg(tmp_path / "r.svg")
    assert (scene.width, scene.height) == (32, 32) and scene.num_paths > 0
