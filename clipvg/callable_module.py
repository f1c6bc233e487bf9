"""Packages that can be called like their main function (``clipvg.edit(...)``, ``clipvg.render(...)``)."""
from __future__ import annotations

import sys
import types
from typing import Any


def make_callable(module_name: str, function_name: str) -> None:
    """Let ``sys.modules[module_name](...)`` call the module's attribute ``function_name`` (looked up
    at each call) while its other names stay reachable; the package stays the package whatever the
    import order."""

    class CallableModule(types.ModuleType):
        __doc__ = f"The {module_name} package; calling it calls {module_name}.{function_name}."

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            return getattr(self, function_name)(*args, **kwargs)

    sys.modules[module_name].__class__ = CallableModule
