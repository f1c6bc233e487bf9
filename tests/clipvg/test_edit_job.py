"""``clipvg.edit.run_job``: the spec's JSON round trip, outputs and metrics, cancel and resume equal
to an uninterrupted run, job ownership (a live owner refuses, a dead one is taken over, a job taken
away stops without writing), region prompts alone, limits, and out-of-memory advice injected where
the renderer runs."""
from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest
import torch

import clipvg
import clipvg.edit.editor as editor_module
from clipvg.cli import main
from clipvg.edit import (CheckpointPolicy, ClipSettings, EditOutOfMemoryError, JobOwnedError, JobSpec,
                         Outputs, Region, ResourceLimits, inspect_checkpoint, run_job)
from clipvg.edit.ownership import TOKEN, own_job
from clipvg.errors import InvalidInputError, ResourceLimitError
from edit_scenes import quick_settings, red_circle

GREEN = "a green circle on a white background"


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    path = tmp_path_factory.mktemp("source") / "circle.svg"
    clipvg.save_svg(red_circle(48), path)
    return path


def make_spec(source, out, steps=4, **fields) -> JobSpec:
    settings = quick_settings()
    clip = ClipSettings(settings["clip_model"], settings["clip_weights"], patches=2,
                        source_prompt=settings["source_prompt"])
    return JobSpec(input=str(source), prompt=GREEN, steps=steps, clip=clip, device="cpu",
                   outputs=Outputs([str(out / "e.svg"), str(out / "e.png")]), **fields)


def test_spec_round_trips_through_json(source, tmp_path):
    spec = make_spec(source, tmp_path, regions=[Region((1, 2, 30, 20), "a hat", patches=3)],
                     checkpoint=CheckpointPolicy(every_steps=2, every_seconds=5.0), limits=ResourceLimits(paths=10))
    text = spec.to_json()
    assert json.loads(text)["regions"][0] == {"box": [1, 2, 30, 20], "prompt": "a hat", "patches": 3}
    assert JobSpec.from_json(text) == spec


@pytest.mark.parametrize("change, message", [
    ({"steps": "4"}, "steps must be int"),
    ({"clip": {"patches": 1.5}}, "clip.patches must be int"),
    ({"colour": 1}, "unknown job spec field colour"),
    ({"prompt": "", "regions": []}, "prompt is empty"),
    ({"regions": [{"box": [0, 0, 0, 5], "prompt": "x"}]}, "positive width"),
    ({"outputs": {"paths": ["e.txt"]}}, "must end in"),
    ({"input": None}, "exactly one of input"),
])
def test_bad_specs_name_the_field(source, tmp_path, change, message):
    data = {**make_spec(source, tmp_path).to_dict(), **change}
    with pytest.raises(InvalidInputError, match=message):
        JobSpec.from_dict(data).validate()


def test_run_job_writes_outputs_and_returns_metrics(source, tmp_path):
    seen = []
    deterministic = torch.are_deterministic_algorithms_enabled()
    result = run_job(make_spec(source, tmp_path), progress=lambda p: seen.append((p.phase, p.step)))
    assert torch.are_deterministic_algorithms_enabled() == deterministic  # the job's mode was scoped to it
    assert result.status == "finished" and result.steps == result.total == 4 and len(result.losses) == 4
    assert result.files == [str(tmp_path / "e.svg"), str(tmp_path / "e.png")] and result.resumed_from is None
    assert {"prepare", "optimise", "write", "render", "clip"} <= set(result.timings)
    json.dumps(result.to_dict())
    assert seen[0] == ("preparing", 0) and ("editing", 4) in seen and seen[-1][0] == "writing"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.png", "e.svg"]  # no checkpoint or lock left
    after = clipvg.load_svg(tmp_path / "e.svg")
    assert not torch.equal(after.fill_color, clipvg.load_svg(source).fill_color)  # the edit moved the picture


def test_cancel_then_resume_equals_an_uninterrupted_run(source, tmp_path):
    full = run_job(make_spec(source, tmp_path / "full"))
    stop = threading.Event()
    spec = make_spec(source, tmp_path / "part")
    result = run_job(spec, progress=lambda p: p.step == 2 and stop.set(), cancel=stop)
    assert result.status == "cancelled" and result.steps == 2 and result.checkpoint == str(spec.checkpoint_dir())
    info = inspect_checkpoint(spec.checkpoint_dir())
    assert info.step == 2 and info.owner["pid"] > 0
    resumed = run_job(spec)
    assert resumed.resumed_from == 2 and resumed.losses == full.losses
    assert (tmp_path / "part" / "e.svg").read_text() == (tmp_path / "full" / "e.svg").read_text()
    assert not spec.checkpoint_dir().exists()


