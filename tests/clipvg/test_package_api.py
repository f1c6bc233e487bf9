"""The public names the other packages and users rely on."""
from __future__ import annotations

import subprocess
import sys

import clipvg


def test_public_api_names() -> None:
    for name in ("load_svg", "save_svg", "render", "Scene", "edit", "Editor", "EditResult", "Path", "Subpath",
                 "Solid", "Stroke", "LinearGradient", "RadialGradient", "GradientStops", "ClipvgError"):
        assert hasattr(clipvg, name), name


def test_clipvg_edit_is_callable_and_forwards_to_edit(monkeypatch) -> None:
    calls = []
    monkeypatch.setattr(clipvg.edit, "edit", lambda *args, **kwargs: calls.append((args, kwargs)) or "result")
    assert clipvg.edit("photo.png", prompt="a cat", iterations=3) == "result"
    assert calls == [(("photo.png",), {"prompt": "a cat", "iterations": 3})]
    assert clipvg.edit.Editor is clipvg.Editor


def test_subpackages_are_attributes_after_a_plain_import():
    """``import clipvg`` then ``clipvg.svg.load_svg``: every subpackage loads on first access, in a fresh interpreter."""
    code = ("import clipvg; assert callable(clipvg.svg.load_svg) and callable(clipvg.inpaint.outpaint); "
            "assert callable(clipvg.edit) and callable(clipvg.render)")
    subprocess.run([sys.executable, "-c", code], check=True)
