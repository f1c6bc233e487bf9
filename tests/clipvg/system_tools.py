"""System tools and fonts some tests need (libcairo, fontconfig and DejaVu Sans, Inkscape, Chromium, icon
themes): a missing one skips the test with the reason, as on the GPU machine, which has none of them; CI
installs them all and sets CLIPVG_REQUIRE_SYSTEM_TOOLS, which turns a missing one into a failure."""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

import pytest

FAMILY = "DejaVu Sans"  # the system family the text tests draw with (Debian's fonts-dejavu-core)


def require(condition: bool, reason: str) -> None:
    """Skip the test with ``reason`` unless ``condition``; fail instead under CLIPVG_REQUIRE_SYSTEM_TOOLS."""
    if condition:
        return
    if os.environ.get("CLIPVG_REQUIRE_SYSTEM_TOOLS"):
        pytest.fail(f"{reason} (CLIPVG_REQUIRE_SYSTEM_TOOLS is set, so this is an error)")
    pytest.skip(reason, allow_module_level=True)


@functools.cache
def font_file(family: str = FAMILY) -> Path | None:
    """fontconfig's file for ``family``, or None where fontconfig or the family is not installed
    (fc-match then answers another family, or nothing)."""
    if shutil.which("fc-match") is None:
        return None
    answer = subprocess.run(["fc-match", "-f", "%{family}|%{file}", family], capture_output=True, text=True).stdout
    families, _, file = answer.partition("|")
    return Path(file) if family in families.split(",") and Path(file).is_file() else None


def system_font(family: str = FAMILY) -> Path:
    """The file of ``family`` through fontconfig, for tests that draw text in it; skips where it is missing."""
    require(font_file(family) is not None,
            f"the font family {family!r} is not installed through fontconfig (apt-get install fontconfig "
            "fonts-dejavu-core)")
    return font_file(family)
