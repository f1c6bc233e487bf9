"""The shapes CLIP: synthetic data, caption ranking, and that CLIP losses with it recolour shapes."""

from pathlib import Path

import pytest
import torch

import losses
from losses import shapes
from losses.augment import ViewParams, sample_roi_views
from losses.shapes.data import COLOURS, SHAPES, all_captions, caption, draw_shapes, sample_batch
from losses.shapes.train import caption_accuracy, caption_bank, multi_positive_loss
from losses.warp import render_views

GREEN = "a green circle on a white background"
RED = "a red circle on a white background"


def red_circle(size: int) -> torch.Tensor:
    """A centred-ish red circle, `(3, size, size)`."""
    colour = torch.tensor([list(COLOURS).index("red")])
    shape = torch.tensor([SHAPES.index("circle")])
    return draw_shapes(colour, shape, size, torch.Generator().manual_seed(1), jitter=0.0)[0]


def test_drawn_shapes_have_their_colour_on_white():
    image = red_circle(64)
    inside = (image - torch.tensor(COLOURS["red"]).view(3, 1, 1)).abs().amax(dim=0) < 1e-6
    white = (image == 1).all(dim=0)
    assert inside.float().mean() > 0.04 and white.float().mean() > 0.4
    assert (inside | white).float().mean() > 0.9  # the rest is the anti-aliased edge


def test_caption_bank_and_multi_positive_loss():
    captions, labels = caption_bank()
    assert caption("red", "circle") == RED and len(all_captions()) == len(COLOURS) * len(SHAPES)
    assert captions[labels.tolist().index(all_captions().index(RED))] == RED
    labels = torch.tensor([0, 0, 1])
    perfect = torch.tensor([[9.0, 9.0, -9.0], [9.0, 9.0, -9.0], [-9.0, -9.0, 9.0]])
    assert multi_positive_loss(perfect, labels) < multi_positive_loss(-perfect, labels)


def test_shapes_clip_ranks_held_out_captions(shapes_clip):
    images, labels = sample_batch(400, shapes_clip.image_size, torch.Generator().manual_seed(2024))
    assert caption_accuracy(shapes_clip, images, labels) >= 0.9


def test_directional_loss_turns_a_red_circle_green(shapes_clip):
    """Optimise a raw image tensor with the directional loss on random CLIPVG views of it (without
    views, pixel-level descent on a tiny CLIP finds adversarial noise rather than a colour change)."""
    size = shapes_clip.image_size
    source = red_circle(size)
    shape = source[1] < 0.5  # the red pixels
    loss_fn = losses.DirectionalClipLoss.from_prompts(shapes_clip, GREEN, RED)
    reference = shapes_clip.encode_image(source.unsqueeze(0)).detach()
    box, generator = (0, 0, size, size), torch.Generator().manual_seed(0)
    image = source.clone().requires_grad_()
    optimizer = torch.optim.Adam([image], lr=0.02)
    for _ in range(30):
        views = sample_roi_views(box, 0, ViewParams(8, 0.8, 0.3, 0.3, 0.98, True), generator)
        optimizer.zero_grad()
        loss = loss_fn(shapes_clip.encode_image(render_views(image, [box], views, size)), reference).mean()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            image.clamp_(0, 1)
    before, after = source[:, shape].mean(dim=1), image.detach()[:, shape].mean(dim=1)
    assert after[1] > before[1] + 0.1 and after[0] < before[0] - 0.05
    assert loss.item() < 0.8


def test_roi_clip_loss_turns_a_red_circle_green(shapes_clip):
    source = red_circle(96).permute(1, 2, 0)
    shape = source[..., 1] < 0.5
    loss_fn = losses.ROIClipLoss(shapes_clip, [losses.ROI(GREEN, source_prompt=RED, num_patches=16)], source,
                                 generator=torch.Generator().manual_seed(0))
    image = source.clone().requires_grad_()
    optimizer = torch.optim.Adam([image], lr=0.02)
    for _ in range(25):
        optimizer.zero_grad()
        loss_fn(image).backward()
        optimizer.step()
        with torch.no_grad():
            image.clamp_(0, 1)
    before, after = source[shape].mean(dim=0), image.detach()[shape].mean(dim=0)
    assert after[1] > before[1] + 0.1 and after[0] < before[0] - 0.05


def test_checkpoint_ships_small_and_missing_one_says_how_to_rebuild(tmp_path, monkeypatch):
    config, checkpoint = losses.shapes_clip_paths()
    assert config.endswith("shapes_clip.json")
    assert Path(checkpoint).stat().st_size <= 5 * 2**20
    monkeypatch.setattr(shapes, "CHECKPOINT_PATH", tmp_path / "missing.pt")
    with pytest.raises(losses.WeightsUnavailableError, match="python -m losses.shapes.train"):
        shapes.shapes_clip_paths()
