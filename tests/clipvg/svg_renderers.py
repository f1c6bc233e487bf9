"""Third-party SVG renderers for the editor's output tests: resvg, cairosvg and Inkscape (CLI)."""
from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import cairosvg
import numpy as np
import resvg_py
from PIL import Image


def _on_white(png: bytes) -> np.ndarray:
    """(H, W, 3) float in [0, 1]: PNG bytes composited on white."""
    rgba = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"), dtype=np.float64) / 255
    return rgba[..., :3] * rgba[..., 3:] + (1 - rgba[..., 3:])


def resvg(svg: Path) -> np.ndarray:
    return _on_white(bytes(resvg_py.svg_to_bytes(svg_path=str(svg))))


def cairo(svg: Path) -> np.ndarray:
    return _on_white(cairosvg.svg2png(url=str(svg)))


def inkscape(svg: Path) -> np.ndarray:
    """Inkscape's render (``inkscape --export-type=png``)."""
    target = svg.with_name(svg.stem + ".inkscape.png")
    subprocess.run(["inkscape", "--export-type=png", f"--export-filename={target}", str(svg)], check=True,
                   capture_output=True, timeout=120)
    return _on_white(target.read_bytes())


RENDERERS = {"resvg": resvg, "cairosvg": cairo, "inkscape": inkscape}


def available(name: str) -> bool:
    """Whether renderer ``name`` can run here (Inkscape needs its binary; CI installs it)."""
    return name != "inkscape" or shutil.which("inkscape") is not None


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two images in [0, 1]."""
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1 / mse)
