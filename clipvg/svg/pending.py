"""The reader's numbers before torch: what ``clipvg.svg.reader.read_svg`` puts in the tree where the Scene holds
tensors, and ``tree_tensors``, which makes them tensors when the Scene is built (``to_scene``).

Filter parameters are float32 numpy arrays (the same values ``torch.tensor(..., dtype=torch.float32)`` holds;
``torch.from_numpy`` keeps them bit for bit), or a ``Pending`` for a value computed by torch code (a colour
matrix from ``clipvg.render.filters.color``); image textures are (h, w, 4) float32 arrays. Reading stays
torch-free, so a file the reader refuses is refused before torch loads.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

if TYPE_CHECKING:
    import torch

    from ..scene.tree import Group


@dataclass(frozen=True)
class Pending:
    """A tensor made when the Scene is built: ``build(*args)``."""

    build: Callable[..., torch.Tensor]
    args: tuple = ()


def tree_tensors(tree: Group) -> Group:
    """``tree`` (in place) with its arrays and ``Pending`` values made tensors: image textures and filter
    parameters, in mask, feImage and pattern contents too. An array shared by several parameters becomes one
    tensor shared likewise."""
    import torch

    made: dict[int, torch.Tensor] = {}

    def tensor(value: Any) -> Any:
        if isinstance(value, Pending):
            return value.build(*value.args)
        if isinstance(value, (np.ndarray, np.generic)):
            if id(value) not in made:
                made[id(value)] = torch.from_numpy(np.asarray(value))
            return made[id(value)]
        if isinstance(value, dict):
            return {key: tensor(item) for key, item in value.items()}
        if isinstance(value, list):
            return [tensor(item) for item in value]
        return value

    for image in tree.images():
        image.texture = tensor(image.texture)
    for group in tree.groups():
        for primitive in (p for f in group.filters for p in f.primitives):
            primitive.params = tensor(primitive.params)
    return tree


__all__ = ["Pending", "tree_tensors"]
