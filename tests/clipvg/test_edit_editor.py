"""The editing loop end to end on CPU with the project's small shapes CLIP: parameter subsets keep
the rest bit-identical, region-only keeps outside paths bit-identical, resume equals uninterrupted."""
from __future__ import annotations

import math
import os
import signal

import pytest
import torch

from clipvg.edit import EditInterrupted, Editor, edit, load_checkpoint, save_checkpoint
from clipvg.errors import InvalidInputError
from clipvg.svg import scene_to_svg_string
from edit_scenes import BLUE, RED, circles_scene, quick_settings, red_circle, shapes_clip_options

GREEN = "a green circle on a white background"
PAINT = ("fill_color", "stroke_color", "stroke_width", "opacity")


def _greenness(scene, path: int = 1) -> float:
    r, g, _ = scene.fill_color[path, :3].tolist()
    return g - r


def test_colors_only_turns_the_red_circle_green():
    scene = red_circle()
    result = edit(scene, GREEN, **quick_settings(params="colors_only", iterations=25, num_patches=8))
    assert torch.equal(result.scene.points, scene.points)
    assert _greenness(result.scene) > _greenness(scene) + 0.1
    inside = result.image[28:36, 28:36].mean((0, 1))
    assert float(inside[1] - inside[0]) > float(scene.fill_color[1, 1] - scene.fill_color[1, 0]) + 0.1
    assert len(result.losses) == 25 and result.image.shape == (64, 64, 3)
    assert result.losses[-1] < result.losses[0]


def test_shapes_only_keeps_every_colour_bit_identical():
    scene = red_circle()
    editor = Editor(scene, shapes_clip_options(GREEN, params="shapes_only"))
    editor.run()
    for name in PAINT:
        assert torch.equal(getattr(editor.scene, name), getattr(scene, name)), name
    assert not torch.equal(editor.scene.points, scene.points)


def test_stroke_widths_only():
    scene = red_circle()
    scene.has_stroke[1] = True
    scene.stroke_color[1] = torch.tensor([0.1, 0.1, 0.1, 1.0])
    scene.stroke_width[1] = 2.0
    editor = Editor(scene, shapes_clip_options(GREEN, params="stroke_widths"))
    editor.run()
    assert torch.equal(editor.scene.points, scene.points)
    assert torch.equal(editor.scene.fill_color, scene.fill_color)
    assert editor.scene.stroke_width[1] != scene.stroke_width[1]


def test_region_only_keeps_paths_outside_the_roi_bit_identical():
    scene = circles_scene((16.3, 32.2, 9.0, RED), (47.7, 32.2, 9.0, BLUE))
    options = shapes_clip_options(GREEN, params=["all", "region_only"], rois=[((36, 20, 24, 24), GREEN)])
    editor = Editor(scene, options)
    assert editor.path_mask.tolist() == [True, False, True]  # the backdrop touches every region
    editor.run()
    index = editor.scene.point_path_index()
    assert torch.equal(editor.scene.points[index == 1], scene.points[index == 1])
    assert torch.equal(editor.scene.fill_color[1], scene.fill_color[1])
    assert not torch.equal(editor.scene.points[index == 2], scene.points[index == 2])


def test_region_only_needs_a_region():
    with pytest.raises(InvalidInputError, match="region-only edit needs"):
        Editor(red_circle(), shapes_clip_options(GREEN, params="all,region_only"))


def test_resume_equals_uninterrupted(tmp_path):
    options = shapes_clip_options(GREEN, iterations=6)
    full = Editor(red_circle(), options)
    full.run()
    first = Editor(red_circle(), options)
    first.run(3)
    save_checkpoint(first, tmp_path, meta={"input": "circle"})
    resumed = load_checkpoint(tmp_path, options, meta={"input": "circle"})
    assert resumed.step_count == 3
    resumed.run()
    assert torch.equal(resumed.scene.points, full.scene.points)
    assert torch.equal(resumed.scene.fill_color, full.scene.fill_color)
    assert resumed.losses == full.losses
    with pytest.raises(InvalidInputError, match="different settings.*prompt"):
        load_checkpoint(tmp_path, shapes_clip_options("a blue circle on a white background"),
                        meta={"input": "circle"})
    with pytest.raises(InvalidInputError, match="different settings.*input"):
        load_checkpoint(tmp_path, options, meta={"input": "other"})
    with pytest.raises(InvalidInputError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing", options)


def test_same_seed_same_svg_and_the_input_scene_is_untouched():
    scene = red_circle()
    before = scene.clone()
    runs = [Editor(scene, shapes_clip_options(GREEN, seed=seed)) for seed in (0, 0, 1)]
    for editor in runs:
        editor.run()
    svgs = [scene_to_svg_string(editor.scene) for editor in runs]
    assert svgs[0] == svgs[1] != svgs[2]
    assert torch.equal(scene.points, before.points) and torch.equal(scene.fill_color, before.fill_color)


def test_callback_timings_and_ctrl_c():
    seen = []

    def callback(step, loss, editor):
        seen.append((step, loss, editor.step_count))
        if step == 2:
            os.kill(os.getpid(), signal.SIGINT)  # the step finishes, then the run stops

    with pytest.raises(EditInterrupted) as caught:
        edit(red_circle(), GREEN, callback=callback, **quick_settings())
    assert [(s, c) for s, _, c in seen] == [(1, 1), (2, 2)]
    partial = caught.value.result
    two_steps = Editor(red_circle(), shapes_clip_options(GREEN))
    two_steps.run(2)
    assert torch.equal(partial.scene.points, two_steps.scene.points)
    assert partial.losses == [loss for _, loss, _ in seen] == two_steps.losses
    assert all(seconds > 0 for seconds in two_steps.timings.values())


@pytest.mark.parametrize("device, message", [("tpu", "unknown device"), ("cuda:0", "CUDA is not available")])
def test_bad_device(device, message):
    if device.startswith("cuda") and torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(InvalidInputError, match=message):
        Editor(red_circle(), shapes_clip_options(GREEN, device=device))


def test_non_finite_gradient_stops_with_a_clear_error_and_keeps_the_last_good_scene(monkeypatch) -> None:
    editor = Editor(red_circle(), shapes_clip_options("a green circle on a white background", iterations=3))
    editor.step()
    before = editor.scene.clone()
    real_loss = editor.loss_fn
    monkeypatch.setattr(editor, "loss_fn", lambda image: real_loss(image) * math.nan)
    with pytest.raises(InvalidInputError, match="not finite"):
        editor.step()
    for name in ("points", "fill_color"):
        assert torch.equal(getattr(editor.scene, name), getattr(before, name))
