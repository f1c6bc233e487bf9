"""Vector-domain outpaint, inpaint, removal and layer separation with the small shapes CLIP."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import losses
from clipvg.edit.outputs import export_layers
from clipvg.errors import InvalidInputError
from clipvg.inpaint import (area_options, dilate, edit_prepared, extend_canvas, fill_from_border, load_mask,
                            mirror_extend, parse_box, prepare_inpaint, prepare_outpaint, prepare_removal,
                            separate_layers)
from clipvg.inpaint.layer import path_coverage, vectorize_layer
from clipvg.render import render_on_white
from edit_scenes import BLUE, RED, circles_scene, quick_settings

GREEN = "a green circle on a white background"


@pytest.fixture(scope="module")
def clip():
    return losses.load_clip(*losses.shapes_clip_paths(), device="cpu")


@pytest.fixture(scope="module")
def scene():
    """White backdrop, a red circle (left) and a blue circle (right, lower) on a 64 px canvas."""
    return circles_scene((20.3, 22.2, 10, RED), (45.2, 42.1, 11, BLUE))


@pytest.fixture(scope="module")
def red_mask():
    yy, xx = torch.meshgrid(torch.arange(64), torch.arange(64), indexing="ij")
    return (xx + 0.5 - 20.3) ** 2 + (yy + 0.5 - 22.2) ** 2 < 12.5 ** 2


def on_white(scene):
    with torch.no_grad():
        return render_on_white(scene)


def path_fields(scene, paths):
    """Points and fill colours of ``paths`` (indices) of ``scene``, as numpy copies."""
    views = list(scene.paths())
    return [(np.concatenate([s.points for s in views[i].subpaths]), np.asarray(views[i].fill.rgba)) for i in paths]


def mask_iou(scene, mask):
    """(N,) IoU of each path's covered area with ``mask``."""
    area, inside = path_coverage(scene, mask)
    return inside / (area + float(mask.sum()) - inside)


def test_mirror_extend_reflects_across_each_border():
    image = torch.rand(5, 7, 3)
    grown = mirror_extend(image, left=3, right=2, top=1, bottom=9)  # bottom wider than the picture
    assert grown.shape == (5 + 1 + 9, 7 + 3 + 2, 3)
    torch.testing.assert_close(grown[1:6, 3:10], image, rtol=0, atol=0)
    torch.testing.assert_close(grown[1:6, 2], image[:, 0], rtol=0, atol=0)   # mirror: column -1 = column 0
    torch.testing.assert_close(grown[1:6, 0], image[:, 2], rtol=0, atol=0)
    torch.testing.assert_close(grown[6, 3:10], image[4], rtol=0, atol=0)     # row 5 mirrors row 4


def test_extend_canvas_translates_every_path(scene):
    grown = extend_canvas(scene, left=5, right=1, top=3, bottom=0)
    assert (grown.width, grown.height) == (70, 67)
    torch.testing.assert_close(grown.points, scene.points + torch.tensor([5.0, 3.0]), rtol=0, atol=0)
    torch.testing.assert_close(on_white(grown)[3:, 5:69], on_white(scene), rtol=0, atol=1e-5)


def test_outpaint_grows_the_canvas_and_keeps_the_old_paths_bit_identical(scene, clip):
    prepared = prepare_outpaint(scene, left=16, right=0, top=0, bottom=8, seed=3)
    assert (prepared.scene.width, prepared.scene.height) == (80, 72)
    assert prepared.scene.layer_names == ["background", "shapes", "outpaint"]
    old = torch.nonzero(~prepared.path_mask).flatten().tolist()
    new = torch.nonzero(prepared.path_mask).flatten().tolist()
    assert old == list(range(scene.num_paths)) and len(new) > 0
    # the new layer lies in the new area (its fitted outlines stray < 1 px): the old picture renders as before
    torch.testing.assert_close(on_white(prepared.scene)[:63, 17:], on_white(scene)[:63, 1:], rtol=0, atol=1e-5)
    # and it is seeded by the mirrored picture: the red circle's mirror image appears left of the border
    seeded = on_white(prepared.scene)
    assert seeded[22, 16 - 13, 0] > 0.6 and seeded[22, 16 - 13, 1] < 0.5  # picture column 12 (red)
    assert seeded[22, 16 - 3, 1] > 0.6  # picture column 2 (white)

    options = area_options(prepared, GREEN, **quick_settings(iterations=3, seed=3))
    result = edit_prepared(prepared, options, clip)
    assert len(result.losses) == 3
    assert result.image.shape == (72, 80, 3)
    # "bit-identical": the old paths' control points and fill colours after the optimisation equal,
    # bit for bit, the translated originals (torch.equal, no tolerance)
    translated = extend_canvas(scene, left=16, bottom=8)
    for (points, color), (want_points, want_color) in zip(path_fields(result.scene, old),
                                                         path_fields(translated, range(scene.num_paths))):
        assert np.array_equal(points, want_points) and np.array_equal(color, want_color)
    before, after = path_fields(prepared.scene, new), path_fields(result.scene, new)
    assert any(not np.array_equal(a[0], b[0]) for a, b in zip(before, after))  # the new layer moved


