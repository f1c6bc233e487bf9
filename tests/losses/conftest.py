"""Fixtures for the losses tests: tiny random-weight open_clip models built from a config (no downloads)."""

from pathlib import Path

import pytest
import torch

import losses



@pytest.fixture(scope="session")
def tiny_clip() -> losses.ClipModel:
    """A 32 px, 16-d CLIP with seeded random weights, on CPU."""
    return losses.load_clip(Path(__file__).with_name("tiny_clip.json"), pretrained=None, device="cpu")


@pytest.fixture(scope="session")
def shapes_clip() -> losses.ClipModel:
    """The project's trained synthetic-shapes CLIP, on CPU."""
    return losses.load_clip(*losses.shapes_clip_paths(), device="cpu")


@pytest.fixture
def boxes_image():
    """Factory: `(H, W, 3)` image of a background colour with boxes (x, y, w, h) filled with their colours."""

    def make(height: int, width: int, boxes: dict[tuple[int, int, int, int], tuple[float, float, float]],
             background: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> torch.Tensor:
        image = torch.tensor(background).expand(height, width, 3).clone()
        for (x, y, w, h), colour in boxes.items():
            image[y:y + h, x:x + w] = torch.tensor(colour)
        return image

    return make
