"""Text-guided editing (CLIPVG): ``edit`` in one call, ``Editor`` step by step, ``run_job`` for a
whole job (load or vectorize, optimise, checkpoint, resume, write outputs), checkpoints to resume.

Public API: ``edit``, ``EditResult``, ``EditInterrupted``, ``Editor``, ``EditOptions``, ``Params``,
``load_source``, ``save_checkpoint``, ``load_checkpoint``, ``paths_touching``, ``region_mask``; the
job: ``JobSpec`` (with ``Region``, ``Subset``, ``ClipSettings``, ``RefinerSettings``, ``Outputs``,
``CheckpointPolicy``, ``ResourceLimits``), ``run_job``, ``JobResult``, ``JobProgress``, ``JobOwnedError``,
``EditOutOfMemoryError``, ``inspect_checkpoint``.
"""
from ..callable_module import make_callable
from ..lazy import lazy_attributes

# The names load on first use, so the option tables (``clipvg.edit.flat``, ``clipvg.edit.spec``) can be
# imported without torch: the CLI parses and checks its arguments before the editor loads.
__getattr__ = lazy_attributes(__name__, {
    **dict.fromkeys(("EditInterrupted", "EditResult", "edit", "load_source"), ".api"),
    **dict.fromkeys(("CheckpointInfo", "inspect_checkpoint", "load_checkpoint", "save_checkpoint"), ".checkpoint"),
    "Editor": ".editor", **dict.fromkeys(("JobProgress", "JobResult", "run_job"), ".job"),
    "EditOutOfMemoryError": ".memory", **dict.fromkeys(("EditOptions", "Params"), ".options"),
    "JobOwnedError": ".ownership", "ResourceLimits": "..limits",
    **dict.fromkeys(("paths_touching", "region_mask"), ".regions"),
    **dict.fromkeys(("CheckpointPolicy", "ClipSettings", "JobSpec", "Outputs", "RefinerSettings", "Region", "Subset"),
                    ".spec")}, globals())

__all__ = ["CheckpointInfo", "CheckpointPolicy", "ClipSettings", "EditInterrupted", "EditOptions",
           "EditOutOfMemoryError", "EditResult", "Editor", "JobOwnedError", "JobProgress", "JobResult", "JobSpec",
           "Outputs", "Params", "RefinerSettings", "Region", "ResourceLimits", "Subset", "edit", "inspect_checkpoint",
           "load_checkpoint", "load_source", "paths_touching", "region_mask", "run_job", "save_checkpoint"]

make_callable(__name__, "edit")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
