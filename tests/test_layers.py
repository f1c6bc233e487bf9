"""Import layering (DESIGN.md): importing a layer loads nothing above it. Each layer is imported in a
fresh interpreter and the modules it loaded are listed from ``sys.modules``."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

ABOVE_CORE = ("losses", "vectorize", "open_clip", "clipvg.edit", "clipvg.inpaint", "clipvg.refiners", "clipvg.batch",
              "clipvg.serve", "clipvg.cli")
FRONT_ENDS = ("clipvg.batch", "clipvg.serve", "clipvg.cli")

# layer -> module prefixes it must not load
FORBIDDEN = {
    "clipvg": ABOVE_CORE + ("clipvg.scene", "clipvg.render", "clipvg.svg"),  # lazy: and see ALLOWED
    "losses": ("vectorize", "clipvg.scene", "clipvg.render", "clipvg.svg", "clipvg.edit", "clipvg.inpaint",
               "clipvg.refiners") + FRONT_ENDS,
    "clipvg.scene": ABOVE_CORE + ("clipvg.svg",),
    "clipvg.render": ABOVE_CORE + ("clipvg.svg",),
    "clipvg.svg": ABOVE_CORE,
    "vectorize": ("losses", "open_clip", "clipvg.svg", "clipvg.edit", "clipvg.inpaint", "clipvg.refiners") + FRONT_ENDS,
    "clipvg.edit": FRONT_ENDS,
    "clipvg.batch": ("clipvg.serve", "clipvg.cli"),
    # what a spawned serve worker unpickles before its parent-death signal is set: nothing heavy
    "clipvg.serve.workers": ABOVE_CORE[:-3] + ("clipvg.serve.app", "clipvg.serve.service", "clipvg.cli", "torch"),
    "clipvg.startup": ABOVE_CORE + ("torch",),
    # what a command line reads (precision, errors) before it has checked its arguments: no open_clip
    "losses.precision": ("open_clip", "torchvision", "losses.clip_model"),
}
# layers that may load only these clipvg modules (the shared, dependency-free errors and lazy-import modules)
ALLOWED = {"clipvg": {"clipvg", "clipvg.errors", "clipvg.lazy"}, "losses": {"clipvg", "clipvg.errors", "clipvg.lazy"}}


def loaded_by(module: str) -> list[str]:
    code = f"import json, sys; import {module}; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    return json.loads(done.stdout)


def _under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_loads_nothing_above_it(layer):
    modules = loaded_by(layer)
    ours = [m for m in modules if m.split(".")[0] in ("clipvg", "losses", "vectorize")]
    above = [m for m in modules if any(_under(m, p) for p in FORBIDDEN[layer])]
    assert not above, f"import {layer} loaded {above}"
    if layer in ALLOWED:
        assert {m for m in ours if m.startswith("clipvg")} <= ALLOWED[layer], ours


def test_the_top_level_names_still_resolve_lazily():
    code = ("import clipvg, sys; assert 'clipvg.edit' not in sys.modules; "
            "assert callable(clipvg.edit) and callable(clipvg.render) and clipvg.Scene and clipvg.run_job; print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.stdout.strip() == "ok", done.stderr