def test_outpaint_rejects_bad_margins(scene):
    with pytest.raises(InvalidInputError, match="margins"):
        prepare_outpaint(scene)
    with pytest.raises(InvalidInputError, match="margins"):
        prepare_outpaint(scene, left=-4)


def test_inpaint_changes_only_the_masked_region(scene, red_mask, clip):
    prepared = prepare_inpaint(scene, red_mask, seed=1)
    # the red circle lay inside the mask: dropped; the backdrop and the blue circle stay
    assert prepared.scene.layer_names[-1] == "inpaint"
    kept = torch.nonzero(~prepared.path_mask).flatten().tolist()
    assert len(kept) == scene.num_paths - 1
    result = edit_prepared(prepared, area_options(prepared, GREEN, **quick_settings(iterations=4, seed=1)), clip)
    assert [p for p in path_fields(result.scene, kept)] and all(
        np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
        for a, b in zip(path_fields(result.scene, kept), path_fields(scene, [0, 2])))
    far = ~dilate(red_mask, 4)
    original, edited = on_white(scene), result.image
    torch.testing.assert_close(edited[far], original[far], rtol=0, atol=1e-5)
    assert (edited[red_mask] - original[red_mask]).abs().mean() > 0.01  # the masked region did change


def test_removal_leaves_no_path_shaped_like_the_mask(scene, red_mask, clip):
    prepared = prepare_removal(scene, red_mask, seed=0)
    # the red object is gone before any optimisation: the hole is filled from its white surroundings
    image = prepared.render()
    assert image[red_mask].min() > 0.8
    result = edit_prepared(prepared, area_options(prepared, "a white background",
                                                  **quick_settings(iterations=2)), clip)
    assert float(mask_iou(result.scene, red_mask).max()) < 0.5
    assert float(mask_iou(result.scene, dilate(red_mask, 2)).max()) < 0.5
    # the failure case the test guards against: re-vectorizing only inside the mask makes the mask a path
    naive = vectorize_layer(fill_from_border(on_white(scene), red_mask), red_mask, "naive")
    assert float(mask_iou(naive, red_mask).max()) > 0.5


def test_fill_from_border_leaves_the_outside_alone():
    image = torch.rand(40, 50, 3, generator=torch.Generator().manual_seed(0))
    mask = torch.zeros(40, 50, dtype=torch.bool)
    mask[10:25, 5:30] = True
    filled = fill_from_border(image, mask)
    torch.testing.assert_close(filled[~mask], image[~mask], rtol=0, atol=0)
    assert filled[mask].std(0).max() < image.std(0).min()  # smooth inside


def test_separate_layers_exports_transparent_foreground_and_filled_background(scene, red_mask, tmp_path):
    layered = separate_layers(scene, red_mask)
    assert layered.layer_names == ["background", "foreground"]
    files = export_layers(layered, tmp_path)
    assert [f.name for f in files] == ["00_background.png", "00_background.svg", "01_foreground.png",
                                       "01_foreground.svg"]
    foreground = np.asarray(Image.open(tmp_path / "01_foreground.png"))
    background = np.asarray(Image.open(tmp_path / "00_background.png"))
    assert foreground.shape == (64, 64, 4)
    assert foreground[22, 20, 3] == 255 and foreground[22, 20, 0] > 200  # the red circle, opaque
    assert foreground[2, 2, 3] == 0 and foreground[42, 45, 3] == 0          # transparent elsewhere
    assert background[22, 20, 0] > 200 and background[22, 20, 1] > 200     # white where the circle was
    assert background[42, 45, 2] > 200 and background[42, 45, 0] < 80      # the blue circle stays
    auto = separate_layers(scene)  # colour split against the border colour: both circles
    assert auto.layer_names == ["background", "foreground"] and len(auto.layer_paths("foreground")) == 2


def test_masks_from_png_and_box(tmp_path):
    image = np.zeros((32, 32), np.uint8)
    image[4:12, 8:20] = 255
    Image.fromarray(image).save(tmp_path / "m.png")
    from_png = load_mask((64, 64), tmp_path / "m.png")  # resized to the canvas
    assert int(from_png.sum()) == 16 * 24 and bool(from_png[8, 16])
    from_box = load_mask((64, 64), box=parse_box("8,4,12,8"))
    assert int(from_box.sum()) == 96 and bool(from_box[4, 8]) and not bool(from_box[12, 8])
    for bad in ("1,2,3", "a,b,c,d", "0,0,0,5"):
        with pytest.raises(InvalidInputError, match="box"):
            parse_box(bad)
    with pytest.raises(InvalidInputError, match="outside"):
        load_mask((64, 64), box=(70, 0, 5, 5))
    with pytest.raises(InvalidInputError, match="empty"):
        load_mask((64, 64), np.zeros((64, 64), bool))
