"""ROIClipLoss: validation, gradients, batched == per-patch loop, ROI pixels, weights and logging."""

import pytest
import torch

import losses
from losses.reference import reference_loss


@pytest.fixture
def source() -> torch.Tensor:
    return torch.rand(48, 64, 3, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("box, match", [
    ((60, 0, 10, 10), "not inside the 64x48 canvas"),
    ((-1, 0, 10, 10), "not inside"),
    ((0, 40, 10, 10), "not inside"),
    ((100, 100, 5, 5), "not inside"),
    ((0, 0, 0, 10), "zero size"),
    ((0, 0, 10, 0), "zero size"),
    ((0, 0, 10.5, 10), "4 integers"),
    ((0, 0, 10), "4 integers"),
])
def test_boxes_outside_the_canvas_or_empty_are_rejected(tiny_clip, source, box, match):
    with pytest.raises(losses.LossInputError, match=match):
        losses.ROIClipLoss(tiny_clip, [losses.ROI("a cat"), losses.ROI("a dog", box)], source)


@pytest.mark.parametrize("kwargs, match", [
    ({"prompt": ""}, "non-empty"),
    ({"prompt": "  "}, "non-empty"),
    ({"prompt": "A photo"}, "equals its source prompt"),
    ({"prompt": "a cat", "w_roi": -1.0}, "w_roi"),
    ({"prompt": "a cat", "num_patches": 2.5}, "num_patches"),
    ({"prompt": "a cat", "crop_ratio": 0.0}, "crop_ratio"),
    ({"prompt": "a cat", "perspective": 1.5}, "perspective"),
    ({"prompt": "a cat", "w_roi": 0.0, "w_patch": 0.0}, "no weighted view"),
])
def test_invalid_roi_settings_are_rejected(kwargs, match):
    with pytest.raises(losses.LossInputError, match=match):
        losses.ROI(**kwargs)


def test_bad_images_are_rejected(tiny_clip, source):
    with pytest.raises(losses.LossInputError, match=r"\(H, W, 3\)"):
        losses.ROIClipLoss(tiny_clip, [losses.ROI("a cat")], source.permute(2, 0, 1))
    with pytest.raises(losses.LossInputError, match="at least"):
        losses.ROIClipLoss(tiny_clip, [], source)
    loss_fn = losses.ROIClipLoss(tiny_clip, [losses.ROI("a cat", num_patches=2)], source)
    with pytest.raises(losses.LossInputError, match="source image was"):
        loss_fn(source[:40])


def test_gradients_reach_the_image(tiny_clip, source):
    loss_fn = losses.ROIClipLoss(tiny_clip, [losses.ROI("a cat", num_patches=8),
                                             losses.ROI("a dog", (8, 4, 30, 20), num_patches=8)], source)
    image = source.clone().requires_grad_()
    value = loss_fn(image)
    assert value.ndim == 0 and torch.isfinite(value)
    value.backward()
    assert torch.isfinite(image.grad).all()
    assert image.grad.abs().sum() > 0
    outside = torch.ones(48, 64, dtype=torch.bool)
    outside[4:24, 8:38] = False
    assert image.grad[outside].abs().sum() > 0  # the whole-canvas ROI sees everything


def test_gradient_stays_inside_a_lone_box(tiny_clip, source):
    loss_fn = losses.ROIClipLoss(tiny_clip, [losses.ROI("a dog", (8, 4, 30, 20), num_patches=8)], source)
    image = source.clone().requires_grad_()
    loss_fn(image).backward()
    assert image.grad[4:24, 8:38].abs().sum() > 0
    image.grad[4:24, 8:38] = 0
    assert torch.all(image.grad == 0)


def test_batched_equals_per_patch_loop_on_the_same_views(tiny_clip, source):
    rois = [losses.ROI("a cat"), losses.ROI("a dog", (8, 4, 30, 20), num_patches=16, w_roi=10.0),
            losses.ROI("a tree", (40, 10, 20, 38), source_prompt="a bush", num_patches=5, w_patch=0.0)]
    loss_fn = losses.ROIClipLoss(tiny_clip, rois, source)
    views = loss_fn.sample_views()
    assert len(views) == (1 + 64) + (1 + 16) + 1
    image_a = (source * 0.7 + 0.1).requires_grad_()
    image_b = image_a.detach().clone().requires_grad_()
    batched = loss_fn.loss_from_views(image_a, views)
    batched_terms = loss_fn.last_terms
    looped = reference_loss(loss_fn, image_b, views)
    torch.testing.assert_close(batched, looped, rtol=1e-5, atol=1e-5)
    assert batched_terms.keys() == loss_fn.last_terms.keys()
    for key, value in batched_terms.items():
        assert value == pytest.approx(loss_fn.last_terms[key], rel=1e-5, abs=1e-5)
    batched.backward()
    looped.backward()
    scale = image_b.grad.abs().max().item()
    torch.testing.assert_close(image_a.grad, image_b.grad, rtol=1e-3, atol=1e-3 * scale)


def test_terms_combine_with_the_roi_weights(tiny_clip, source):
    rois = [losses.ROI("a cat", num_patches=4, w_roi=3.0, w_patch=5.0),
            losses.ROI("a dog", (8, 4, 30, 20), num_patches=6, w_roi=0.0, w_patch=2.0)]
    loss_fn = losses.ROIClipLoss(tiny_clip, rois, source)
    value = loss_fn(source)
    terms = loss_fn.last_terms
    assert set(terms) == {"roi0", "roi0/view", "roi0/patches", "roi1", "roi1/patches"}
    assert terms["roi0"] == pytest.approx(3.0 * terms["roi0/view"] + 5.0 * terms["roi0/patches"], rel=1e-5)
    assert terms["roi1"] == pytest.approx(2.0 * terms["roi1/patches"], rel=1e-5)
    assert value.item() == pytest.approx(terms["roi0"] + terms["roi1"], rel=1e-5)
    assert all(0 <= terms[k] <= 2 for k in terms if "/" in k)


def test_source_image_on_its_reference_view_gives_exactly_w_roi(tiny_clip, source):
    """With an uncropped whole view and no patches, the source's image delta is zero: loss = w_roi * 1."""
    rois = [losses.ROI("a cat", w_patch=0.0, view_crop=1.0), losses.ROI("a dog", (8, 4, 30, 20),
                                                                        w_roi=7.0, w_patch=0.0, view_crop=1.0)]
    loss_fn = losses.ROIClipLoss(tiny_clip, rois, source)
    assert loss_fn(source.clone()).item() == pytest.approx(30.0 + 7.0, abs=1e-4)
    assert loss_fn.last_terms["roi0/view"] == pytest.approx(1.0, abs=1e-6)
    assert loss_fn(source * 0.5).item() != pytest.approx(37.0, abs=1e-3)


def test_reference_embedding_is_the_source_whole_roi_view(tiny_clip, source, boxes_image):
    loss_fn = losses.ROIClipLoss(tiny_clip, [losses.ROI("a dog", (8, 4, 30, 20), num_patches=2)], source)
    padded = torch.ones(30, 30, 3)
    padded[5:25] = source[4:24, 8:38]  # the box, white-padded to a centred square
    expected = tiny_clip.encode_image(padded.permute(2, 0, 1).unsqueeze(0))
    torch.testing.assert_close(loss_fn.references, expected, atol=2e-3, rtol=0)


def test_each_roi_sees_only_its_own_pixels(tiny_clip, boxes_image, monkeypatch):
    red, green = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0)
    image = boxes_image(60, 80, {(5, 5, 30, 20): red, (40, 30, 35, 25): green})  # on black
    rois = [losses.ROI("a red thing", (5, 5, 30, 20), num_patches=12),
            losses.ROI("a green thing", (40, 30, 35, 25), num_patches=12), losses.ROI("everything", num_patches=12)]
    loss_fn = losses.ROIClipLoss(tiny_clip, rois, image)
    seen = []
    encode = tiny_clip.encode_image
    monkeypatch.setattr(tiny_clip, "encode_image", lambda x: seen.append(x.detach()) or encode(x))
    views = loss_fn.sample_views()
    loss_fn.loss_from_views(image, views)
    (pixels,) = seen
    first, second, whole = (pixels[views.roi_index == i] for i in range(3))
    # red ROI: only red and white (R == 1, G == B); green ROI: only green and white (G == 1, R == B)
    assert torch.all((first[:, 0] - 1).abs() < 1e-4) and torch.all((first[:, 1] - first[:, 2]).abs() < 1e-4)
    assert torch.all((second[:, 1] - 1).abs() < 1e-4) and torch.all((second[:, 0] - second[:, 2]).abs() < 1e-4)
    assert (first[:, 1] < 0.05).float().mean() > 0.3 and (second[:, 0] < 0.05).float().mean() > 0.3
    # the whole-canvas ROI sees the black background too
    assert (whole.amax(dim=1) < 0.05).float().mean() > 0.2


def test_same_generator_seed_gives_the_same_loss(tiny_clip, source):
    def run(seed):
        fn = losses.ROIClipLoss(tiny_clip, [losses.ROI("a cat", num_patches=6)], source,
                                generator=torch.Generator().manual_seed(seed))
        return [fn(source * 0.9).item() for _ in range(2)]

    first = run(3)
    assert first == run(3)
    assert first[0] != first[1]  # fresh views on every call
    assert first != run(4)
