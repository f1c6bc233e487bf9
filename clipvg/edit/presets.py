"""Named edit settings: ``--quick`` (offline smoke run) and the CPU preset the CLI picks without a GPU.

Keys are flat option names (``clipvg.edit.flat.OPTIONS``).
"""
from __future__ import annotations

# the paper's loop with the project's shapes CLIP: seconds, no download. The canvas is the photo's usual one
# (--max-size): a smaller canvas would resize the bundled 256 px photo (a ResizeWarning) and save nothing there
QUICK = dict(iterations=3, patches=4)
# without a GPU: 8 patches (9 CLIP views a step instead of 65) and 50 steps; --patches 64 restores the paper's
CPU = dict(iterations=50, patches=8)
# seconds per CLIP view (forward + backward) by CLIP's precision and per render of a step, ViT-B/32, 512 px,
# 2 CPU cores: benchmarks/edit.py --device cpu --threads 1 measured 10.0 CPU s a step in fp32 and 6.3 in bf16 with
# 64 patches (65 views), 1.4 s of it rendering, halved for 2 cores (benchmarks/results/edit_cpu_5627d05_2cpu.json)
CPU_VIEW_SECONDS = {"fp32": (10.0 - 1.4) / 65 / 2, "bf16": (6.3 - 1.4) / 65 / 2}
CPU_RENDER_SECONDS = 0.7


def quick_options() -> dict:
    """The ``--quick`` settings: ``QUICK`` plus the shapes CLIP's model config and checkpoint paths."""
    from losses import shapes_clip_paths

    model, weights = shapes_clip_paths()
    return dict(QUICK, clip_model=model, clip_weights=weights)


def cpu_seconds(iterations: int, patches: int, regions: int = 1, precision: str = "fp32") -> float:
    """Expected seconds of an edit with ViT-B/32 on 2 CPU cores: ``iterations`` steps of
    ``regions * (patches + 1)`` CLIP views each in ``precision`` ("fp32" or "bf16", as resolved by
    ``losses.precision.resolve_precision``), from the measured per-view cost above."""
    return iterations * (regions * (patches + 1) * CPU_VIEW_SECONDS[precision] + CPU_RENDER_SECONDS)
