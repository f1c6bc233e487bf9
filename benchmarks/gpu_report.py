"""The GPU figures in one JSON (run by scripts/gpu_check.sh): machine, commit, test counts, the renderer on
the vectorized astronaut (fast and deterministic), edit steps with 1 and 3 ROIs, the official-style loop,
a whole 150-step ``clipvg edit`` at 512 px, and the renderer benchmark (real scenes and random blobs at 512 px).

    python benchmarks/gpu_report.py --json OUT.json [--junit TESTS.xml] [--commit SHA] [--device cuda]
"""
from __future__ import annotations

import argparse
import datetime
import json
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

# benchmarks/losses.py and benchmarks/vectorize.py would shadow the packages of the same names
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import skimage.data  # noqa: E402
import torch  # noqa: E402

import vectorize  # noqa: E402
from clipvg.edit.editor import deterministic  # noqa: E402
from clipvg.render import render  # noqa: E402

ROOT = HERE.parent


def junit_counts(path: str | None) -> dict:
    """Tests, failures, errors and skips from a JUnit XML file, and the failing test ids."""
    if not path or not Path(path).is_file():
        return {"junit": "missing (the test run did not finish)"}
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    counts = {key: sum(int(s.get(key, 0)) for s in suites) for key in ("tests", "failures", "errors", "skipped")}
    failed = [f"{case.get('classname')}::{case.get('name')}" for case in root.iter("testcase")
              if case.find("failure") is not None or case.find("error") is not None]
    return {**counts, "failed": failed}


def _synchronized(device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter()


def time_render(scene, device: torch.device, repeats: int = 20) -> dict:
    """Median ms of forward and forward+backward at canvas size on white, and the peak memory."""
    params = scene.parameters(points=True, colors=True)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)

    def forward_backward() -> None:
        for p in params:
            p.grad = None
        render(scene, background=(1.0, 1.0, 1.0))[..., :3].sum().backward()

    def forward() -> None:
        with torch.no_grad():
            render(scene, background=(1.0, 1.0, 1.0))

    timings = {}
    for name, run in (("forward_ms", forward), ("forward_backward_ms", forward_backward)):
        run()
        samples = []
        for _ in range(repeats):
            start = _synchronized(device)
            run()
            samples.append((_synchronized(device) - start) * 1000)
        timings[name] = round(statistics.median(samples), 2)
    if device.type == "cuda":
        timings["peak_memory_mb"] = round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    return timings


def run_json(arguments: list[str], timeout: float = 150) -> dict:
    """Run a benchmark script that prints one JSON object; its object, or what went wrong."""
    try:
        done = subprocess.run([sys.executable, *arguments], capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    text = done.stdout
    start = text.find("{")
    if done.returncode != 0 or start < 0:
        return {"error": (done.stderr or text).strip()[-800:]}
    return json.loads(text[start:])


def time_cli_edit(device: torch.device, timeout: float = 120) -> dict:
    """Wall seconds of a whole `clipvg edit` of the bundled photo (512 px, 150 steps, random CLIP
    weights), vectorizing and process start included."""
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "clipvg.cli", "edit", "examples/data/astronaut.png", "-o",
                   f"{folder}/out.svg", "--prompt", "Self-Portrait of Vincent van Gogh", "--clip-weights", "none",
                   "--device", str(device), "--quiet"]
        start = time.perf_counter()
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {timeout} s"}
        wall = time.perf_counter() - start
    if done.returncode != 0:
        return {"error": done.stderr.strip()[-800:]}
    return {"wall_s": round(wall, 2), "iterations": 150, "size": 512}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", required=True, help="where to write the report")
    parser.add_argument("--junit", help="JUnit XML of the test run")
    parser.add_argument("--commit", default="unknown")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args(argv)
    device = torch.device(args.device)

    report = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": args.commit, "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "torch": torch.__version__, "cuda": torch.version.cuda, "tests": junit_counts(args.junit),
    }
    scene = vectorize.vectorize(skimage.data.astronaut(), rounds=(10, 30)).to(device)
    astronaut = {"paths": scene.num_paths, "size": [round(scene.width), round(scene.height)],
                 "fast": time_render(scene, device)}
    with deterministic():
        astronaut["deterministic"] = time_render(scene, device)
    report["render_astronaut"] = astronaut
    edit = ["benchmarks/edit.py", "--device", str(device), "--iterations", "10"]
    report["edit_1roi"] = run_json(edit)
    report["edit_1roi_deterministic"] = run_json(edit + ["--deterministic", "--no-official"])
    report["edit_3roi"] = run_json(edit + ["--rois", "3", "--no-official"])
    report["clipvg_edit_150_steps"] = time_cli_edit(device)
    report["render_benchmark"] = run_json(["benchmarks/render.py", "--device", str(device), "--sizes", "512"])
    text = json.dumps(report, indent=2)
    Path(args.json).write_text(text + "\n")
    print(text)
    return report


if __name__ == "__main__":
    main()
