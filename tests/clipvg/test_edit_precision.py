"""CLIP's precision in the editing loop: "auto" is bf16 autocast on CPUs with native bf16, a bf16 step is
close to the fp32 one, and a bf16 step whose CLIP gradient is not finite is redone in fp32 with a warning."""
from __future__ import annotations

import math

import pytest
import torch

from clipvg.edit import EditOptions, Editor
from edit_scenes import red_circle, shapes_clip_options
from losses import precision as clip_precision
from losses.errors import PrecisionWarning

GREEN = "a green circle on a white background"
# bf16 against fp32 after one step of the shapes CLIP (8 patches): the loss within 2 % (measured 0.8 %), the
# gradient of the points and of the colours pointing the same way (cosine similarity, measured 0.988 / 0.998)
LOSS_RTOL = 0.02
GRADIENT_COSINE = 0.97


def _one_step(precision: str) -> Editor:
    editor = Editor(red_circle(), shapes_clip_options(GREEN, precision=precision, num_patches=8))
    editor.step()
    return editor


def _cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    return torch.nn.functional.cosine_similarity(a.flatten(), b.flatten(), dim=0).item()


def _assert_close_to_fp32(editor: Editor, fp32: Editor) -> None:
    assert editor.losses[0] == pytest.approx(fp32.losses[0], rel=LOSS_RTOL)
    for name in ("points", "fill_color"):
        assert _cosine(getattr(editor.scene, name).grad, getattr(fp32.scene, name).grad) > GRADIENT_COSINE


@pytest.fixture(scope="module")
def fp32_step() -> Editor:
    return _one_step("fp32")


@pytest.mark.parametrize("native, chosen", [(True, "bf16"), (False, "fp32")])
def test_auto_is_bf16_only_on_cpus_with_native_bf16(monkeypatch, native, chosen):
    monkeypatch.setattr(clip_precision, "native_bf16", lambda: native)
    editor = Editor(red_circle(), shapes_clip_options(GREEN, precision="auto"))
    assert EditOptions(GREEN).precision == "auto" and editor.clip.precision == chosen


def test_a_bf16_step_is_close_to_the_fp32_step(fp32_step):
    bf16 = _one_step("bf16")
    assert bf16.clip.precision == "bf16" and fp32_step.clip.precision == "fp32"
    assert bf16.losses[0] != fp32_step.losses[0]  # it did run in bf16
    _assert_close_to_fp32(bf16, fp32_step)


def test_a_non_finite_bf16_step_is_redone_in_fp32_with_a_warning(fp32_step):
    editor = Editor(red_circle(), shapes_clip_options(GREEN, precision="bf16", num_patches=8))
    overflow = editor.clip.model.visual.ln_post.register_forward_hook(  # inf under autocast only, as an overflow
        lambda module, inputs, output: output * math.inf if torch.is_autocast_enabled("cpu") else None)
    try:
        with pytest.warns(PrecisionWarning, match="step 1: CLIP's bf16 loss or gradient is not finite.*fp32"):
            editor.step()
    finally:
        overflow.remove()
    assert math.isfinite(editor.losses[0]) and torch.isfinite(editor.scene.points).all()
    # the redo drew the same views: the generator is where the fp32 step left it, and the result is fp32's
    assert torch.equal(editor.generator.get_state(), fp32_step.generator.get_state())
    _assert_close_to_fp32(editor, fp32_step)
