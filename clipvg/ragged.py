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


def group_min_max(values: torch.Tensor, group: torch.Tensor, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per group (``count`` groups) the min and max (count,) of ``values`` (M,) with groups ``group``
    (M,); empty groups get the dtype's largest value as min and smallest as max."""
    info = torch.finfo(values.dtype) if values.dtype.is_floating_point else torch.iinfo(values.dtype)
    low = values.new_full((count,), info.max).scatter_reduce(0, group, values, "amin")
    high = values.new_full((count,), info.min).scatter_reduce(0, group, values, "amax")
    return low, high