def test_a_job_that_resumes_lets_the_photo_and_mask_its_check_decoded_go(tmp_path, monkeypatch):
    """The pixels ``check_job_inputs`` decoded (photo and region mask) are not held through an edit that continues
    from its checkpoint (nor vectorized: the checkpoint holds the scene and the paths its region touches). The
    checkpoint was written by a job given the mask by its path (no ``read``, as before the mask was handed on):
    the decoded mask's options match it."""
    from PIL import Image, ImageDraw

    import vectorize
    from clipvg.edit.spec import Subset
    from clipvg.image_out import save_png
    from clipvg.input_check import check_job_inputs

    photo, mask = tmp_path / "circle.png", tmp_path / "mask.png"
    save_png(clipvg.render(red_circle(32), background=(1, 1, 1)), photo)
    image = Image.new("L", (16, 16))
    ImageDraw.Draw(image).rectangle((4, 4, 10, 10), fill=255)  # the circle's upper left, at half the canvas size
    image.save(mask)
    spec, stop = make_spec(photo, tmp_path, subset=Subset(mask=str(mask))), threading.Event()
    assert run_job(spec, progress=lambda p: p.step == 1 and stop.set(), cancel=stop).status == "cancelled"
    read = check_job_inputs(spec)
    assert read.input.pixels.shape == (32, 32, 4) and read.mask.pixels.shape == (16, 16, 4)
    monkeypatch.setattr(vectorize, "vectorize", lambda *args, **kw: pytest.fail("the photo was vectorized again"))
    resumed = run_job(spec, read=read)
    assert resumed.resumed_from == 1 and resumed.status == "finished"
    assert read.input.pixels is None and read.mask.pixels is None


HOLD = """
import sys, time
from clipvg.edit.ownership import own_job
with own_job(sys.argv[1]):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_live_owner_refuses_and_a_dead_one_is_taken_over(source, tmp_path):
    spec = make_spec(source, tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(spec.checkpoint_dir())], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(JobOwnedError, match=f"process {holder.pid}"):
            run_job(spec)
        assert not (tmp_path / "e.svg").exists()
    finally:
        holder.kill()
        holder.wait()
    assert (spec.checkpoint_dir() / TOKEN).is_file()  # a killed owner leaves its token
    result = run_job(spec)
    assert result.status == "finished" and f"process {holder.pid}" in result.taken_over_from


def test_a_write_cut_by_sigkill_leaves_nothing_once_the_job_finishes(source, tmp_path):
    spec = make_spec(source, tmp_path)
    directory = spec.checkpoint_dir()
    directory.mkdir(parents=True)
    cut = directory / ".checkpoint.pt.k1ll3d.tmp"  # what atomic_path leaves when its writer is killed
    cut.write_bytes(b"half a checkpoint")
    result = run_job(spec)
    assert result.status == "finished" and (tmp_path / "e.svg").is_file()
    assert not directory.exists()


def test_a_job_taken_away_stops_without_writing(source, tmp_path):
    spec = make_spec(source, tmp_path, checkpoint=CheckpointPolicy(every_steps=1))
    directory = spec.checkpoint_dir()
    taken = []

    def take_over(progress):
        if progress.step == 2 and not taken:  # the folder is cleaned and someone else starts the job
            for child in directory.iterdir():
                child.unlink()
            taken.append(own_job(directory))
            taken[0].__enter__()

    with pytest.raises(JobOwnedError, match="taken over"):
        run_job(spec, progress=take_over)
    taken[0].__exit__(None, None, None)
    assert not (tmp_path / "e.svg").exists() and not (tmp_path / "e.png").exists()


def test_region_prompts_alone_are_an_edit(source, tmp_path):
    spec = make_spec(source, tmp_path, steps=2)
    spec.prompt, spec.regions = "", [Region((10, 10, 20, 20), GREEN)]
    result = run_job(spec)
    assert result.status == "finished" and len(result.losses) == 2


def test_limits_refuse_a_large_scene(source, tmp_path):
    with pytest.raises(ResourceLimitError, match="the path count is 2, over the paths limit of 1.*--max-paths"):
        run_job(make_spec(source, tmp_path, limits=ResourceLimits(paths=1)))


@pytest.mark.parametrize("message", ["", "CUDA out of memory. Tried to allocate 20.00 GiB"])
def test_out_of_memory_in_the_renderer_gives_advice(source, tmp_path, monkeypatch, capsys, message):
    def exhausted(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError(message)

    monkeypatch.setattr(editor_module, "render_on_white", exhausted)  # what Editor.render calls
    with pytest.raises(EditOutOfMemoryError, match="ran out of memory.*--patches.*--max-size.*--precision"):
        run_job(make_spec(source, tmp_path))
    settings = quick_settings()
    code = main(["edit", str(source), "-o", str(tmp_path / "cli.svg"), "--prompt", GREEN, "--device", "cpu",
                 "--clip-model", settings["clip_model"], "--clip-weights", settings["clip_weights"], "--quiet",
                 "--iterations", "3", "--patches", "2"])  # set: no CPU-preset note beside the error
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "ran out of memory" in err[0] and "--precision" in err[0]
    from clipvg.batch.worker import execute  # a batch worker runs the same job code

    outcome = execute({"id": "job", "spec": make_spec(source, tmp_path / "batch").to_dict()})
    assert outcome["state"] == "failed" and "ran out of memory" in outcome["error"] and "--precision" in outcome["error"]


def test_unwritable_output_fails_before_any_work(source, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    steps = []
    with pytest.raises(InvalidInputError, match="writable output folder"):
        run_job(make_spec(source, blocker), progress=steps.append)
    assert steps == []  # refused before preparing


def test_resource_limits_refuse_a_job_before_optimising(source, tmp_path, monkeypatch):
    monkeypatch.setenv("CLIPVG_MAX_MEMORY_BYTES", str(64 << 20))
    with pytest.raises(InvalidInputError, match="memory_bytes limit.*CLIPVG_MAX_MEMORY_BYTES"):
        run_job(make_spec(source, tmp_path))
    assert not (tmp_path / "e.svg").exists()
