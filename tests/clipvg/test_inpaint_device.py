"""Inpainting on each device: only the new layer moves, every kept path stays bit-identical, the loss
stays finite, and the result lives on the device."""
from __future__ import annotations

import torch

import losses
from clipvg.inpaint import area_options, edit_prepared, prepare_inpaint
from edit_scenes import BLUE, RED, circles_scene, quick_settings

GREEN = "a green circle on a white background"


def test_inpaint_runs_on_the_device(device):
    scene = circles_scene((20.3, 22.2, 10, RED), (45.2, 42.1, 11, BLUE))
    yy, xx = torch.meshgrid(torch.arange(64), torch.arange(64), indexing="ij")
    mask = (xx + 0.5 - 20.3) ** 2 + (yy + 0.5 - 22.2) ** 2 < 12.5 ** 2
    prepared = prepare_inpaint(scene, mask, seed=1)
    clip = losses.load_clip(*losses.shapes_clip_paths(), device=device)
    options = area_options(prepared, GREEN, **quick_settings(iterations=3, seed=1, device=str(device)))
    result = edit_prepared(prepared, options, clip)
    assert result.scene.points.device.type == device.type
    assert len(result.losses) == 3 and all(torch.isfinite(torch.tensor(result.losses)))
    before, after = list(prepared.scene.paths()), list(result.scene.to("cpu").paths())
    for index in torch.nonzero(~prepared.path_mask.cpu()).flatten().tolist():
        assert all((a.points == b.points).all() for a, b in zip(after[index].subpaths, before[index].subpaths))
        assert after[index].fill.rgba == before[index].fill.rgba
    moved = torch.nonzero(prepared.path_mask.cpu()).flatten().tolist()
    assert any(not (after[i].subpaths[0].points == before[i].subpaths[0].points).all() for i in moved)
