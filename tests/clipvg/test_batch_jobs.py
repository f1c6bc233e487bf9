"""``clipvg batch`` without running edits: reading jobs, the manifest, the summary and the command line."""
from __future__ import annotations

import dataclasses
import io
import json

import pytest

from clipvg.batch import Manifest, load_jobs
from clipvg.batch.progress import summary_table
from clipvg.cli import build_parser, main
from clipvg.cli.edit_command import job_spec
from clipvg.edit import JobSpec
from clipvg.edit.flat import all_options
from clipvg.errors import InvalidInputError


@pytest.fixture
def inputs(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("cat.png", "dog.svg", "cat.svg", "notes.txt"):
        (folder / name).write_bytes(b"x")
    return folder


def write_jobs(path, *lines):
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n")
    return path


def test_a_job_means_the_same_clipvg_edit_command_line(inputs, tmp_path):
    jobs = write_jobs(tmp_path / "jobs.jsonl",
                      {"input": "in/cat.png", "prompt": "a tiger", "rois": [[[1, 2, 3, 4], "a hat"], "5,6,7,8=a tie",
                                                                          {"box": [0, 0, 2.0, 2], "prompt": "eyes"}],
                       "params": ["colors_only", "region_only"], "iterations": 7, "seed": 3, "num_patches": 5,
                       "clip-weights": None, "outputs": ["cat.svg", "png/cat.png"]})
    [job] = load_jobs(jobs, tmp_path / "out", {"prompt": "unused", "seed": 1, "clip_model": "RN50"})
    assert job.error is None and job.id == "cat"
    args = build_parser().parse_args([
        "edit", str(inputs / "cat.png"), "-o", str(tmp_path / "out" / "cat.svg"), "-o",
        str(tmp_path / "out" / "png" / "cat.png"), "--prompt", "a tiger", "--roi", "1,2,3,4=a hat", "--roi",
        "5,6,7,8=a tie", "--roi", "0,0,2,2=eyes", "--colors-only", "--region-only", "--iterations", "7", "--seed", "3",
        "--patches", "5", "--clip-weights", "none", "--clip-model", "RN50", "--quiet"])
    expected = job_spec(args, tuple(all_options()), check_inputs=None, input=args.input)  # the fixture files are no pictures
    spec = job.job_spec()
    assert spec == dataclasses.replace(expected, id="cat", checkpoint=spec.checkpoint)  # the command line's resume rule aside
    assert spec.checkpoint.every_seconds == 60  # a batch job checkpoints by default
    [often] = load_jobs(jobs, tmp_path / "out", {"prompt": "unused", "seed": 1, "clip_model": "RN50",
                                                  "checkpoint_every": 1})
    assert often.job_spec().checkpoint.every_steps == 1 and often.spec == job.spec  # the same job: done stays done
    assert JobSpec.from_dict(job.payload(tmp_path / "ck")["spec"]).checkpoint.directory == str(tmp_path / "ck")


def test_ids_default_outputs_and_jobs_that_cannot_run(inputs, tmp_path):
    jobs = write_jobs(tmp_path / "jobs.jsonl",
                      {"input": "in/cat.png"}, {"input": "in/cat.png", "prompt": "a lion"},
                      {"input": "in/cat.svg", "id": "vector"}, "# a comment", "",
                      {"input": "in/missing.png"}, {"input": "in/dog.svg", "colour": "red"}, "{not json",
                      {"input": "in/dog.svg", "roi": ["1,2,3=a hat"]}, {"input": "in/dog.svg", "iterations": "many"},
                      {"input": "in/dog.svg", "output": ["../in/dog.svg"]}, {"input": "in/dog.svg", "output": "d.gif"})
    found = load_jobs(jobs, tmp_path / "out", {"prompt": "a tiger"}, formats=["svg", "png"])
    by_id = {job.id: job for job in found}
    assert list(by_id) == ["cat", "cat-2", "vector", "missing", "dog", "line-8", "dog-2", "dog-3", "dog-4", "dog-5"]
    assert by_id["cat"].outputs == [str(tmp_path / "out" / "cat.svg"), str(tmp_path / "out" / "cat.png")]
    assert by_id["cat"].options["prompt"] == "a tiger" and by_id["cat-2"].options["prompt"] == "a lion"
    assert by_id["vector"].error is None
    errors = {job.id: job.error for job in found if job.error}
    assert errors["missing"].endswith(f"input file not found: {inputs / 'missing.png'}")
    assert "line 7: unknown job key 'colour'" in errors["dog"]
    assert "line 8: not JSON" in errors["line-8"]
    assert "malformed ROI" in errors["dog-2"]
    assert "iterations must be a whole number, got 'many'" in errors["dog-3"]
    assert "also an input" in errors["dog-4"]
    assert "must end in" in errors["dog-5"]
    assert by_id["cat"].spec and by_id["cat"].spec != by_id["cat-2"].spec


def test_a_folder_of_inputs_takes_one_prompt(inputs, tmp_path):
    jobs = load_jobs(inputs, tmp_path / "out", {"prompt": "a tiger", "iterations": 3})
    assert [(j.id, j.options["iterations"]) for j in jobs] == [("cat", 3), ("cat-2", 3), ("dog", 3)]
    with pytest.raises(InvalidInputError, match="--prompt"):
        load_jobs(inputs, tmp_path / "out", {})


@pytest.mark.parametrize("lines, defaults, message", [
    ([{"input": "in/cat.png", "id": "a"}, {"input": "in/dog.svg", "id": "a"}], {}, "used 2 times"),
    ([{"input": "in/cat.png", "output": "x.svg"}, {"input": "in/dog.svg", "output": "x.svg"}], {}, "both write"),
    ([{"input": "in/cat.png"}], {"output": "x.svg"}, "set per job"),
    ([{"input": "in/cat.png"}], {"frobnicate": 1}, "unknown job key"),
    ([], {}, "holds no jobs"),
])
def test_bad_batches_are_refused_before_anything_runs(inputs, tmp_path, lines, defaults, message):
    jobs = write_jobs(tmp_path / "jobs.jsonl", *lines)
    with pytest.raises(InvalidInputError, match=message):
        load_jobs(jobs, tmp_path / "out", {"prompt": "a tiger", **defaults})


def test_manifest_skips_only_jobs_done_with_the_same_settings(inputs, tmp_path):
    out = tmp_path / "out"
    jobs = write_jobs(tmp_path / "jobs.jsonl", {"input": "in/cat.png"})
    [job] = load_jobs(jobs, out, {"prompt": "a tiger"})
    manifest = Manifest(out)
    manifest.update(job.id, state="done", spec=job.spec)
    assert not manifest.is_done(job)  # its output is missing
    out.mkdir()
    (out / "cat.svg").write_text("<svg/>")
    assert manifest.is_done(job)
    [other] = load_jobs(jobs, out, {"prompt": "a lion"})
    assert not manifest.is_done(other)
    (inputs / "cat.png").write_bytes(b"y")  # the input changed
    assert not manifest.is_done(load_jobs(jobs, out, {"prompt": "a tiger"})[0])
    manifest.update("other", state="running")
    manifest.save()
    again = Manifest(out)
    assert again.jobs["cat"]["state"] == "done" and again.jobs["other"]["state"] == "pending"
    (out / "manifest.json").write_text("{broken")
    with pytest.raises(InvalidInputError, match="cannot read"):
        Manifest(out)


def test_summary_table(inputs, tmp_path):
    jobs = load_jobs(inputs, tmp_path / "out", {"prompt": "a tiger"})
    manifest = Manifest(tmp_path / "out")
    manifest.update("cat-2", state="done", seconds=1.25)
    manifest.update("dog", state="failed", seconds=0.5, error="cannot read image")
    text = io.StringIO()
    summary_table(jobs, manifest, {"cat"}, text)
    lines = text.getvalue().splitlines()
    assert lines[0].split() == ["job", "state", "time", "result"]
    assert lines[1].split()[:2] == ["cat", "skipped"]
    assert lines[2].split()[:4] == ["cat-2", "done", "1.2", "s"]
    assert lines[3].split()[:4] == ["dog", "failed", "0.5", "s"] and lines[3].endswith("cannot read image")
    assert lines[4].startswith("3 jobs: 2 done (1 before this run), 1 failed, 0 pending")


def test_batch_command_takes_every_edit_option(capsys, tmp_path):
    parser = build_parser()
    args = parser.parse_args(["batch", "jobs.jsonl", "-o", "out", "--prompt", "a tiger", "--colors-only",
                              "--roi", "1,2,3,4=a hat", "--clip-weights", "none", "--workers", "2"])
    assert (args.prompt, args.colors_only, args.roi, args.clip_weights, args.workers) == \
        ("a tiger", True, ["1,2,3,4=a hat"], None, 2)
    assert not hasattr(args, "iterations")  # not given: each job keeps its own (or clipvg edit's default)
    code = main(["batch", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "clipvg batch: error: jobs file not found" in err
