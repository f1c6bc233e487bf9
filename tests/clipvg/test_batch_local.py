"""``clipvg batch`` with the local executor (worker processes on the CPU) and the shapes CLIP: results
equal ``clipvg edit``'s, bad jobs are reported while the others finish, reruns skip finished jobs,
an interrupted batch resumes."""
from __future__ import annotations

import json
import os
import signal

import numpy as np
import pytest
import torch
from PIL import Image

import clipvg
from clipvg.batch import BatchInterrupted, run
from clipvg.cli import main
from edit_scenes import quick_settings, red_circle

CLIP = {k: quick_settings()[k] for k in ("clip_model", "clip_weights")}
COMMON = {"patches": 2, "device": "cpu", **CLIP}
CLI_COMMON = ["--clip-model", CLIP["clip_model"], "--clip-weights", CLIP["clip_weights"], "--patches", "2",
              "--device", "cpu"]


def make_inputs(folder):
    """A 48 px photo-like PNG (red disc), an SVG circle and a file that is no image."""
    folder.mkdir(parents=True, exist_ok=True)
    yy, xx = np.mgrid[0:48, 0:48]
    inside = (xx - 22.5) ** 2 + (yy - 25.5) ** 2 < 14 ** 2
    image = np.full((48, 48, 3), 250, np.uint8)
    image[inside] = np.stack([230 - xx[inside], 30 + yy[inside] // 4, 30 + xx[inside] // 4], -1)
    Image.fromarray(image).save(folder / "disc.png")
    clipvg.save_svg(red_circle(48), folder / "circle.svg")
    (folder / "broken.png").write_bytes(b"\x89PNG not really")
    return folder


def clipvg_edit(tmp, name, argv):
    """``clipvg edit`` with one torch thread, as each batch worker here runs; returns the SVG text."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert main(["edit", *map(str, argv), "-o", str(tmp / f"{name}.svg"), *CLI_COMMON, "--quiet"]) == 0
    finally:
        torch.set_num_threads(threads)
    return (tmp / f"{name}.svg").read_text()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return make_inputs(tmp_path_factory.mktemp("inputs"))


LONG_ITERATIONS = 150  # the long job still runs when the short one, started beside it, is done (40 did not, once, under load)


@pytest.fixture(scope="module")
def references(inputs, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("references")
    return {
        "disc": clipvg_edit(tmp, "disc", [inputs / "disc.png", "--prompt", "a green circle", "--seed", 3,
                                          "--iterations", 2]),
        "circle": clipvg_edit(tmp, "circle", [inputs / "circle.svg", "--prompt", "a blue circle", "--colors-only",
                                              "--roi", "10,10,20,20=a blue square", "--iterations", 2]),
        "long": clipvg_edit(tmp, "long", [inputs / "circle.svg", "--prompt", "a green circle", "--iterations",
                                          LONG_ITERATIONS]),
    }


def test_batch_equals_clipvg_edit_reports_bad_jobs_and_reruns_only_what_is_not_done(inputs, references, tmp_path,
                                                                                    capsys):
    jobs = tmp_path / "jobs.jsonl"
    lines = [{"input": str(inputs / "disc.png"), "prompt": "a green circle", "seed": 3, "id": "disc",
              "output": ["disc.svg", "png/disc.png"]},
             {"input": str(inputs / "circle.svg"), "prompt": "a blue circle", "params": "colors_only",
              "roi": [{"box": [10, 10, 20, 20], "prompt": "a blue square"}]},
             {"input": str(inputs / "broken.png"), "prompt": "a cat"},
             {"input": str(inputs / "circle.svg"), "prompt": "a cat", "roi": ["40,40,20,20=a hat"]}]
    jobs.write_text("".join(json.dumps(line) + "\n" for line in lines))
    out = tmp_path / "out"
    argv = ["batch", str(jobs), "-o", str(out), "--iterations", "2", "--workers", "2", "--threads", "1", *CLI_COMMON]
    code = main(argv)
    stdout, stderr = capsys.readouterr()
    assert code == 1
    assert "2 of 4 jobs failed" in stderr
    manifest = json.loads((out / "manifest.json").read_text())["jobs"]
    assert {k: v["state"] for k, v in manifest.items()} == \
        {"disc": "done", "circle": "done", "broken": "failed", "circle-2": "failed"}
    assert "cannot read image" in manifest["broken"]["error"]
    assert "not inside the 48x48 canvas" in manifest["circle-2"]["error"]
    assert "4 jobs: 2 done (0 before this run), 2 failed, 0 pending" in stdout
    assert (out / "disc.svg").read_text() == references["disc"]
    assert (out / "circle.svg").read_text() == references["circle"]
    assert Image.open(out / "png" / "disc.png").size == (48, 48)
    assert sorted(p.name for p in out.iterdir()) == [".batch.lock", "circle.svg", "disc.svg", "manifest.json", "png"]

    code = main(argv)  # again: the finished jobs are skipped, the failed ones tried again
    stdout, _ = capsys.readouterr()
    assert code == 1
    again = json.loads((out / "manifest.json").read_text())["jobs"]
    assert again["disc"] == manifest["disc"] and again["circle"] == manifest["circle"]
    assert again["broken"]["attempts"] == 2 and again["broken"]["state"] == "failed"
    assert "4 jobs: 2 done (2 before this run), 2 failed, 0 pending" in stdout
    assert [line.split()[1] for line in stdout.splitlines()[1:3]] == ["skipped", "skipped"]


def test_an_interrupted_batch_resumes_where_it_stopped(inputs, references, tmp_path):
    jobs = [{"input": str(inputs / "circle.svg"), "prompt": "a green circle", "iterations": 0, "id": "short"},
            {"input": str(inputs / "circle.svg"), "prompt": "a green circle", "iterations": LONG_ITERATIONS, "id": "long"}]
    out = tmp_path / "out"

    def ctrl_c_when_one_is_done(job_id, record):
        if record["state"] == "done":
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(BatchInterrupted) as stopped:
        run(jobs, out, workers=2, threads=1, quiet=True, callback=ctrl_c_when_one_is_done, **COMMON)
    assert stopped.value.summary.done == ["short"] and stopped.value.summary.pending == ["long"]
    manifest = json.loads((out / "manifest.json").read_text())["jobs"]
    assert manifest["long"]["state"] == "pending" and "interrupted" in manifest["long"]["error"]
    if manifest["long"].get("steps"):  # stopped mid-edit (not while starting): it saved its state
        assert (out / ".checkpoints" / "long" / "checkpoint.pt").is_file()

    summary = run(jobs, out, workers=2, threads=1, quiet=True, **COMMON)
    assert summary.ok and summary.skipped == {"short"}
    assert (out / "long.svg").read_text() == references["long"]
    assert not (out / ".checkpoints").exists()
