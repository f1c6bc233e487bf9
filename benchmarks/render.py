"""Renderer accuracy and speed as one table: per scene and size, forward and forward+backward time,
peak memory and pixel error against a 16x16-supersampled reference, beside resvg (time and error
against the same reference) and pydiffvg (when installed), in one run. Prints JSON.

Scenes (each written by clipvg's SVG writer, so that every renderer draws the same document):
- ``blobs``: ``--paths`` random closed 4-segment cubic blobs on a canvas of the row's size, radii
  drawn so that their total area is ``--depth`` times the canvas, colours with alpha in [0.5, 1];
- ``astronaut``: ``vectorize(skimage.data.astronaut(), rounds=(10, 30))`` (about 1100 paths);
- ``icons``: a set of real icons, every ``len // ICON_COUNT``-th SVG of the Debian package
  papirus-icon-theme (64x64/apps); times are summed over the set, errors taken over all its pixels;
- ``strokes``: a hand-written stroke-heavy SVG (dashes and offsets, miter/round/bevel joins,
  butt/round/square caps, curves, thin and wide, translucent strokes).

Reference: resvg with ``shape-rendering`` crisp edges (one point sample per pixel centre) at 16x the
row's size, drawn in tiles and box-filtered down to 16x16 samples per pixel, on white. Its own error
is about 1/32 at worst (an axis-aligned edge between two sample rows) and far less on average; it
shares resvg's geometry (flattening, stroking), so resvg's error is its anti-aliasing alone.
Errors are over RGB on white in [0, 1]: ``max_abs``, ``mean_abs`` and ``psnr`` (dB). Times are
medians (``_s``) and minima (``_min_s``, the least disturbed run on a shared machine) in seconds;
``resvg_forward_s`` includes PNG encoding; ``fwd_bwd_over_resvg`` is forward+backward over resvg's
forward, from the minima (the CPU goal: <= 2 at 512 px). ``_cpu_min_s`` and ``fwd_bwd_over_resvg_cpu``
are the same from this process's CPU time (``time.process_time``, all its threads): on a loaded
shared machine wall time counts the waits for a core, which a run of many short tensor ops suffers
more than resvg's one call, while CPU time does not. Each (scene, size, backend, device)
runs in its own process, so peak memory (VmHWM from the first render on, on the CPU; CUDA's
max_memory_allocated) is its own (on the CPU the torch backend's compiled kernels are loaded first: numba's
~120 MB count in ``peak_memory_mb``, not in ``peak_memory_above_start_mb``); ``--threads`` 1 by default. ``--device`` defaults to the CPU and
CUDA when present, ``--backend`` to torch and pydiffvg when importable.

    python benchmarks/render.py [--scenes blobs astronaut icons strokes] [--sizes 256 512 ...]
        [--paths 1000] [--device cpu cuda] [--backend torch diffvg] [--json out.json]
"""
from __future__ import annotations

import argparse
import importlib.util
import io
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from json_result import git_commit, print_and_save  # benchmarks/, before it leaves sys.path

# this folder holds a vectorize.py of its own: import the package, not the benchmark
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

SCENES = ("blobs", "astronaut", "icons", "strokes")
SIZES = {"blobs": (256, 512, 1024, 2048), "astronaut": (512, 1024), "icons": (256, 512), "strokes": (256, 512, 2048)}
ICON_DIR = Path("/usr/share/icons/Papirus/64x64/apps")
ICON_COUNT = 8
REFERENCE_ZOOM = 16
TILE = 128  # output px per reference tile side (2048^2 samples)

