"""Vectorizer benchmark: prints JSON for skimage's astronaut, chelsea, coffee and rocket at 512 px.

Per image: paths per round, PSNR of clipvg's render against the (resized) input on white, seconds,
the same for vtracer at its default settings (when installed), and the crack test: every control
point moves by Gaussian noise of ``--sigma`` px (seeded), the scene is rendered on a transparent
background, and ``crack_share`` is the share of pixels whose alpha falls below 0.5 (the background
shows through more than the paths). It is measured for rounds (10, 30) and for a single 30-colour
round, each with the default backdrop (the bottom round's largest region covers the canvas) and
without it (the layering alone).

Usage: python benchmarks/vectorize.py [--images astronaut,rocket] [--sigma 1.0] [--no-vtracer]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from skimage import data

# This script shares its name with the vectorize package: keep its own folder off the import path.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from clipvg.scene import Scene  # noqa: E402
from vectorize import load_image, psnr, vectorize  # noqa: E402
from vectorize.image_io import resize_long_side  # noqa: E402
from vectorize.metrics import render_rgba  # noqa: E402

IMAGES = ("astronaut", "chelsea", "coffee", "rocket")
MAX_SIZE = 512
CRACK_ALPHA = 0.5


def crack_share(scene: Scene, sigma: float, seed: int = 0) -> float:
    """Share of pixels with alpha < CRACK_ALPHA after jittering every control point by N(0, sigma) px."""
    jittered = scene.clone()
    noise = torch.randn(jittered.points.shape, generator=torch.Generator().manual_seed(seed))
    jittered.points += sigma * noise
    return float((render_rgba(jittered)[..., 3] < CRACK_ALPHA).mean())


def timed(image: np.ndarray, **options) -> tuple[Scene, float]:
    started = time.perf_counter()
    scene = vectorize(image, max_size=MAX_SIZE, **options)
    return scene, time.perf_counter() - started


def bench_image(name: str, sigma: float, with_vtracer: bool) -> dict:
    image = load_image(getattr(data, name)())
    reference = resize_long_side(image, MAX_SIZE)
    scene, seconds = timed(image)
    result = {
        "size": [int(scene.width), int(scene.height)],
        "ours": {"seconds": round(seconds, 2), "paths": scene.num_paths,
                 "paths_per_round": {layer: len(scene.layer_paths(layer)) for layer in scene.layer_names},
                 "psnr_db": round(psnr(scene, reference), 2)},
    }
    single, _ = timed(image, rounds=(30,))
    cracks = {"multi_10_30": crack_share(scene, sigma), "single_30": crack_share(single, sigma),
              "multi_10_30_no_backdrop": crack_share(timed(image, backdrop=False)[0], sigma),
              "single_30_no_backdrop": crack_share(timed(image, rounds=(30,), backdrop=False)[0], sigma)}
    if with_vtracer:
        baseline, seconds = timed(image, backend="vtracer")
        result["vtracer"] = {"seconds": round(seconds, 2), "paths": baseline.num_paths,
                             "psnr_db": round(psnr(baseline, reference), 2)}
        cracks["vtracer"] = crack_share(baseline, sigma)
    result["crack_share_percent"] = {key: round(100 * value, 3) for key, value in cracks.items()}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", default=",".join(IMAGES))
    parser.add_argument("--sigma", type=float, default=1.0, help="control-point noise in px")
    parser.add_argument("--no-vtracer", action="store_true")
    args = parser.parse_args()
    with_vtracer = not args.no_vtracer and importlib.util.find_spec("vtracer") is not None
    warnings.simplefilter("ignore")
    results = {name: bench_image(name, args.sigma, with_vtracer) for name in args.images.split(",")}
    summary = {
        "max_seconds": max(r["ours"]["seconds"] for r in results.values()),
        "max_crack_percent_multi": max(r["crack_share_percent"]["multi_10_30"] for r in results.values()),
    }
    if with_vtracer:
        summary["psnr_at_least_vtracer"] = all(r["ours"]["psnr_db"] >= r["vtracer"]["psnr_db"] for r in results.values())
        summary["paths_at_most_vtracer"] = all(r["ours"]["paths"] <= r["vtracer"]["paths"] for r in results.values())
    print(json.dumps({"settings": {"max_size": MAX_SIZE, "rounds": [10, 30], "sigma_px": args.sigma,
                                   "crack_alpha_below": CRACK_ALPHA, "torch_threads": torch.get_num_threads()},
                      "images": results, "summary": summary}, indent=2))


if __name__ == "__main__":
    main()
