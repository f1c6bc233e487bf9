"""Region selection for region-only edits: which paths touch ROI boxes or a mask."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import clipvg
from clipvg.edit.regions import canvas_shape, paths_touching, region_mask
from clipvg.errors import InvalidInputError
from clipvg.scene import Path, Scene, Solid, Stroke, Subpath


def square(x, y, w, h):
    return Subpath.polygon(np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]]))


def scene_of(*paths, size=64):
    return Scene.from_paths(list(paths), size, size)


def touching(scene, boxes=(), mask=None):
    return paths_touching(scene, region_mask(canvas_shape(scene), boxes, mask)).tolist()


def test_box_inside_crossing_and_outside():
    scene = scene_of(Path([square(0.5, 0.5, 63, 63)], fill=Solid((1, 1, 1, 1))),  # encloses everything
                     Path([square(5.2, 5.2, 10, 10)], fill=Solid((1, 0, 0, 1))),
                     Path([square(40.3, 40.3, 10, 10)], fill=Solid((0, 0, 1, 1))))
    assert touching(scene, [(7, 7, 2, 2)]) == [True, True, False]  # inside the red square
    assert touching(scene, [(12, 0, 10, 30)]) == [True, True, False]  # crosses its right edge
    assert touching(scene, [(25, 25, 5, 5)]) == [True, False, False]
    assert touching(scene, [(7, 7, 2, 2), (44, 44, 2, 2)]) == [True, True, True]


def test_holes_and_fill_rules():
    ring = [square(10.5, 10.5, 40, 40), square(20.5, 20.5, 20, 20)]
    evenodd = scene_of(Path(ring, fill=Solid((0, 0, 0, 1)), fill_rule="evenodd"))
    assert touching(evenodd, [(28, 28, 4, 4)]) == [False]  # in the hole
    assert touching(evenodd, [(13, 13, 3, 3)]) == [True]  # in the ring
    nonzero = scene_of(Path(ring, fill=Solid((0, 0, 0, 1))))  # same direction: the hole is filled
    assert touching(nonzero, [(28, 28, 4, 4)]) == [True]
    unfilled = scene_of(Path(ring, stroke=Stroke(Solid((0, 0, 0, 1)), width=1.0)))
    assert touching(unfilled, [(28, 28, 4, 4)]) == [False]


def test_stroke_width_reaches_the_region():
    line = Subpath.polygon(np.array([[10.2, 10.2], [50.2, 10.2]]), closed=False)
    thin = scene_of(Path([line], stroke=Stroke(Solid((0, 0, 0, 1)), width=1.0)))
    thick = scene_of(Path([line], stroke=Stroke(Solid((0, 0, 0, 1)), width=12.0)))
    box = [(20, 13, 5, 5)]  # 3 px below the line
    assert touching(thin, box) == [False]
    assert touching(thick, box) == [True]


def test_mask_array_and_image(tmp_path):
    scene = scene_of(Path([square(5.2, 5.2, 10, 10)], fill=Solid((1, 0, 0, 1))),
                     Path([square(40.3, 40.3, 10, 10)], fill=Solid((0, 0, 1, 1))))
    mask = np.zeros((64, 64), bool)
    mask[45, 45] = True
    assert touching(scene, mask=mask) == [False, True]
    big = np.zeros((128, 128), np.uint8)  # twice the canvas: resized to it
    big[14:18, 14:18] = 255
    Image.fromarray(big).save(tmp_path / "mask.png")
    assert touching(scene, mask=tmp_path / "mask.png") == [True, False]
    with pytest.raises(InvalidInputError, match="aspect ratio"):
        region_mask((64, 64), mask=np.ones((10, 40)))
    with pytest.raises(InvalidInputError, match="does not match the canvas"):
        paths_touching(scene, torch.ones(32, 32, dtype=torch.bool))


def test_matches_per_path_render_coverage():
    """A path touches the region exactly when its own render covers some region pixel."""
    rng = np.random.default_rng(0)
    paths = []
    for _ in range(40):
        centre, radius = rng.uniform(0, 64, 2), rng.uniform(2, 10)
        angles = np.sort(rng.uniform(0, 2 * np.pi, 5))
        polygon = centre + radius * np.stack([np.cos(angles), np.sin(angles)], 1)
        paths.append(Path([Subpath(polygon, np.array([1, 1, 3]))],
                          fill=Solid((0, 0, 0, 1))))
    scene = scene_of(*paths)
    region = region_mask((64, 64), [(20, 24, 9, 14), (50, 3, 6, 6)])
    coverage = torch.stack([clipvg.render(scene_of(p))[..., 3] for p in paths])  # (N, H, W)
    expected = (coverage[:, region] > 1e-4).any(1)
    assert paths_touching(scene, region).tolist() == expected.tolist()
    assert 0 < int(expected.sum()) < len(paths)
