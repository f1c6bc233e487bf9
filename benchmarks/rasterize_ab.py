"""Interleaved A/B of the torch renderer: clipvg/render's backend modules (``SWAPPED``) at ``--base`` (a
git revision) against the working tree's, on benchmarks/render.py scenes, forward and forward+backward of
the whole render, with resvg's forward in the same rounds.

Each repeat runs base, then tree (forward, then forward+backward), then resvg, in one process, so all
meet the same load; times are this process's CPU time (one torch thread), which a shared machine
disturbs less than wall time. Printed per scene: minimum and median seconds of each, the tree/base
ratio of the minima, and each one's forward+backward over resvg's forward (the CPU goal: <= 2 at 512 px).

    python benchmarks/rasterize_ab.py --base 83dd001 [--scenes blobs astronaut icons strokes] [--size 512]
        [--repeats 5] [--json out.json]
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import types
import warnings
from pathlib import Path

import resvg_py
import torch

sys.path.append(str(Path(__file__).parent))  # last: benchmarks/losses.py must not hide the losses package
import render as scenes  # noqa: E402
from json_result import git_commit, print_and_save  # noqa: E402

# each after those it imports; one missing at the revision (kernels before 501fb17) is not imported there
SWAPPED = ("loops", "kernels", "self_overlap", "coverage", "paint", "composite", "torch_backend")


def backend_at(revision: str) -> types.ModuleType:
    """clipvg.render.torch_backend as it was at ``revision``, importing the other ``SWAPPED`` modules as
    they were there too (each written to a temporary folder, so that numba can cache their kernels) and the
    rest of clipvg from the working tree."""
    loaded: dict[str, types.ModuleType] = {}

    def absolute(match: re.Match) -> str:
        indent, name = match.groups()
        return f"{indent}from {loaded[name].__name__ if name in loaded else 'clipvg.render.' + name} import"

    suffix = re.sub(r"\W", "_", revision)
    for name in SWAPPED:
        shown = subprocess.run(["git", "show", f"{revision}:clipvg/render/{name}.py"], capture_output=True, text=True,
                               cwd=Path(__file__).parent)
        if shown.returncode:
            continue
        source = re.sub(r"^(\s*)from \.\.(\w)", r"\1from clipvg.\2", shown.stdout, flags=re.M)
        source = re.sub(r"^(\s*)from \. import (\w+)$",
                        lambda m: f"{m[1]}import {loaded[m[2]].__name__ if m[2] in loaded else 'clipvg.render.' + m[2]}"
                                  f" as {m[2]}", source, flags=re.M)
        source = re.sub(r"^(\s*)from \.(\w+) import", absolute, source, flags=re.M)
        module = types.ModuleType(f"{name}_{suffix}")
        sys.modules[module.__name__] = module  # dataclasses and the imports above look their module up
        # a file of its own on disk: numba's cache (cache=True) keeps its compiled kernels beside it
        file = Path(tempfile.gettempdir()) / f"rasterize_ab_{suffix}" / f"{name}.py"
        file.parent.mkdir(exist_ok=True)
        if not file.exists() or file.read_text() != source:
            file.write_text(source)
        module.__file__ = str(file)
        exec(compile(source, str(file), "exec"), module.__dict__)
        loaded[name] = module
    return loaded["torch_backend"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="git revision of the backend to compare against")
    parser.add_argument("--scenes", nargs="+", default=list(scenes.SCENES), choices=scenes.SCENES)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json")
    args = parser.parse_args()
    torch.set_num_threads(1)
    import clipvg
    import clipvg.render.torch_backend as backend  # clipvg.render looks render_torch up here on every call
    versions = {"base": backend_at(args.base).render_torch, "tree": backend.render_torch}
    white = (1.0, 1.0, 1.0)

    def forward(items: list) -> None:
        with torch.no_grad():
            for scene, (width, height) in items:
                clipvg.render(scene, width, height, background=white)

    def resvg(documents: list) -> None:
        for svg in documents:
            width, height = scenes._output_size(svg, args.size)
            resvg_py.svg_to_bytes(svg_string=svg, width=width, height=height, skip_system_fonts=True)

    def forward_backward(items: list) -> None:
        for scene, (width, height) in items:
            params = scene.parameters(points=True, colors=True)
            clipvg.render(scene, width, height, background=white)[..., :3].mean().backward()
            for p in params:
                p.grad = None

    result = {"meta": {"command": " ".join(["python", *sys.argv]), "tree": git_commit(mark_dirty=True),
                       "base": args.base, "cpus": os.cpu_count(), "threads": 1, "load_average_start": os.getloadavg()},
              "scenes": {}}
    with tempfile.TemporaryDirectory() as folder:
        for name in args.scenes:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                documents = scenes.scene_documents(name, args.size, 1000, 4.0, Path(folder))
                items = [(clipvg.load_svg(svg), scenes._output_size(svg, args.size)) for svg in documents]
            runs = [(version, kind, fn) for version in versions
                    for kind, fn in (("forward", forward), ("forward_backward", forward_backward))]
            runs.append(("resvg", "forward", lambda _: resvg(documents)))
            times = {(version, kind): [] for version, kind, _ in runs}
            for repeat in range(args.repeats + 1):  # the first round warms up
                for version, kind, fn in runs:
                    backend.render_torch = versions.get(version, versions["tree"])
                    start = time.process_time()
                    fn(items)
                    if repeat:
                        times[(version, kind)].append(time.process_time() - start)
            backend.render_torch = versions["tree"]
            row = {f"{version}_{kind}_{stat}_s": round(f(values), 4) for (version, kind), values in times.items()
                   for stat, f in (("min", min), ("median", lambda v: sorted(v)[len(v) // 2]))}
            for kind in ("forward", "forward_backward"):
                row[f"{kind}_tree_over_base"] = round(row[f"tree_{kind}_min_s"] / row[f"base_{kind}_min_s"], 3)
            for version in versions:
                row[f"{version}_fwd_bwd_over_resvg"] = round(row[f"{version}_forward_backward_min_s"]
                                                             / row["resvg_forward_min_s"], 2)
            result["scenes"][name] = row
    result["meta"]["load_average_end"] = os.getloadavg()
    print_and_save(result, args.json)


if __name__ == "__main__":
    main()
