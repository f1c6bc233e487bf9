"""clipvg: text-guided editing of pictures in the vector domain (CLIPVG, AAAI 2023).

Public API: ``load_svg``, ``save_svg``, ``render``, ``Scene`` and the per-path view types, and the
editor: ``edit``, ``Editor``, ``EditResult``, ``JobSpec``, ``run_job``. ``clipvg.edit`` is the
editor's package and can be called: ``clipvg.edit(source, prompt=...)`` is
``clipvg.edit.edit(source, prompt=...)``.

Names load on first use (module ``__getattr__``), so ``import clipvg.render`` or ``import losses``
loads nothing above the layer asked for.
"""
from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from .errors import BackendUnavailableError, ClipvgError, InvalidInputError, SVGParseError
from .lazy import lazy_attributes

# public name -> the submodule that defines it
_LAZY = {
    **dict.fromkeys(("GradientStops", "LinearGradient", "Path", "RadialGradient", "Scene", "Solid", "Stroke",
                     "Subpath", "concat"), ".scene"),
    **dict.fromkeys(("load_svg", "save_svg"), ".svg"),
    **dict.fromkeys(("EditResult", "Editor", "JobResult", "JobSpec", "run_job"), ".edit"),
}

__all__ = [
    "BackendUnavailableError", "ClipvgError", "EditResult", "Editor", "GradientStops", "InvalidInputError",
    "JobResult", "JobSpec", "LinearGradient", "Path", "RadialGradient", "SVGParseError", "Scene", "Solid", "Stroke",
    "Subpath", "concat", "edit", "load_svg", "render", "run_job", "save_svg",
]
__version__ = "0.1.0"


_named = lazy_attributes(__name__, _LAZY, globals())


def __getattr__(name: str) -> Any:
    """Load a public name or a subpackage on first access."""
    if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        # a submodule, imported on first access: clipvg.svg.load_svg(...); clipvg.edit(...), clipvg.render(...)
        return importlib.import_module(f".{name}", __name__)
    return _named(name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
