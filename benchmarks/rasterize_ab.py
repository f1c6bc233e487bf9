"""Interleaved A/B of the rasterizer: clipvg/render/coverage.py at ``--base`` (a git revision) against the
working tree's, on benchmarks/render.py scenes, forward and forward+backward of the whole render.

Each repeat runs base then tree (forward, then forward+backward) in one process, so both meet the same
load; times are this process's CPU time (one torch thread), which a shared machine disturbs less than
wall time. Printed per scene: minimum and median seconds of each, and the tree/base ratio of the minima.

    python benchmarks/rasterize_ab.py --base 83dd001 [--scenes blobs astronaut icons] [--size 512]
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

import torch

sys.path.append(str(Path(__file__).parent))  # last: benchmarks/losses.py must not hide the losses package
import render as scenes  # noqa: E402
from json_result import git_commit, print_and_save  # noqa: E402


def coverage_at(revision: str) -> types.ModuleType:
    """clipvg.render.coverage as it was at ``revision``, its relative imports made absolute."""
    source = subprocess.run(["git", "show", f"{revision}:clipvg/render/coverage.py"], capture_output=True, text=True,
                            check=True, cwd=Path(__file__).parent).stdout
    source = re.sub(r"^from \.\.(\w)", r"from clipvg.\1", source, flags=re.M)
    source = re.sub(r"^from \.(\w)", r"from clipvg.render.\1", source, flags=re.M)
    module = types.ModuleType(f"coverage_{revision}")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{revision}:clipvg/render/coverage.py", "exec"), module.__dict__)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="git revision of the rasterizer to compare against")
    parser.add_argument("--scenes", nargs="+", default=["blobs", "astronaut", "icons"], choices=scenes.SCENES)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json")
    args = parser.parse_args()
    torch.set_num_threads(1)
    import clipvg
    import clipvg.render.coverage as tree
    import clipvg.render.torch_backend as backend
    base = coverage_at(args.base)
    white = (1.0, 1.0, 1.0)

    def forward(items: list) -> None:
        with torch.no_grad():
            for scene, (width, height) in items:
                clipvg.render(scene, width, height, background=white)

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
                items = [(clipvg.load_svg(svg), scenes._output_size(svg, args.size))
                         for svg in scenes.scene_documents(name, args.size, 1000, 4.0, Path(folder))]
            times = {(version, kind): [] for version in ("base", "tree") for kind in ("forward", "forward_backward")}
            for repeat in range(args.repeats + 1):  # the first round warms up
                for version, module in (("base", base), ("tree", tree)):
                    backend.rasterize = module.rasterize
                    for kind, fn in (("forward", forward), ("forward_backward", forward_backward)):
                        start = time.process_time()
                        fn(items)
                        if repeat:
                            times[(version, kind)].append(time.process_time() - start)
            backend.rasterize = tree.rasterize
            row = {f"{version}_{kind}_{stat}_s": round(f(values), 4) for (version, kind), values in times.items()
                   for stat, f in (("min", min), ("median", lambda v: sorted(v)[len(v) // 2]))}
            for kind in ("forward", "forward_backward"):
                row[f"{kind}_tree_over_base"] = round(row[f"tree_{kind}_min_s"] / row[f"base_{kind}_min_s"], 3)
            result["scenes"][name] = row
    result["meta"]["load_average_end"] = os.getloadavg()
    print_and_save(result, args.json)


if __name__ == "__main__":
    main()
