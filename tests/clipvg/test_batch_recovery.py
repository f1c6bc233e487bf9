"""Crash recovery of ``clipvg batch`` with real processes: SIGKILL of the whole batch process group
mid-job leaves no worker behind; the rerun leaves the finished job's outputs untouched and resumes
the interrupted job from its checkpoint to the same SVG as an uninterrupted run."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from clipvg.edit import inspect_checkpoint
from clipvg.edit.ownership import process_alive, read_owner
from test_batch_local import CLI_COMMON, clipvg_edit, make_inputs

pytestmark = pytest.mark.skipif(not hasattr(os, "killpg"), reason="process groups are POSIX")
LONG = 16


def batch(jobs, out) -> list[str]:
    return [sys.executable, "-m", "clipvg.cli", "batch", str(jobs), "-o", str(out), "--workers", "1", "--threads", "1",
            "--checkpoint-every", "1", "--quiet", *CLI_COMMON]


def wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.slow  # two batch runs of real edits in worker processes
def test_kill_9_mid_job_then_rerun_resumes_and_keeps_finished_outputs(tmp_path):
    inputs = make_inputs(tmp_path / "in")
    jobs = tmp_path / "jobs.jsonl"
    lines = [{"id": "first", "input": str(inputs / "disc.png"), "prompt": "a green circle", "iterations": 2},
             {"id": "second", "input": str(inputs / "circle.svg"), "prompt": "a green circle", "iterations": LONG}]
    jobs.write_text("".join(json.dumps(line) + "\n" for line in lines))
    out = tmp_path / "out"
    checkpoints = out / ".checkpoints" / "second"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}

    first = subprocess.Popen(batch(jobs, out), env=env, start_new_session=True, stderr=subprocess.PIPE)
    try:
        def mid_second() -> bool:
            if first.poll() is not None:
                raise AssertionError(f"the batch ended early: {first.stderr.read().decode()[-2000:]}")
            info = (checkpoints / "checkpoint.pt").is_file() and inspect_checkpoint(checkpoints)
            return bool(info) and 3 <= info.step < LONG - 4
        wait_for(mid_second, 300, "the second job to be mid-way")
        worker = read_owner(checkpoints)
        finished = (out / "first.svg").read_bytes(), (out / "first.svg").stat().st_mtime_ns
        os.killpg(first.pid, signal.SIGKILL)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    assert worker is not None and worker.pid != first.pid
    wait_for(lambda: not process_alive(worker.pid), 10, f"the orphaned worker {worker.pid} to die")

    rerun = subprocess.run(batch(jobs, out), env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert ((out / "first.svg").read_bytes(), (out / "first.svg").stat().st_mtime_ns) == finished
    record = json.loads((out / "manifest.json").read_text())["jobs"]["second"]
    assert record["state"] == "done" and record["steps"] == LONG and 3 <= record["resumed_from"] < LONG
    expected = clipvg_edit(tmp_path, "uninterrupted", [inputs / "circle.svg", "--prompt", "a green circle",
                                                       "--iterations", LONG])
    assert (out / "second.svg").read_text() == expected
    assert not checkpoints.exists()
