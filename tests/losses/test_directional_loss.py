"""DirectionalClipLoss: 1 - cos(image delta, text delta), with cos(0, .) defined as 0."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import losses


def test_zero_image_delta_gives_exactly_one():
    loss = losses.DirectionalClipLoss(torch.tensor([1.0, 2.0, 0.0]))
    embedding = F.normalize(torch.randn(4, 3), dim=-1)
    assert torch.equal(loss(embedding, embedding), torch.ones(4))


def test_aligned_orthogonal_and_opposite_deltas():
    loss = losses.DirectionalClipLoss(torch.tensor([0.0, 2.0]))
    reference = torch.tensor([0.5, 0.5])
    images = reference + torch.tensor([[0.0, 0.3], [0.4, 0.0], [0.0, -0.1]])
    torch.testing.assert_close(loss(images, reference), torch.tensor([0.0, 1.0, 2.0]))


def test_matches_an_independent_computation():
    """1 - cos(image delta, text delta) written out in float64 from the formula, per region."""
    rng = np.random.default_rng(7)
    text, images, reference = rng.normal(size=(3, 8)), rng.normal(size=(5, 8)), rng.normal(size=8)
    region = [0, 2, 1, 1, 0]
    expected = []
    for image, r in zip(images, region):
        delta = [a - b for a, b in zip(image, reference)]
        dot = sum(a * b for a, b in zip(delta, text[r]))
        norms = math.sqrt(sum(a * a for a in delta)) * math.sqrt(sum(b * b for b in text[r]))
        expected.append(1 - dot / norms)
    loss = losses.DirectionalClipLoss(torch.tensor(text))
    got = loss(torch.tensor(images), torch.tensor(reference), torch.tensor(region))
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_per_region_directions_are_picked_by_index():
    loss = losses.DirectionalClipLoss(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    images = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    torch.testing.assert_close(loss(images, torch.zeros(2), torch.tensor([0, 1])), torch.tensor([0.0, 1.0]))


def test_gradient_turns_the_image_delta_toward_the_text_delta():
    loss = losses.DirectionalClipLoss(torch.tensor([0.0, 1.0]))
    image = torch.tensor([[1.0, 0.0]], requires_grad=True)
    loss(image, torch.zeros(2)).sum().backward()
    assert image.grad[0, 1] < 0  # descending the loss increases the component along the text delta


def test_text_direction_from_templated_prompts(tiny_clip):
    loss = losses.DirectionalClipLoss.from_prompts(tiny_clip, "a red car", "a blue car")
    expected = tiny_clip.encode_text_templates("a red car") - tiny_clip.encode_text_templates("a blue car")
    torch.testing.assert_close(loss.text_direction, expected)


def test_identical_prompts_have_no_direction():
    with pytest.raises(losses.LossInputError, match="no direction"):
        losses.DirectionalClipLoss(torch.zeros(8))
