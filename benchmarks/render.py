"""Renderer benchmark: random closed cubic paths, forward and forward+backward, peak memory, and
resvg's forward time on the same SVG. Prints JSON.

Scenes: N random closed 4-segment cubic blobs, radii drawn so that their total area is ``--depth``
times the canvas (default 4: a layered vectorization covers each pixel a few times), random
colours with alpha in [0.5, 1]. Each configuration runs in its own process so that peak memory
(ru_maxrss on CPU, max_memory_allocated on CUDA) is its own.

    python benchmarks/render.py [--device cpu|cuda] [--paths 256 1024 4096] [--sizes 224 512 1024]
"""
from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
import torch


def random_scene(num_paths: int, size: int, depth: float, seed: int = 0):
    from clipvg import Path, Scene, Solid, Subpath
    rng = np.random.default_rng(seed)
    mean_radius = math.sqrt(depth * size * size / (num_paths * math.pi))
    paths = []
    for _ in range(num_paths):
        centre = rng.uniform(0, size, 2)
        radius = mean_radius * rng.uniform(0.5, 1.5)
        angles = np.sort(rng.uniform(0, 2 * math.pi, 4))
        gaps = np.diff(np.append(angles, angles[0] + 2 * math.pi))
        points = []
        for angle, gap in zip(angles, gaps):
            for fraction, stretch in ((0.0, 1.0), (1 / 3, 1.25), (2 / 3, 1.25)):
                a = angle + fraction * gap
                r = radius * stretch * rng.uniform(0.7, 1.0)
                points.append(centre + r * np.array([math.cos(a), math.sin(a)]))
        color = (*rng.uniform(0, 1, 3), rng.uniform(0.5, 1.0))
        paths.append(Path([Subpath(np.array(points), [3, 3, 3, 3], closed=True)], fill=Solid(tuple(color))))
    return Scene.from_paths(paths, size, size)


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def median_seconds(fn, device: str, repeats: int) -> float:
    fn()
    _sync(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def resvg_seconds(scene, repeats: int) -> float:
    import resvg_py
    from clipvg.svg import scene_to_svg_string
    svg = scene_to_svg_string(scene)
    return median_seconds(lambda: resvg_py.svg_to_bytes(svg_string=svg), "cpu", repeats)


def run_one(num_paths: int, size: int, depth: float, device: str, repeats: int) -> dict:
    """Measure one configuration in this process."""
    from clipvg import render
    scene = random_scene(num_paths, size, depth).to(device)
    white = (1.0, 1.0, 1.0)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()

    def forward():
        with torch.no_grad():
            render(scene, background=white)

    def forward_backward():
        params = scene.parameters(points=True, colors=True)
        render(scene, background=white)[..., :3].mean().backward()
        for p in params:
            p.grad = None

    result = {
        "paths": num_paths, "size": size, "device": device,
        "forward_s": round(median_seconds(forward, device, repeats), 4),
        "forward_backward_s": round(median_seconds(forward_backward, device, repeats), 4),
    }
    if device == "cuda":
        result["peak_memory_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    else:
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        result["peak_memory_mb"] = round(peak_kb / 1024, 1)
        result["peak_memory_above_start_mb"] = round((peak_kb - rss_before) / 1024, 1)
    result["resvg_forward_s"] = round(resvg_seconds(scene.to("cpu"), repeats), 4)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--paths", type=int, nargs="+", default=[256, 1024, 4096])
    parser.add_argument("--sizes", type=int, nargs="+", default=[224, 512, 1024])
    parser.add_argument("--depth", type=float, default=4.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.paths[0], args.sizes[0], args.depth, args.device, args.repeats)))
        return
    results = []
    for size in args.sizes:
        for num_paths in args.paths:
            command = [sys.executable, __file__, "--one", "--device", args.device, "--paths", str(num_paths),
                       "--sizes", str(size), "--depth", str(args.depth), "--repeats", str(args.repeats)]
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            results.append(json.loads(output.strip().splitlines()[-1]))
            print(json.dumps(results[-1]), file=sys.stderr)
    print(json.dumps({"benchmark": "render", "threads": torch.get_num_threads(), "depth": args.depth,
                      "results": results}, indent=1))


if __name__ == "__main__":
    main()
