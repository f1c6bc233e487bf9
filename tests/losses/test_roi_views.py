"""View geometry and rendering: crops, white padding, perspective, flips, one grid_sample for all ROIs."""

import pytest
import torch

from losses.augment import (ViewParams, Views, homography, perspective_to_patch, reference_views,
                            sample_roi_views, square_to_canvas, view_coordinates)
from losses.warp import render_views

PLAIN = ViewParams(num_patches=16, crop_ratio=0.8, perspective=0.0, flip_prob=0.0, view_crop=0.98, whole_view=True)


def generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_homography_maps_the_four_points():
    src = torch.rand(5, 4, 2, generator=generator()) * 0.3 + torch.tensor([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * 0.8
    dst = torch.rand(5, 4, 2, generator=generator(1)) * 2 - 1
    h = homography(src, dst)
    mapped = torch.cat([src, torch.ones(5, 4, 1)], -1) @ h.transpose(1, 2)
    torch.testing.assert_close(mapped[..., :2] / mapped[..., 2:], dst, atol=1e-4, rtol=0)


def test_perspective_moves_corners_inward_by_at_most_the_distortion():
    to_patch = perspective_to_patch(200, 0.3, 0.0, generator())
    corners = torch.tensor([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])
    # the output point that samples patch corner c is H^-1 c; it lies within 0.3 of c, inwards
    landed = torch.cat([corners, torch.ones(4, 1)], -1) @ torch.linalg.inv(to_patch).transpose(1, 2)
    landed = landed[..., :2] / landed[..., 2:]
    inward = (corners - landed) * corners.sign()
    assert inward.min() >= -1e-5 and inward.max() <= 0.3 + 1e-5
    assert inward.mean() > 0.1  # uniform in [0, 0.3]


def test_zero_distortion_without_flip_is_identity():
    torch.testing.assert_close(perspective_to_patch(3, 0.0, 0.0, generator()), torch.eye(3).expand(3, 3, 3))


def test_integer_crop_at_clip_size_reproduces_the_pixels_exactly():
    image = torch.rand(3, 40, 50, generator=generator())
    box = (4, 3, 40, 35)
    views = Views(torch.tensor([0]), torch.tensor([True]), torch.eye(3).unsqueeze(0),
                  square_to_canvas(torch.tensor([9.0]), torch.tensor([6.0]), 24.0))
    out = render_views(image, [box], views, 24)
    torch.testing.assert_close(out[0], image[:, 6:30, 9:33], atol=1e-5, rtol=0)


def test_pixels_outside_the_box_render_white_not_their_canvas_colour():
    image = torch.zeros(3, 40, 50)  # black everywhere, the box too
    views = Views(torch.tensor([0]), torch.tensor([True]), torch.eye(3).unsqueeze(0),
                  square_to_canvas(torch.tensor([0.0]), torch.tensor([0.0]), 40.0))
    out = render_views(image, [(20, 10, 10, 10)], views, 40)[0]
    assert torch.all(out[:, 10:20, 20:30].abs() < 1e-5)
    mask = torch.ones(40, 40, dtype=torch.bool)
    mask[8:22, 18:32] = False  # bicubic blends within 2 px of the box edge
    assert torch.all((out[:, mask] - 1).abs() < 1e-5)


def test_whole_view_and_patches_stay_in_their_ranges():
    box = (10, 20, 60, 30)
    views = sample_roi_views(box, 2, PLAIN, generator())
    assert len(views) == 17 and views.roi_index.eq(2).all()
    assert views.is_patch.tolist() == [False] + [True] * 16
    half = views.patch_to_canvas[:, 0, 0]
    left = views.patch_to_canvas[:, 0, 2] - half
    top = views.patch_to_canvas[:, 1, 2] - half
    # whole view: 98 % crop of the 60 x 60 white-padded square centred on the box
    assert half[0] * 2 == pytest.approx(0.98 * 60)
    assert 10 <= left[0] <= 10 + 1.2 + 1e-4 and 5 <= top[0] <= 5 + 1.2 + 1e-4
    # patches: side 0.8 * 60 = 48, inside the box along x, white-padded along y (RandomCrop pad_if_needed)
    torch.testing.assert_close(half[1:] * 2, torch.full((16,), 48.0))
    assert left[1:].min() >= 10 and left[1:].max() <= 10 + 12
    assert top[1:].min() >= 20 - 18 and top[1:].max() <= 20
    torch.testing.assert_close(views.to_patch[1:], torch.eye(3).expand(16, 3, 3))


def test_same_seed_same_views_and_flip_mirrors_the_render():
    image = torch.rand(3, 32, 32, generator=generator())
    flipped = ViewParams(4, 0.8, 0.3, 1.0, 0.98, False)
    straight = ViewParams(4, 0.8, 0.3, 0.0, 0.98, False)
    a = render_views(image, [(0, 0, 32, 32)], sample_roi_views((0, 0, 32, 32), 0, straight, generator(7)), 16)
    b = render_views(image, [(0, 0, 32, 32)], sample_roi_views((0, 0, 32, 32), 0, flipped, generator(7)), 16)
    again = render_views(image, [(0, 0, 32, 32)], sample_roi_views((0, 0, 32, 32), 0, straight, generator(7)), 16)
    assert torch.equal(a, again)
    torch.testing.assert_close(b, a.flip(-1), atol=1e-5, rtol=0)


def test_perspective_fill_is_white():
    views = sample_roi_views((0, 0, 32, 32), 0, ViewParams(8, 1.0, 0.3, 0.0, 1.0, False), generator())
    _, inside = view_coordinates(views, 32)
    out = render_views(torch.zeros(3, 32, 32), [(0, 0, 32, 32)], views, 32)
    assert (~inside).any()
    assert torch.all(out.permute(1, 0, 2, 3)[:, ~inside] == 1)
    assert torch.all(out.permute(1, 0, 2, 3)[:, inside].mean() < 0.2)


def test_reference_view_is_the_uncropped_padded_square():
    views = reference_views([(10, 20, 60, 30), (0, 0, 8, 8)])
    torch.testing.assert_close(views.patch_to_canvas[0], torch.tensor([[30.0, 0, 40], [0, 30, 35]]))
    torch.testing.assert_close(views.patch_to_canvas[1], torch.tensor([[4.0, 0, 4], [0, 4, 4]]))


def test_several_rois_render_in_one_call_without_crosstalk(boxes_image):
    image = boxes_image(40, 60, {(0, 0, 20, 40): (1.0, 0.0, 0.0), (20, 0, 40, 38): (0.0, 0.0, 1.0)}).permute(2, 0, 1)
    boxes = [(0, 0, 20, 40), (20, 0, 40, 38)]
    views = Views.cat([sample_roi_views(b, i, ViewParams(6, 0.8, 0.3, 0.3, 0.98, True), generator(i))
                       for i, b in enumerate(boxes)])
    out = render_views(image, boxes, views, 24)
    red, blue = out[views.roi_index == 0], out[views.roi_index == 1]
    assert torch.all((red[:, 0] - 1).abs() < 1e-4) and torch.all((red[:, 1] - red[:, 2]).abs() < 1e-4)
    assert torch.all((blue[:, 2] - 1).abs() < 1e-4) and torch.all((blue[:, 0] - blue[:, 1]).abs() < 1e-4)
