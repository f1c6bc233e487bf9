"""Module attributes loaded on first access (PEP 562), so importing a package loads only what is used."""
from __future__ import annotations

import importlib
from typing import Any, Callable


def lazy_attributes(package: str, names: dict[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: a name in ``names`` (public name -> relative module
    that defines it) is imported on first access and cached in ``namespace`` (the package's
    ``globals()``); any other name raises AttributeError."""

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(names[name], package), name)
        namespace[name] = value
        return value

    return __getattr__
