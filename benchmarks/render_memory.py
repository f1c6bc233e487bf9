"""Peak memory of rendering: ``clipvg render`` (``--api cli``: the uint8 PNG export) and the float Python
API ``clipvg.render(scene, size, size)`` without gradients (``--api float``: a float32 result, 16 B per
output px) at a large size (the default limits' largest square, 8192 x 8192) on a scene of many paths,
on one with groups, clip paths, masks and filters, and on SVGs of resvg's test suite drawn ``--size`` px
wide (``--resvg``), here and at an older commit (``--before``, e.g. the commit before tiles); and the
peak bytes per drawn pixel of a forward+backward render (what ``clipvg.limits.GRADIENT_PIXEL_BYTES``
estimates) and of a one-shot render without gradients (``FLAT_PIXEL_BYTES``, ``TREE_PIXEL_BYTES``).
Each run is its own process; its peak resident set comes from ``wait4``. Prints JSON.

    python benchmarks/render_memory.py [--size 8192] [--api cli,float] [--before 073322f --before-size 4096]
                                       [--grad-size 1024] [--resvg filters/feMorphology/huge-radius.svg,...]
                                       [--json out.json]
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE))

from json_result import git_commit, print_and_save  # noqa: E402

VIEW = 1024  # the scenes' user units per side (drawn at --size px)
RESVG_TESTS = Path("/work/resvg-suite/crates/resvg/tests/tests")  # resvg's test SVGs (not in this repository)


def _blob(rng: np.random.Generator, cx: float, cy: float, radius: float) -> str:
    """Path data of a closed cubic blob of 6 wobbly lobes."""
    angles = np.sort(rng.uniform(0, 2 * np.pi, 6))
    points = [(cx + radius * rng.uniform(0.5, 1) * np.cos(a), cy + radius * rng.uniform(0.5, 1) * np.sin(a))
              for a in angles]
    data = f"M{points[0][0]:.2f} {points[0][1]:.2f}"
    for k in range(1, 7):
        x, y = points[k % 6]
        c1 = rng.uniform(-radius, radius, 2) / 3 + points[k - 1]
        c2 = rng.uniform(-radius, radius, 2) / 3 + (x, y)
        data += f" C{c1[0]:.2f} {c1[1]:.2f} {c2[0]:.2f} {c2[1]:.2f} {x:.2f} {y:.2f}"
    return data + "Z"


def _color(rng: np.random.Generator) -> str:
    return "#" + "".join(f"{v:02x}" for v in rng.integers(0, 256, 3))


def paths_svg(size: int, count: int = 1000, seed: int = 0) -> str:
    """``count`` blobs (fills, a third stroked, a tenth with a linear gradient) over a ``size`` px square."""
    rng = np.random.default_rng(seed)
    parts = ['<defs><linearGradient id="g"><stop offset="0" stop-color="red"/><stop offset="1" stop-color="navy"'
             ' stop-opacity="0.6"/></linearGradient></defs>', f'<rect width="{VIEW}" height="{VIEW}" fill="#eee"/>']
    for k in range(count):
        fill = "url(#g)" if k % 10 == 0 else _color(rng)
        stroke = f' stroke="{_color(rng)}" stroke-width="{rng.uniform(0.5, 4):.2f}"' if k % 3 == 0 else ""
        parts.append(f'<path d="{_blob(rng, *rng.uniform(0, VIEW, 2), rng.uniform(5, 80))}" fill="{fill}"'
                     f' fill-opacity="{rng.uniform(0.4, 1):.2f}"{stroke}/>')
    return _svg(size, "".join(parts))


def groups_svg(size: int, seed: int = 1, blur: float = 1.0) -> str:
    """Groups with opacity, clip paths, a mask, a blend mode, a blur and a drop shadow of std ``blur``
    (canvas px of the 1024 px view; 200 blobs)."""
    rng = np.random.default_rng(seed)
    blobs = [f'<path d="{_blob(rng, *rng.uniform(0, VIEW, 2), rng.uniform(10, 90))}" fill="{_color(rng)}"/>'
             for _ in range(200)]
    defs = ('<defs><clipPath id="c"><circle cx="512" cy="512" r="450"/></clipPath>'
            '<mask id="m"><rect width="1024" height="1024" fill="white"/><circle cx="300" cy="700" r="200"/></mask>'
            f'<filter id="b"><feGaussianBlur stdDeviation="{blur}"/></filter>'
            f'<filter id="s"><feDropShadow dx="2" dy="3" stdDeviation="{blur}" flood-color="black"/></filter></defs>')
    body = (f'<rect width="{VIEW}" height="{VIEW}" fill="#fafafa"/>'
            f'<g opacity="0.8" clip-path="url(#c)">{"".join(blobs[:60])}</g>'
            f'<g mask="url(#m)" style="mix-blend-mode:multiply">{"".join(blobs[60:110])}</g>'
            f'<g filter="url(#b)">{"".join(blobs[110:150])}</g>'
            f'<g filter="url(#s)" opacity="0.9">{"".join(blobs[150:])}</g>')
    return _svg(size, defs + body)


def _svg(size: int, body: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {VIEW} {VIEW}">'
            f'{body}</svg>')


def _run(command: list[str], cwd: Path, env: dict | None = None) -> dict:
    """Run ``command``; its exit status, wall seconds, peak resident set (MB) and last output line."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return {"rc": process.returncode, "wall_s": round(time.perf_counter() - start, 1),
            "peak_mb": round(usage.ru_maxrss / 1024), "output": output.strip().splitlines()[-1:]}