STROKES = """<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">
  <rect width="256" height="256" fill="#fbfaf4"/>
  <g fill="none" stroke="#1d3557">
    <path d="M12 20 L60 60 L108 20 L156 60 L204 20 L244 60" stroke-width="6" stroke-linejoin="miter"/>
    <path d="M12 48 L60 88 L108 48 L156 88 L204 48 L244 88" stroke-width="6" stroke-linejoin="round"
          stroke="#e63946"/>
    <path d="M12 76 L60 116 L108 76 L156 116 L204 76 L244 116" stroke-width="6" stroke-linejoin="bevel"
          stroke="#457b9d"/>
    <path d="M20 132 H236" stroke-width="9" stroke-linecap="butt"/>
    <path d="M20 148 H236" stroke-width="9" stroke-linecap="round" stroke="#2a9d8f"/>
    <path d="M20 164 H236" stroke-width="9" stroke-linecap="square" stroke="#e9c46a"/>
    <path d="M20 182 C70 150 110 214 160 182 S 230 160 240 190" stroke-width="4" stroke-dasharray="12 6"
          stroke-linecap="round" stroke="#6a4c93"/>
    <path d="M20 200 C70 168 110 232 160 200 S 230 178 240 208" stroke-width="2.5" stroke-dasharray="1 4 7 4"
          stroke-dashoffset="3" stroke="#264653"/>
    <circle cx="56" cy="230" r="18" stroke-width="5" stroke-dasharray="9 5" stroke="#f4a261"/>
    <rect x="90" y="214" width="44" height="32" rx="6" stroke-width="3.5" stroke-dasharray="10 3 2 3"
          stroke-linejoin="round" stroke="#8d99ae"/>
    <path d="M150 246 L170 214 L190 246 L210 214 L230 246" stroke-width="7" stroke-linejoin="miter"
          stroke-miterlimit="2" stroke-dasharray="18 7" stroke-linecap="square" stroke="#d62828"
          stroke-opacity="0.7"/>
    <path d="M12 8 Q 128 -4 244 8" stroke-width="0.6" stroke="#000"/>
    <path d="M4 30 V 240 M250 30 V 240" stroke-width="1.3" stroke-dasharray="0.5 2.5" stroke-linecap="round"/>
    <polyline points="30,100 38,96 46,104 54,92 62,108 70,90" stroke-width="1.5" stroke-linejoin="miter"
              stroke="#111"/>
  </g>
</svg>"""


def random_scene(num_paths: int, size: int, depth: float, seed: int = 0):
    from clipvg import Path as VectorPath, Scene, Solid, Subpath
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
        paths.append(VectorPath([Subpath(np.array(points), [3, 3, 3, 3], closed=True)], fill=Solid(tuple(color))))
    return Scene.from_paths(paths, size, size)


