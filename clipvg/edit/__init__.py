"""Text-guided editing (CLIPVG): ``edit`` in one call, ``Editor`` step by step, ``run_job`` for a
whole job (load or vectorize, optimise, checkpoint, resume, write outputs), checkpoints to resume.

Public API: ``edit``, ``EditResult``, ``EditInterrupted``, ``Editor``, ``EditOptions``, ``Params``,
``load_source``, ``save_checkpoint``, ``load_checkpoint``, ``paths_touching``, ``region_mask``; the
job: ``JobSpec`` (with ``Region``, ``Subset``, ``ClipSettings``, ``RefinerSettings``, ``Outputs``,
``CheckpointPolicy``, ``ResourceLimits``), ``run_job``, ``JobResult``, ``JobProgress``, ``JobOwnedError``,
``EditOutOfMemoryError``, ``inspect_checkpoint``.
"""
from ..callable_module import make_callable
from .api import EditInterrupted, EditResult, edit, load_source
from .checkpoint import CheckpointInfo, inspect_checkpoint, load_checkpoint, save_checkpoint
from .editor import Editor
from .job import JobProgress, JobResult, run_job
from .memory import EditOutOfMemoryError
from .options import EditOptions, Params
from .ownership import JobOwnedError
from ..limits import ResourceLimits
from .regions import paths_touching, region_mask
from .spec import CheckpointPolicy, ClipSettings, JobSpec, Outputs, RefinerSettings, Region, Subset

__all__ = ["CheckpointInfo", "CheckpointPolicy", "ClipSettings", "EditInterrupted", "EditOptions",
           "EditOutOfMemoryError", "EditResult", "Editor", "JobOwnedError", "JobProgress", "JobResult", "JobSpec",
           "Outputs", "Params", "RefinerSettings", "Region", "ResourceLimits", "Subset", "edit", "inspect_checkpoint",
           "load_checkpoint", "load_source", "paths_touching", "region_mask", "run_job", "save_checkpoint"]

make_callable(__name__, "edit")
