"""Renderer benchmark: forward and forward+backward time, peak memory and resvg's forward time of the
same SVG at the same size, for random blobs and real scenes, per backend. Prints JSON.

Scenes:
- ``blobs``: N random closed 4-segment cubic blobs (``--paths``, ``--sizes``), radii drawn so that
  their total area is ``--depth`` times the canvas (default 4: a layered vectorization covers each
  pixel a few times), random colours with alpha in [0.5, 1];
- ``astronaut``: ``vectorize(skimage.data.astronaut(), rounds=(10, 30))`` at 512 px (about 1105
  paths, 18.8k cubic segments), the scene of an edit of the astronaut photo;
- ``chelsea``: the same for ``skimage.data.chelsea()`` (512 x 340);
- ``icon``: a real SVG, a Papirus (else Tango) icon at 512 px, when one is installed;
- ``illustration``: a hand-written SVG (gradients, strokes, compound paths) at 512 px, always there.

``--backend torch diffvg`` measures both backends on the same scenes in one run (pydiffvg must be
importable; where it is not, or cannot draw a scene, the entry says "not measured" and why). Each
(scene, backend) runs in its own process so that peak memory (ru_maxrss on CPU,
max_memory_allocated on CUDA) is its own. Times are medians, in seconds; ``fwd_bwd_over_resvg`` is
forward+backward over resvg's forward render (resvg_py, PNG encoding included, system fonts not
loaded: no scene has text), measured in the same process on the CPU.

    python benchmarks/render.py [--device cpu|cuda] [--backend torch diffvg]
        [--scenes blobs astronaut chelsea icon illustration] [--paths 256 1024 4096] [--sizes 224 512 1024]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

# this folder holds a vectorize.py of its own: import the package, not the benchmark
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

SCENES = ("blobs", "astronaut", "chelsea", "icon", "illustration")
ICON_CANDIDATES = ("/usr/share/icons/Papirus/64x64/apps/firefox.svg", "/usr/share/icons/Papirus/64x64/apps/gimp.svg",
                   "/usr/share/icons/Tango/scalable/apps/internet-mail.svg")
ICON_DIRS = ("/usr/share/icons/Papirus/64x64/apps", "/usr/share/icons/Tango/scalable/apps")
REAL_SIZE = 512

ILLUSTRATION = """<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128">
  <defs>
    <linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="#3a7bd5"/><stop offset="1" stop-color="#c9e6ff"/></linearGradient>
    <radialGradient id="sun" cx="0.5" cy="0.5" r="0.5">
      <stop offset="0" stop-color="#fff6b0"/><stop offset="1" stop-color="#ffb300"/></radialGradient>
    <linearGradient id="hill" gradientUnits="userSpaceOnUse" x1="0" y1="70" x2="40" y2="128"
                    gradientTransform="rotate(-12 64 100)">
      <stop offset="0" stop-color="#6fbf3a"/><stop offset="1" stop-color="#2d6a1e"/></linearGradient>
  </defs>
  <rect width="128" height="128" fill="url(#sky)"/>
  <circle cx="96" cy="30" r="14" fill="url(#sun)"/>
  <path d="M0 86 C 30 64, 56 70, 80 84 S 118 96, 128 80 V 128 H 0 Z" fill="url(#hill)"/>
  <path d="M0 104 C 36 92, 70 100, 128 96 V 128 H 0 Z" fill="#3f8f2a" fill-opacity="0.85"/>
  <path d="M22 100 V 70 M22 80 L 14 72 M22 86 L 31 76" stroke="#5b3a1a" stroke-width="3" fill="none"
        stroke-linecap="round" stroke-linejoin="round"/>
  <circle cx="22" cy="64" r="11" fill="#2f7d32"/><circle cx="15" cy="70" r="8" fill="#388e3c"/>
  <circle cx="30" cy="70" r="8" fill="#43a047"/>
  <path fill-rule="evenodd" fill="#ffffff" fill-opacity="0.9"
        d="M40 30 a10 7 0 0 1 18 -4 a8 6 0 0 1 12 6 a6 5 0 0 1 -2 10 h-26 a6 6 0 0 1 -2 -12 z M50 34 h6 v3 h-6 z"/>
  <path d="M60 118 Q 80 104 100 118 T 126 114" stroke="#1e88e5" stroke-width="2.5" fill="none"
        stroke-linecap="round"/>
  <rect x="84" y="88" width="22" height="16" rx="2" fill="#d84315" stroke="#3e2723" stroke-width="1.5"
        stroke-linejoin="round"/>
  <path d="M82 89 L 95 78 L 108 89 Z" fill="#6d4c41" stroke="#3e2723" stroke-width="1.5" stroke-linejoin="round"/>
