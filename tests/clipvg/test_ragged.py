"""Ragged index helpers."""
import torch

from clipvg.ragged import expand, group_min_max, owners


def test_expand_gives_group_and_position() -> None:
    owner, local = expand(torch.tensor([2, 0, 3]))
    assert owner.tolist() == [0, 0, 2, 2, 2]
    assert local.tolist() == [0, 1, 0, 1, 2]


def test_owners_of_csr_offsets() -> None:
    assert owners(torch.tensor([0, 1, 1, 4])).tolist() == [0, 2, 2, 2]
    assert owners(torch.tensor([0])).tolist() == []


def test_group_min_max_marks_empty_groups() -> None:
    low, high = group_min_max(torch.tensor([3.0, -1.0, 5.0]), torch.tensor([0, 0, 2]), 3)
    assert low[0] == -1 and high[0] == 3 and low[2] == high[2] == 5
    assert high[1] < low[1]  # empty
    low, high = group_min_max(torch.tensor([4, 7]), torch.tensor([1, 1]), 2)
    assert (low[1].item(), high[1].item()) == (4, 7) and high[0] < low[0]
