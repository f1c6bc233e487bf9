"""DirectionalClipLoss: 1 - cos(image delta, text delta), with cos(0, .) defined as 0."""

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
