"""Checkpoints of an edit in progress: the scene, Adam's state, the loss RNG state, the step and the
loss history. Resuming gives the same result as an uninterrupted run with the same settings."""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from ..atomic import atomic_path
from ..errors import InvalidInputError
from ..scene import Scene
from ..scene.tree import tree_to_data
from .editor import Editor
from .options import EditOptions

FILENAME = "checkpoint.pt"
VERSION = 1


def checkpoint_file(directory: str | os.PathLike) -> Path:
    """The checkpoint file inside ``directory``."""
    return Path(directory) / FILENAME


def has_checkpoint(directory: str | os.PathLike) -> bool:
    """Whether ``directory`` holds a checkpoint."""
    return checkpoint_file(directory).is_file()


def save_checkpoint(editor: Editor, directory: str | os.PathLike, meta: dict | None = None,
                    owner: dict | None = None) -> Path:
    """Write ``editor``'s state to ``directory``/checkpoint.pt atomically; ``meta`` (JSON-able) must
    match on resume (e.g. a digest of the input file); ``owner`` the job owner's token (recorded, not
    compared). Returns the file written."""
    scene = {f.name: getattr(editor.scene, f.name) for f in dataclasses.fields(Scene)}
    scene["tree"] = tree_to_data(scene["tree"])  # plain data: torch.load(weights_only=True) reads it
    state = {
        "version": VERSION,
        "scene": {k: v.detach().cpu() if isinstance(v, torch.Tensor) else v for k, v in scene.items()},
        "optimizer": editor.optimizer.state_dict(),
        "generator": editor.generator.get_state(),
        "step": editor.step_count,
        "losses": list(editor.losses),
        "source_image": editor.source_image.detach().cpu(),
        "path_mask": None if editor.path_mask is None else editor.path_mask.cpu(),
        "fingerprint": editor.options.fingerprint(),
        "meta": meta or {},
        "owner": owner,
    }
    target = checkpoint_file(directory)
    with atomic_path(target) as tmp:
        torch.save(state, tmp)
    return target


@dataclass
class CheckpointInfo:
    """What a checkpoint holds, read without building an editor: ``step`` done, ``losses`` per step,
    ``fingerprint`` and ``meta`` (the settings it resumes under) and ``owner`` (the token of the job
    owner that wrote it: pid, host, started, token)."""

    step: int
    losses: list[float]
    fingerprint: dict
    meta: dict
    owner: dict | None


def inspect_checkpoint(directory: str | os.PathLike) -> CheckpointInfo | None:
    """The CheckpointInfo of ``directory``'s checkpoint, None when there is none; InvalidInputError
    when it is unreadable."""
    path = checkpoint_file(directory)
    if not path.is_file():
        return None
    state = _read(path)
    return CheckpointInfo(state["step"], list(state["losses"]), state["fingerprint"], state["meta"], state.get("owner"))


def _read(path: Path) -> dict:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a corrupt file
        raise InvalidInputError(f"cannot read checkpoint {path} ({error}); start a new edit") from None
    if state.get("version") != VERSION:
        raise InvalidInputError(f"checkpoint {path} has an unknown version; start a new edit")
    return state


def load_checkpoint(directory: str | os.PathLike, options: EditOptions, clip=None,
                    meta: dict | None = None) -> Editor:
    """An Editor restored from ``directory``, ready to continue. Raises InvalidInputError when the
    checkpoint is missing or unreadable, or was made with other settings (``options`` / ``meta``)."""
    path = checkpoint_file(directory)
    if not path.is_file():
        raise InvalidInputError(f"no checkpoint in {directory}; run without --resume or pass the directory "
                                "an interrupted edit wrote")
    state = _read(path)
    saved, wanted = state["fingerprint"], options.fingerprint()
    changed = sorted(k for k in set(saved) | set(wanted) if saved.get(k) != wanted.get(k))
    changed += sorted(k for k in set(state["meta"]) | set(meta or {}) if state["meta"].get(k) != (meta or {}).get(k))
    if changed:
        raise InvalidInputError(f"checkpoint {path} was made with different settings ({', '.join(changed)}); "
                                "resume with the same settings or start a new edit")
    editor = Editor(Scene(**state["scene"]), options, clip, source_image=state["source_image"],
                    path_mask=state["path_mask"])
    editor.optimizer.load_state_dict(state["optimizer"])
    editor.generator.set_state(state["generator"])
    editor.step_count = state["step"]
    editor.losses = list(state["losses"])
    return editor
