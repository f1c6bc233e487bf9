"""The public names the other packages and users rely on."""
from __future__ import annotations

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
