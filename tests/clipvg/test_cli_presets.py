"""``--quick`` (offline smoke run) and the CPU preset the CLI picks without a GPU."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from clipvg.cli import build_parser
from clipvg.cli.edit_command import EDIT_OPTIONS, RUN_OPTIONS, job_spec, run_and_report
from clipvg.edit.job import JobResult
from clipvg.edit.presets import CPU, QUICK, cpu_seconds, quick_options
from losses import precision as clip_precision

ROOT = Path(__file__).resolve().parents[2]
NAMES = RUN_OPTIONS + EDIT_OPTIONS
ASTRONAUT = ROOT / "examples" / "data" / "astronaut.png"


def _spec(*flags: str):
    args = build_parser().parse_args(["edit", str(ASTRONAUT), "-o", "out.svg", "--prompt", "a red astronaut", *flags])
    spec = job_spec(args, NAMES, input=str(ASTRONAUT))
    return spec, args.cpu_note


@pytest.mark.parametrize("native, precision", [(True, "bf16"), (False, "fp32")])
def test_cpu_preset_is_announced_with_the_precision_and_the_expected_time(monkeypatch, native, precision):
    monkeypatch.setattr(clip_precision, "native_bf16", lambda: native)
    spec, line = _spec("--device", "cpu")
    assert (spec.steps, spec.clip.patches) == (CPU["iterations"], CPU["patches"])
    minutes = cpu_seconds(CPU["iterations"], CPU["patches"], precision=precision) / 60
    assert line.startswith(f"clipvg: no GPU: CLIP in {precision} (")
    assert f"{CPU['iterations']} steps of {CPU['patches']} patches, about {minutes:.0f} min" in line
    assert "--patches 64" in line
    assert _spec("--device", "cpu", "--precision", "fp32")[1].startswith("clipvg: no GPU: CLIP in fp32;")


@pytest.mark.parametrize("flags, steps, patches", [
    (("--patches", "64"), CPU["iterations"], 64),
    (("--iterations", "7"), 7, CPU["patches"]),
    (("--patches", "64", "--iterations", "150"), 150, 64),
])
def test_explicit_flags_win_over_the_cpu_preset(flags, steps, patches):
    spec, note = _spec("--device", "cpu", *flags)
    assert (spec.steps, spec.clip.patches) == (steps, patches)
    assert bool(note) == (flags != ("--patches", "64", "--iterations", "150"))


def test_the_job_spec_is_built_once_with_the_cpu_preset(monkeypatch):
    import clipvg.cli.edit_command as command

    built = []
    build = command.spec_from_options
    monkeypatch.setattr(command, "spec_from_options", lambda *args, **kw: built.append(args) or build(*args, **kw))
    spec, note = _spec("--device", "cpu", "--iterations", "7")
    assert len(built) == 1 and (spec.steps, spec.clip.patches) == (7, CPU["patches"]) and note
    assert spec.validate() is spec


def test_quick_takes_the_shared_preset_and_the_shapes_clip():
    spec, note = _spec("--device", "cpu", "--quick")
    quick = quick_options()
    assert (spec.steps, spec.clip.patches, spec.size) == (QUICK["iterations"], QUICK["patches"], 512)
    assert (spec.clip.model, spec.clip.weights) == (quick["clip_model"], quick["clip_weights"])
    assert note == ""  # no CPU preset on top of --quick
    assert _spec("--quick", "--iterations", "5")[0].steps == 5


def test_quick_edit_runs_offline_through_the_cli(tmp_path):
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf"), HOME=str(tmp_path))
    svg, png = tmp_path / "astronaut.svg", tmp_path / "astronaut.png"
    done = subprocess.run([sys.executable, "-m", "clipvg.cli", "edit", "examples/data/astronaut.png",
                           "-o", str(svg), "-o", str(png), "--prompt", "an astronaut in a red suit", "--quick",
                           "--quiet"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert re.search(r"step 3/3", done.stdout), done.stdout
    assert 'width="256"' in svg.read_text() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "WARNING" not in done.stderr and "Warning" not in done.stderr  # the photo is not resized


def test_the_note_is_printed_before_the_edit_starts(capsys):
    spec, note = _spec("--device", "cpu", "--iterations", "0")
    seen = []

    def run(spec_, show_bar):
        seen.append(capsys.readouterr().err)
        return JobResult("finished", [], 0, 0, [], None, None, {}, 0, message="done")

    run_and_report(spec, run, quiet=True, note=note)
    assert seen == [note + "\n"] and note.startswith("clipvg: no GPU: CLIP in ") and "; 0 steps of 8 patches" in note
