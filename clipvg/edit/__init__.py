"""Text-guided editing (CLIPVG): ``edit`` in one call, ``Editor`` step by step, checkpoints to resume.

Public API: ``edit``, ``EditResult``, ``EditInterrupted``, ``Editor``, ``EditOptions``, ``Params``,
``load_source``, ``save_checkpoint``, ``load_checkpoint``, ``paths_touching``, ``region_mask``.
"""
import sys
import types

from .api import EditInterrupted, EditResult, edit, load_source
from .checkpoint import load_checkpoint, save_checkpoint
from .editor import Editor
from .options import EditOptions, Params
from .regions import paths_touching, region_mask

__all__ = ["EditInterrupted", "EditOptions", "EditResult", "Editor", "Params", "edit", "load_checkpoint",
           "load_source", "paths_touching", "region_mask", "save_checkpoint"]


class _CallableModule(types.ModuleType):
    """Makes ``clipvg.edit(source, prompt=...)`` call ``edit`` while ``clipvg.edit.Editor`` and the
    other names above stay reachable as module attributes."""

    def __call__(self, *args, **kwargs) -> EditResult:
        return edit(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
