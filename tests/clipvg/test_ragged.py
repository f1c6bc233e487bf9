"""Ragged index helpers."""
import torch

from clipvg.ragged import expand, owners


def test_expand_gives_group_and_position() -> None:
    owner, local = expand(torch.tensor([2, 0, 3]))
    assert owner.tolist() == [0, 0, 2, 2, 2]
    assert local.tolist() == [0, 1, 0, 1, 2]


def test_owners_of_csr_offsets() -> None:
    assert owners(torch.tensor([0, 1, 1, 4])).tolist() == [0, 2, 2, 2]
    assert owners(torch.tensor([0])).tolist() == []
