"""A Scene through a ``torch.save`` / ``torch.load(weights_only=True)`` round trip, as checkpoints store it."""
from __future__ import annotations

import dataclasses
import io

import torch

from clipvg import Scene
from clipvg.scene.tree import tree_to_data


def through_weights_only_checkpoint(scene: Scene) -> Scene:
    """``scene`` saved as plain data (its tree as ``tree_to_data``) and loaded back with ``weights_only=True``."""
    state = {f.name: getattr(scene, f.name) for f in dataclasses.fields(Scene)}
    state["tree"] = tree_to_data(state["tree"])
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return Scene(**torch.load(buffer, weights_only=True))
