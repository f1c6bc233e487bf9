"""Index arithmetic for ragged (packed) arrays: which group each entry belongs to, and where."""
from __future__ import annotations

import torch


def expand(counts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For groups of ``counts`` (G,) entries laid out one after another: the group (M,) of each of
    the M = counts.sum() entries and its position (M,) inside its group."""
    owner = torch.arange(len(counts), device=counts.device).repeat_interleave(counts)
    start = torch.cumsum(counts, 0) - counts
    return owner, torch.arange(len(owner), device=counts.device) - start[owner]


def owners(offsets: torch.Tensor) -> torch.Tensor:
    """For CSR ``offsets`` (G+1,), the group (M,) of each of the M = offsets[-1] entries."""
    return expand(offsets.diff())[0]