_PER_PIXEL = """
import json, resource, sys, torch
from clipvg.render.api import _drawer
from clipvg.svg import load_svg
torch.set_num_threads(1)
scene = load_svg(sys.argv[1])
size, grad = int(sys.argv[2]), sys.argv[3] == "grad"
draw = _drawer(scene)
with torch.no_grad():
    draw(scene, 64, 64, None)  # warm: allocator, lazy imports
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if grad:
    for tensor in (scene.points, scene.fill_color, scene.group_opacity):
        tensor.requires_grad_(True)
    draw(scene, size, size, None).sum().backward()
else:
    with torch.no_grad():
        draw(scene, size, size, None)
print(json.dumps((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) * 1024 / size ** 2))
"""


_FLOAT_API = """
import sys, torch, clipvg
from clipvg.svg import load_svg
torch.set_num_threads(1)
scene = load_svg(sys.argv[1])
with torch.no_grad():
    image = clipvg.render(scene, int(sys.argv[2]), int(sys.argv[2]))
print(f"rendered {tuple(image.shape)} {image.dtype}, {scene.num_paths} paths")
"""


def render_command(api: str, svg: Path, size: int, out: Path) -> list[str]:
    """The process that renders ``svg`` at ``size`` x ``size`` px through ``api``: "cli" (``clipvg render`` to
    the PNG ``out``) or "float" (``clipvg.render`` under ``torch.no_grad``, the result dropped)."""
    if api == "cli":
        return [sys.executable, "-m", "clipvg.cli", "render", str(svg), "-o", str(out)]
    return [sys.executable, "-c", _FLOAT_API, str(svg), str(size)]


def per_pixel(svg: Path, size: int, grad: bool) -> float:
    """Peak bytes per output pixel of one render of ``svg`` at ``size`` px (above the warmed process)."""
    done = subprocess.run([sys.executable, "-c", _PER_PIXEL, str(svg), str(size), "grad" if grad else "none"],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    return round(float(done.stdout.strip().splitlines()[-1]), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=8192)
    parser.add_argument("--api", default="cli,float", help="comma-separated: cli (clipvg render, uint8 PNG), "
                        "float (the Python API's float32 result)")
    parser.add_argument("--before", help="a commit to measure too (its clipvg render, one piece)")
    parser.add_argument("--before-size", type=int, default=4096)
    parser.add_argument("--grad-size", type=int, default=1024, help="size of the per-pixel runs (0: none)")
    parser.add_argument("--scenes", default="paths_1000,groups_filters", help="comma-separated: paths_1000, "
                        "groups_filters, groups_filters_blur_3")
    parser.add_argument("--resvg", default="", help="comma-separated SVGs under --resvg-tests, drawn --size px wide")
    parser.add_argument("--resvg-tests", type=Path, default=RESVG_TESTS)
    parser.add_argument("--json")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="render_memory_"))
    scenes = {"paths_1000": paths_svg, "groups_filters": groups_svg,
              "groups_filters_blur_3": lambda size: groups_svg(size, blur=3.0)}
    result = {"meta": {"commit": git_commit(mark_dirty=True), "machine": f"{os.cpu_count()} CPUs, {platform.machine()}",
                       "load_before": os.getloadavg()[0], "size": args.size, "threads": 1}, "render": {}, "per_pixel": {}}
    trees = {"now": ROOT}
    if args.before:
        trees["before"] = work / "before"
        trees["before"].mkdir()
        archive = subprocess.run(["git", "archive", args.before], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(trees["before"])], input=archive, check=True)
        result["meta"]["before"] = args.before
    for name, make in ((name, scenes[name]) for name in filter(None, args.scenes.split(","))):
        for label, tree in trees.items():
            size = args.size if label == "now" else args.before_size
            svg = work / f"{name}_{size}.svg"
            svg.write_text(make(size))
            env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1"}
            for api in args.api.split(","):
                run = _run(render_command(api, svg, size, work / f"{name}.png"), tree, env)
                run["bytes_per_pixel"] = round(run["peak_mb"] * 2 ** 20 / size ** 2, 1)
                result["render"][f"{name} {label} {size}x{size}" + ("" if api == "cli" else f" {api}")] = run
        if args.grad_size:
            small = work / f"{name}_grad.svg"
            small.write_text(make(args.grad_size))
            result["per_pixel"][name] = {"forward_backward": per_pixel(small, args.grad_size, True),
                                         "forward_one_piece": per_pixel(small, args.grad_size, False)}
    for name in filter(None, args.resvg.split(",")):
        env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
        run = _run([sys.executable, "-m", "clipvg.cli", "render", str(args.resvg_tests / name), "--width",
                    str(args.size), "-o", str(work / "resvg.png")], ROOT, env)
        result["render"][f"resvg {name} now {args.size} wide"] = run
    result["meta"]["load_after"] = os.getloadavg()[0]
    print_and_save(result, args.json)


if __name__ == "__main__":
    main()
