"""Third-party SVG renderers for the output tests: resvg, cairosvg, Inkscape and Chromium (CLIs)."""
from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import resvg_py
from PIL import Image

from system_tools import require


def _on_white(png: bytes) -> np.ndarray:
    """(H, W, 3) float in [0, 1]: PNG bytes composited on white."""
    rgba = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"), dtype=np.float64) / 255
    return rgba[..., :3] * rgba[..., 3:] + (1 - rgba[..., 3:])


def resvg(svg: Path) -> np.ndarray:
    return _on_white(bytes(resvg_py.svg_to_bytes(svg_path=str(svg))))


def resvg_supersampled(svg: str, width: int, height: int, zoom: int = 4) -> np.ndarray:
    """(height, width, 3) on white: resvg's render of the markup ``svg`` at ``zoom`` x, box-filtered
    down (the exact-area coverage clipvg computes)."""
    return _on_white(bytes(resvg_py.svg_to_bytes(svg_string=svg, zoom=zoom))).reshape(
        height, zoom, width, zoom, 3).mean((1, 3))


def resvg_zoomed(svg: str, zoom: int) -> np.ndarray:
    """(H * zoom, W * zoom, 3) on white: resvg's render of the markup ``svg`` at ``zoom`` x (for what
    resvg draws at the output's resolution, such as pattern tiles, compared at that resolution)."""
    return _on_white(bytes(resvg_py.svg_to_bytes(svg_string=svg, zoom=zoom)))


def cairosvg_module():
    """cairosvg, or a skip where its system library (libcairo) is missing (``system_tools.require``)."""
    try:
        import cairosvg
    except (ImportError, OSError) as error:
        require(False, f"cairosvg cannot load here (apt-get install libcairo2): {error}")
    return cairosvg


def cairo(svg: Path) -> np.ndarray:
    return _on_white(cairosvg_module().svg2png(url=str(svg)))


def assert_draws_like_resvg(document: str, expected: str | None = None, min_psnr: float = 40.0) -> None:
    """clipvg draws the markup ``document`` without an UnsupportedSVGWarning and within ``min_psnr``
    dB of resvg's supersampled render of ``expected`` (default: the same markup)."""
    import warnings

    from clipvg import load_svg, render
    from clipvg.svg import UnsupportedSVGWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error", UnsupportedSVGWarning)
        scene = load_svg(document)
    image = render(scene, background=(1, 1, 1))[..., :3].double().numpy()
    assert psnr(image, resvg_supersampled(expected or document, *image.shape[1::-1])) >= min_psnr


def inkscape(svg: Path) -> np.ndarray:
    """Inkscape's render (``inkscape --export-type=png``)."""
    target = svg.with_name(svg.stem + ".inkscape.png")
    subprocess.run(["inkscape", "--export-type=png", f"--export-filename={target}", str(svg)], check=True,
                   capture_output=True, timeout=120)
    return _on_white(target.read_bytes())


CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--force-device-scale-factor=1")


def chromium(svg: Path) -> np.ndarray:
    """Chromium's headless screenshot of the SVG opened as a page, at the SVG's own size."""
    from clipvg import load_svg

    scene = load_svg(svg)
    target = svg.with_name(svg.stem + ".chromium.png")
    subprocess.run([shutil.which("chromium"), *CHROMIUM_FLAGS, f"--user-data-dir={svg.parent / '.chromium'}",
                    f"--window-size={round(scene.width)},{round(scene.height)}", f"--screenshot={target}",
                    svg.resolve().as_uri()], check=True, capture_output=True, timeout=120)
    return _on_white(target.read_bytes())


RENDERERS = {"resvg": resvg, "cairosvg": cairo, "inkscape": inkscape, "chromium": chromium}
BINARIES = {"inkscape": "inkscape", "chromium": "chromium"}


def available(name: str) -> bool:
    """Whether renderer ``name`` can run here (Inkscape and Chromium need their binaries; CI
    installs them and sets CLIPVG_REQUIRE_SYSTEM_TOOLS, which turns a missing one into a failure)."""
    binary = BINARIES.get(name)
    if binary is None or shutil.which(binary) is not None:
        return True
    if os.environ.get("CLIPVG_REQUIRE_SYSTEM_TOOLS"):
        raise RuntimeError(f"{binary} is missing: apt-get install {binary}")
    return False


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two images in [0, 1]."""
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1 / mse)
