"""Batch benchmark: jobs per minute of ``clipvg batch`` with 1, 2 and 4 local worker processes on the
CPU (and one per GPU when there are GPUs), and the overhead of the Ray executor against the local one
on the same jobs. Prints one JSON object.

    python benchmarks/batch.py [--jobs 8] [--size 64] [--iterations 10] [--patches 4] [--workers 1,2,4]

The jobs are small edits (a photo-like picture of ``--size`` px, the project's shapes CLIP), so the
figures show what the executors cost around each edit as much as the edits themselves. Each run
starts its workers afresh (as ``clipvg batch`` does); the one-time start of the fork server that
imports torch and CLIP for them is measured apart.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

# benchmarks/losses.py and benchmarks/vectorize.py would shadow the packages of the same names
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from clipvg.batch import run  # noqa: E402
from clipvg.batch.local import cpu_count, visible_gpus  # noqa: E402
from losses import shapes_clip_paths  # noqa: E402

PROMPTS = ("a green circle", "a blue circle", "a yellow square", "a purple star")


def make_jobs(folder: Path, count: int, size: int, iterations: int) -> list[dict]:
    """``count`` edits of one photo-like picture (a shaded disc), with different prompts and seeds."""
    yy, xx = np.mgrid[0:size, 0:size] * (64 / size)
    inside = (xx - 30.5) ** 2 + (yy - 33.5) ** 2 < 18 ** 2
    image = np.full((size, size, 3), 250, np.uint8)
    image[inside] = np.stack([230 - xx[inside], 30 + yy[inside] / 4, 30 + xx[inside] / 4], -1).astype(np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(folder / "disc.png")
    return [{"input": str(folder / "disc.png"), "prompt": PROMPTS[i % len(PROMPTS)], "seed": i,
             "iterations": iterations, "id": f"job{i}"} for i in range(count)]


def timed(jobs: list[dict], out: Path, **options) -> dict:
    """Wall time and jobs per minute of one batch run, and the seconds spent outside the edits (worker
    start, CLIP loading, dispatch): the wall time less the edits' own time shared over the workers."""
    start = time.perf_counter()
    summary = run(jobs, out, quiet=True, **options)
    seconds = time.perf_counter() - start
    if not summary.ok:
        raise SystemExit(f"benchmark jobs failed: {[summary.records[i]['error'] for i in summary.failed]}")
    in_jobs = sum(record["seconds"] for record in summary.records.values())
    workers = len({record["worker"] for record in summary.records.values()})
    return {"seconds": round(seconds, 2), "jobs_per_minute": round(len(jobs) / seconds * 60, 1),
            "edit_s_per_job": round(in_jobs / len(jobs), 2), "outside_edits_s": round(seconds - in_jobs / workers, 2)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=8, help="edits per run (default 8)")
    parser.add_argument("--size", type=int, default=64, help="picture side in pixels (default 64)")
    parser.add_argument("--iterations", type=int, default=10, help="steps per edit (default 10)")
    parser.add_argument("--patches", type=int, default=4, help="patches per step (default 4)")
    parser.add_argument("--workers", default="1,2,4", help="local worker counts on the CPU (default 1,2,4)")
    parser.add_argument("--ray-workers", type=int, default=2, help="Ray actors, against as many local workers")
    args = parser.parse_args(argv)

    model, weights = shapes_clip_paths()
    clip = {"clip_model": model, "clip_weights": weights, "patches": args.patches}
    result: dict = {"jobs": args.jobs, "size": args.size, "iterations": args.iterations, "patches": args.patches,
                    "cpu_cores": cpu_count(), "torch_threads_default": torch.get_num_threads()}
    with tempfile.TemporaryDirectory(prefix="clipvg-batch-bench-") as tmp:
        tmp = Path(tmp)
        jobs = make_jobs(tmp / "in", args.jobs, args.size, args.iterations)
        start = time.perf_counter()
        timed(jobs[:1], tmp / "warm-up", workers=1, device="cpu", **clip)
        result["forkserver_start_and_first_job_s"] = round(time.perf_counter() - start, 2)

        cpu = {}
        for workers in (int(w) for w in args.workers.split(",")):
            cpu[f"{workers}_workers"] = {**timed(jobs, tmp / f"cpu{workers}", workers=workers, device="cpu", **clip),
                                         "threads_per_worker": max(1, cpu_count() // workers)}
        result["cpu"] = cpu

        gpus = visible_gpus()
        if gpus:
            result["gpu"] = {f"{len(gpus)}_workers": timed(jobs, tmp / "gpu", device="cuda", **clip),
                             "gpus": [torch.cuda.get_device_name(i) for i in range(len(gpus))]}
        else:
            result["gpu"] = "not measured (no GPU here)"

        try:
            import ray
        except ImportError:
            result["ray"] = "not measured (pip install -e '.[ray]')"
        else:
            start = time.perf_counter()
            ray.init(num_cpus=max(args.ray_workers, cpu_count()), include_dashboard=False, log_to_driver=False,
                     configure_logging=False)
            init_s = time.perf_counter() - start
            workers = args.ray_workers
            local = timed(jobs, tmp / "local-vs-ray", workers=workers, threads=1, device="cpu", **clip)
            on_ray = timed(jobs, tmp / "ray", executor="ray", workers=workers, threads=1, device="cpu", **clip)
            ray.shutdown()
            result["ray"] = {"ray_init_s": round(init_s, 2), "workers": workers, "local": local, "ray": on_ray,
                             "overhead_s": round(on_ray["seconds"] - local["seconds"], 2),
                             "overhead_ratio": round(on_ray["seconds"] / local["seconds"], 2)}
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