</svg>"""


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


def icon_file() -> str | None:
    for candidate in ICON_CANDIDATES:
        if os.path.isfile(candidate):
            return candidate
    for folder in ICON_DIRS:
        files = sorted(Path(folder).glob("*.svg")) if os.path.isdir(folder) else []
        if files:
            return str(files[0])
    return None


def prepare_real(name: str, folder: str) -> str | None:
    """An SVG file for real scene ``name`` in ``folder`` (vectorized once per run), or None."""
    target = os.path.join(folder, f"{name}.svg")
    if name in ("astronaut", "chelsea"):
        import skimage.data
        import vectorize
        from clipvg.svg import save_svg
        image = getattr(skimage.data, name)()
        save_svg(vectorize.vectorize(image, rounds=(10, 30), max_size=REAL_SIZE), target)
        return target
    if name == "icon":
        return icon_file()
    Path(target).write_text(ILLUSTRATION)
    return target


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def median_seconds(fn, device: str, repeats: int, budget: float) -> float:
    """Median of ``repeats`` timed calls after one warm-up; fewer (at least 1) when the warm-up shows
    they would take more than ``budget`` seconds."""
    start = time.perf_counter()
    fn()
    _sync(device)
    first = time.perf_counter() - start
    repeats = max(1, min(repeats, int(budget / max(first, 1e-9))))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def resvg_seconds(svg: str, width: int, height: int, repeats: int, budget: float) -> float:
    import resvg_py
    return median_seconds(lambda: resvg_py.svg_to_bytes(svg_string=svg, width=width, height=height,
                                                        skip_system_fonts=True), "cpu", repeats, budget)


def run_one(scene_name: str, source: str | None, num_paths: int, size: int, depth: float, backend: str, device: str,
            repeats: int, budget: float) -> dict:
    """Measure one (scene, backend) in this process."""
    import warnings

    import clipvg
    from clipvg.errors import BackendUnavailableError
    from clipvg.svg import scene_to_svg_string

    if scene_name == "blobs":
        scene = random_scene(num_paths, size, depth)
        width = height = size
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scene = clipvg.load_svg(source)
        scale = REAL_SIZE / max(scene.width, scene.height)
        width, height = round(scene.width * scale), round(scene.height * scale)
    result = {"scene": scene_name, "paths": scene.num_paths, "segments": len(scene.segment_degrees),
              "width": width, "height": height, "backend": backend, "device": device}
    if scene_name == "blobs":
        result["size"] = size
    if scene_name == "icon":
        result["file"] = source
    scene = scene.to(device)
    white = (1.0, 1.0, 1.0)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()

    def forward():
        with torch.no_grad():
            clipvg.render(scene, width, height, background=white, backend=backend)

    def forward_backward():
        params = scene.parameters(points=True, colors=True)
        clipvg.render(scene, width, height, background=white, backend=backend)[..., :3].mean().backward()
        for p in params:
            p.grad = None

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydiffvg's round joins: the picture differs, not the cost
            result["forward_s"] = round(median_seconds(forward, device, repeats, budget), 4)
            result["forward_backward_s"] = round(median_seconds(forward_backward, device, repeats, budget), 4)
    except BackendUnavailableError as error:
        result["not_measured"] = str(error)
        return result
    if device == "cuda":
        result["peak_memory_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    else:
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        result["peak_memory_mb"] = round(peak_kb / 1024, 1)
        result["peak_memory_above_start_mb"] = round((peak_kb - rss_before) / 1024, 1)
    svg = scene_to_svg_string(scene.to("cpu"))
    result["resvg_forward_s"] = round(resvg_seconds(svg, width, height, repeats, budget), 4)
    result["fwd_bwd_over_resvg"] = round(result["forward_backward_s"] / result["resvg_forward_s"], 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--backend", nargs="+", choices=("torch", "diffvg"), default=["torch"])
    parser.add_argument("--scenes", nargs="+", choices=SCENES, default=list(SCENES))
    parser.add_argument("--paths", type=int, nargs="+", default=[256, 1024, 4096], help="blob counts")
    parser.add_argument("--sizes", type=int, nargs="+", default=[224, 512, 1024], help="blob canvas sizes")
    parser.add_argument("--depth", type=float, default=4.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--budget", type=float, default=30.0,
                        help="seconds per timing at most: slow configurations are timed fewer times (at least once)")
    parser.add_argument("--one", nargs=2, metavar=("SCENE", "SOURCE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device here")
    if args.one:
        scene_name, source = args.one
        print(json.dumps(run_one(scene_name, None if source == "-" else source, args.paths[0], args.sizes[0],
                                 args.depth, args.backend[0], args.device, args.repeats, args.budget)))
        return
    results = []
    with tempfile.TemporaryDirectory() as folder:
        jobs = []
        for scene_name in args.scenes:
            if scene_name == "blobs":
                jobs += [(scene_name, "-", n, s) for s in args.sizes for n in args.paths]
                continue
            source = prepare_real(scene_name, folder)
            if source is None:
                results.append({"scene": scene_name, "not_measured": "no Papirus or Tango icon installed"})
                continue
            jobs.append((scene_name, source, 0, REAL_SIZE))
        for scene_name, source, num_paths, size in jobs:
            for backend in args.backend:
                command = [sys.executable, __file__, "--one", scene_name, source, "--device", args.device,
                           "--backend", backend, "--paths", str(num_paths), "--sizes", str(size),
                           "--depth", str(args.depth), "--repeats", str(args.repeats), "--budget", str(args.budget)]
                done = subprocess.run(command, capture_output=True, text=True)
                if done.returncode == 0:
                    results.append(json.loads(done.stdout.strip().splitlines()[-1]))
                else:  # e.g. pydiffvg aborting the process
                    results.append({"scene": scene_name, "backend": backend, "device": args.device,
                                    "not_measured": f"exit status {done.returncode}: {done.stderr.strip()[-300:]}"})
                print(json.dumps(results[-1]), file=sys.stderr)
    print(json.dumps({"benchmark": "render", "threads": torch.get_num_threads(), "torch": torch.__version__,
                      "device_name": torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu",
                      "depth": args.depth, "results": results}, indent=1))


if __name__ == "__main__":
    main()