def icon_files() -> list[Path]:
    files = sorted(ICON_DIR.glob("*.svg")) if ICON_DIR.is_dir() else []
    return files[:: max(1, len(files) // ICON_COUNT)][:ICON_COUNT]


def written(source) -> str:
    """The SVG that clipvg's writer makes of ``source`` (a Scene, SVG text or a file)."""
    import clipvg
    from clipvg.svg import scene_to_svg_string
    if not isinstance(source, clipvg.Scene):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            source = clipvg.load_svg(source)
    return scene_to_svg_string(source)


def scene_documents(name: str, size: int, num_paths: int, depth: float, cache: Path) -> list[str]:
    """The SVG documents of scene ``name`` (one, or the icon set) for rows of ``size`` px."""
    if name == "blobs":
        return [written(random_scene(num_paths, size, depth))]
    if name == "icons":
        return [written(path) for path in icon_files()]
    if name == "strokes":
        return [written(STROKES)]
    target = cache / "astronaut.svg"
    if not target.exists():
        import skimage.data
        import vectorize
        from clipvg.svg import save_svg
        save_svg(vectorize.vectorize(skimage.data.astronaut(), rounds=(10, 30), max_size=512), target)
    return [written(target)]


def _root_size(svg: str) -> tuple[float, float]:
    """The writer's canvas (viewBox width, height) of ``svg``."""
    box = re.search(r'<svg\b[^>]*\bviewBox="([^"]+)"', svg).group(1).split()
    return float(box[2]), float(box[3])


def _retargeted(svg: str, view: tuple[float, float, float, float], width: int, height: int) -> str:
    """``svg`` with its root drawing the canvas region ``view`` (x, y, w, h) onto width x height px."""
    def root(match: re.Match) -> str:
        tag = re.sub(r'\s(width|height|viewBox|preserveAspectRatio)="[^"]*"', "", match.group(0))
        return (tag[:-1] + f' width="{width}" height="{height}" viewBox="{" ".join(map(repr, view))}"'
                f' preserveAspectRatio="none">')
    return re.sub(r"<svg\b[^>]*>", root, svg, count=1)


def resvg_on_white(svg: str, width: int, height: int, shape_rendering: str = "geometric_precision") -> np.ndarray:
    """(height, width, 3) float32 in [0, 1]: resvg's render of ``svg`` on white."""
    import resvg_py
    from PIL import Image
    png = resvg_py.svg_to_bytes(svg_string=svg, width=width, height=height, skip_system_fonts=True,
                                shape_rendering=shape_rendering)
    rgba = np.asarray(Image.open(io.BytesIO(bytes(png))).convert("RGBA"), dtype=np.float32) / 255
    return rgba[..., :3] * rgba[..., 3:] + (1 - rgba[..., 3:])


def reference_on_white(svg: str, width: int, height: int, zoom: int = REFERENCE_ZOOM, tile: int = TILE) -> np.ndarray:
    """(height, width, 3) float32: ``zoom`` x ``zoom`` point samples per pixel (resvg, crisp edges),
    averaged, on white; drawn in tiles of ``tile`` output px."""
    canvas_w, canvas_h = _root_size(svg)
    sx, sy = canvas_w / width, canvas_h / height
    out = np.empty((height, width, 3), dtype=np.float32)
    for y0 in range(0, height, tile):
        for x0 in range(0, width, tile):
            w, h = min(tile, width - x0), min(tile, height - y0)
            part = _retargeted(svg, (x0 * sx, y0 * sy, w * sx, h * sy), w * zoom, h * zoom)
            samples = resvg_on_white(part, w * zoom, h * zoom, shape_rendering="crisp_edges")
            out[y0:y0 + h, x0:x0 + w] = samples.reshape(h, zoom, w, zoom, 3).mean((1, 3))
    return out


def pixel_errors(images: list[np.ndarray], references: list[np.ndarray]) -> dict:
    """max_abs, mean_abs and PSNR (dB, peak 1) of (H, W, 3) images against references, over all pixels."""
    diff = np.concatenate([np.abs(a.astype(np.float64) - b).ravel() for a, b in zip(images, references)])
    mse = float((diff ** 2).mean())
    return {"max_abs": round(float(diff.max()), 4), "mean_abs": round(float(diff.mean()), 5),
            "psnr": round(10 * math.log10(1 / mse), 2) if mse > 0 else math.inf}


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def timings(fn, device: str, repeats: int, budget: float) -> tuple[float, float, float]:
    """(median, minimum) wall seconds and the minimum CPU seconds of this process of ``repeats`` timed
    calls after one warm-up; fewer (at least 1) when the warm-up shows they would take more than
    ``budget`` seconds."""
    start = time.perf_counter()
    fn()
    _sync(device)
    first = time.perf_counter() - start
    repeats = max(1, min(repeats, int(budget / max(first, 1e-9))))
    times, cpu_times = [], []
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    return statistics.median(times), min(times), min(cpu_times)


def _status_mb(field: str) -> float:
    """A memory field of /proc/self/status (VmRSS, VmHWM) in MiB."""
    line = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith(field + ":"))
    return int(line.split()[1]) / 1024


def _reset_peak_rss() -> float:
    """Start the peak resident set size (VmHWM) afresh from now (Linux); the current RSS in MiB."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_mb("VmRSS")


def _output_size(svg: str, size: int) -> tuple[int, int]:
    canvas_w, canvas_h = _root_size(svg)
    scale = size / max(canvas_w, canvas_h)
    return round(canvas_w * scale), round(canvas_h * scale)


def run_case(case: dict) -> dict:
    """Measure one (scene, size, backend, device) in this process. ``case``: scene, size, backend,
    device, documents (SVG files), references (.npy files), repeats, budget, threads."""
    import clipvg
    from clipvg.errors import BackendUnavailableError

    torch.set_num_threads(case["threads"])
    documents = [Path(path).read_text() for path in case["documents"]]
    device, backend = case["device"], case["backend"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scenes = [clipvg.load_svg(svg).to(device) for svg in documents]
    sizes = [_output_size(svg, case["size"]) for svg in documents]
    row = {"scene": case["scene"], "size": case["size"], "backend": backend, "device": device,
           "files": len(documents), "paths": sum(s.num_paths for s in scenes),
           "segments": sum(len(s.segment_degrees) for s in scenes)}
    white = (1.0, 1.0, 1.0)
    if device == "cpu" and backend == "torch":  # numba's one-time load (~120 MB), counted in peak_memory_mb only
        from clipvg.render import kernels
        kernels.warm_up()
    rss_before = _reset_peak_rss()
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()

    def forward(scene, width: int, height: int) -> torch.Tensor:
        with torch.no_grad():
            return clipvg.render(scene, width, height, background=white, backend=backend)

    def forward_backward(scene, width: int, height: int) -> None:
        params = scene.parameters(points=True, colors=True)
        clipvg.render(scene, width, height, background=white, backend=backend)[..., :3].mean().backward()
        for p in params:
            p.grad = None

    def timed(fn) -> list[float]:
        """(median, minimum, minimum CPU) seconds of ``fn`` summed over the scenes."""
        per_scene = [timings(lambda: fn(scene, w, h), device, case["repeats"], case["budget"])
                     for scene, (w, h) in zip(scenes, sizes)]
        return [round(sum(t), 4) for t in zip(*per_scene)]

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydiffvg's round joins: the picture differs, not the cost
            row["forward_s"], row["forward_min_s"], row["forward_cpu_min_s"] = timed(forward)
            row["forward_backward_s"], row["forward_backward_min_s"], row["forward_backward_cpu_min_s"] = \
                timed(forward_backward)
            images = [forward(scene, w, h)[..., :3].cpu().numpy() for scene, (w, h) in zip(scenes, sizes)]
    except BackendUnavailableError as error:
        row["not_measured"] = str(error)
        return row
    if device == "cuda":
        row["peak_memory_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    else:
        peak = _status_mb("VmHWM")
        row["peak_memory_mb"] = round(peak, 1)
        row["peak_memory_above_start_mb"] = round(peak - rss_before, 1)
    references = [np.load(path) for path in case["references"]]
    row["error"] = pixel_errors(images, references)
    import resvg_py
    per_file = [timings(lambda: resvg_py.svg_to_bytes(svg_string=svg, width=w, height=h, skip_system_fonts=True),
                        "cpu", case["repeats"], case["budget"]) for svg, (w, h) in zip(documents, sizes)]
    row["resvg_forward_s"], row["resvg_forward_min_s"], row["resvg_forward_cpu_min_s"] = \
        [round(sum(t), 4) for t in zip(*per_file)]
    row["resvg_error"] = pixel_errors([resvg_on_white(svg, w, h) for svg, (w, h) in zip(documents, sizes)],
                                      references)
    row["fwd_bwd_over_resvg"] = round(row["forward_backward_min_s"] / row["resvg_forward_min_s"], 2)
    row["fwd_bwd_over_resvg_cpu"] = round(row["forward_backward_cpu_min_s"] / row["resvg_forward_cpu_min_s"], 2)
    return row


def prepare(scene: str, size: int, args: argparse.Namespace, folder: Path) -> tuple[list[str], list[str]]:
    """Write the documents of (scene, size) and their references to ``folder``: (SVG files, .npy files)."""
    documents, references = [], []
    for k, svg in enumerate(scene_documents(scene, size, args.paths, args.depth, folder)):
        stem = folder / f"{scene}_{size}_{k}"
        stem.with_suffix(".svg").write_text(svg)
        np.save(stem.with_suffix(".npy"), reference_on_white(svg, *_output_size(svg, size)))
        documents.append(str(stem.with_suffix(".svg")))
        references.append(str(stem.with_suffix(".npy")))
    return documents, references


def main() -> None:
    has_cuda = torch.cuda.is_available()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", nargs="+", choices=SCENES,
                        help="default: all, 'icons' left out where papirus-icon-theme is not installed")
    parser.add_argument("--sizes", type=int, nargs="+", help="output sizes (px) for every scene (default: per scene)")
    parser.add_argument("--paths", type=int, default=1000, help="blob count")
    parser.add_argument("--depth", type=float, default=4.0)
    parser.add_argument("--device", nargs="+", choices=("cpu", "cuda"),
                        default=["cpu", "cuda"] if has_cuda else ["cpu"])
    parser.add_argument("--backend", nargs="+", choices=("torch", "diffvg"),
                        default=["torch", "diffvg"] if importlib.util.find_spec("pydiffvg") else ["torch"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--budget", type=float, default=20.0,
                        help="seconds per timing at most: slow configurations are timed fewer times (at least once)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (1: on a shared machine, threads spinning against other processes' "
                             "load made 2 threads 10-40x slower than 1 here)")
    parser.add_argument("--json", help="also write the result to this file")
    parser.add_argument("--commit", help="the commit measured (default: git rev-parse HEAD here)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if "cuda" in args.device and not has_cuda:
        parser.error("--device cuda: no CUDA device here")
    if args.one:
        print(json.dumps(run_case(json.loads(Path(args.one).read_text()))))
        return
    if args.scenes is None:
        args.scenes = [name for name in SCENES if name != "icons" or icon_files()]
    if "icons" in args.scenes and not icon_files():
        parser.error(f"no icons in {ICON_DIR}: apt-get install papirus-icon-theme, or leave out 'icons'")
    commit = args.commit or git_commit()
    rows = []
    started, load_start = time.time(), round(os.getloadavg()[0], 1)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for scene in args.scenes:
            for size in args.sizes or SIZES[scene]:
                documents, references = prepare(scene, size, args, folder)
                for device in args.device:
                    for backend in args.backend:
                        case = {"scene": scene, "size": size, "backend": backend, "device": device,
                                "documents": documents, "references": references, "repeats": args.repeats,
                                "budget": args.budget, "threads": args.threads}
                        case_file = folder / "case.json"
                        case_file.write_text(json.dumps(case))
                        done = subprocess.run([sys.executable, __file__, "--one", str(case_file)], capture_output=True,
                                              text=True)
                        if done.returncode == 0:
                            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
                        else:  # e.g. pydiffvg aborting the process
                            failure = f"exit status {done.returncode}: {done.stderr.strip()[-300:]}"
                            rows.append({"scene": scene, "size": size, "backend": backend, "device": device,
                                         "not_measured": failure})
                        print(json.dumps(rows[-1]), file=sys.stderr)
    print_and_save({"benchmark": "render", "commit": commit, "machine": f"{os.cpu_count()} CPU cores"
                    + (f", {torch.cuda.get_device_name(0)}" if has_cuda else ", no GPU"),
                    "threads": args.threads, "torch": torch.__version__,
                    "load_average_1min_start_end": [load_start, round(os.getloadavg()[0], 1)],
                    "reference": f"resvg crisp edges at {REFERENCE_ZOOM}x, {REFERENCE_ZOOM}x{REFERENCE_ZOOM} samples "
                                 "per pixel, box-filtered, on white", "blob_paths": args.paths, "depth": args.depth,
                    "wall_s": round(time.time() - started), "rows": rows}, args.json)


if __name__ == "__main__":
    main()
