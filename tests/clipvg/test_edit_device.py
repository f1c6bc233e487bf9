"""The editor on each device: seeded reproducibility (bit-identical with ``deterministic``), CUDA against
the CPU, a checkpoint written on CUDA resumed on the CPU, the default numerics per device."""
from __future__ import annotations

import pytest
import torch

import losses
from clipvg import edit
from clipvg.edit import Editor
from clipvg.edit.checkpoint import load_checkpoint, save_checkpoint
from clipvg.edit.editor import resolve_deterministic
from clipvg.svg import scene_to_svg_string
from edit_scenes import quick_settings, red_circle, shapes_clip_options

GREEN = "a green circle on a white background"


@pytest.fixture(scope="module")
def clips() -> dict[str, losses.ClipModel]:
    """The shapes CLIP per device type, loaded once (on CUDA only when present)."""
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    return {d: losses.load_clip(*losses.shapes_clip_paths(), device=d) for d in devices}


def _run(device: torch.device, clips, **overrides) -> Editor:
    editor = Editor(red_circle(), shapes_clip_options(GREEN, device=str(device), **overrides), clips[device.type])
    editor.run()
    return editor


def test_deterministic_edit_is_bit_identical(device, clips):
    first = _run(device, clips, deterministic=True)
    second = _run(device, clips, deterministic=True)
    assert first.losses == second.losses
    assert scene_to_svg_string(first.scene) == scene_to_svg_string(second.scene)
    assert first.losses[-1] < first.losses[0]


def test_default_numerics_per_device(device):
    """Deterministic by default on the CPU; on CUDA the fast path unless asked."""
    assert resolve_deterministic(None, device) == (device.type == "cpu")
    assert resolve_deterministic(True, device) and not resolve_deterministic(False, device)


def test_cuda_fast_path_and_cpu_agree(cuda_device, clips):
    """The same edit on CUDA (fast path, fp16 CLIP) and on the CPU: same losses within 2 %, and the
    same direction of travel."""
    on_cpu = _run(torch.device("cpu"), clips)
    on_cuda = _run(cuda_device, clips)
    assert on_cuda.losses == pytest.approx(on_cpu.losses, rel=0.02, abs=0.02)
    moved_cpu = (on_cpu.scene.points - red_circle().points).flatten()
    moved_cuda = (on_cuda.scene.points.cpu() - red_circle().points).flatten()
    assert torch.nn.functional.cosine_similarity(moved_cpu, moved_cuda, dim=0) > 0.9


def test_checkpoint_written_on_cuda_resumes_on_cpu(cuda_device, clips, tmp_path):
    options = shapes_clip_options(GREEN, device="cuda", iterations=2, deterministic=True)
    editor = Editor(red_circle(), options, clips["cuda"])
    editor.run()
    save_checkpoint(editor, tmp_path)
    resumed = load_checkpoint(tmp_path, shapes_clip_options(GREEN, device="cpu", iterations=4, deterministic=True),
                              clips["cpu"])
    assert resumed.scene.points.device.type == "cpu" and resumed.step_count == 2
    resumed.run()
    assert resumed.step_count == 4 and all(torch.isfinite(torch.tensor(resumed.losses)))
    state = resumed.optimizer.state[resumed.scene.points]
    assert state["exp_avg"].device.type == "cpu"


def test_edit_function_runs_on_the_device(device):
    result = edit(red_circle(), GREEN, **quick_settings(device=str(device), iterations=2))
    assert result.scene.points.device.type == device.type and len(result.losses) == 2
