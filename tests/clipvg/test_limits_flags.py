"""The resource limits as flags and job-file keys: every command takes ``--max-<name>`` for every
``ResourceLimits`` field, the value reaches the check (CLI, Python API, job specs, batch workers),
and a refusal names the flag that raises the limit."""
from __future__ import annotations

import json

import pytest

import clipvg
from clipvg.cli import COMMANDS, build_parser, main
from clipvg.cli.limit_options import limits_from_args
from clipvg.edit import JobSpec, ResourceLimits
from clipvg.edit.flat import spec_from_options
from clipvg.errors import InvalidInputError, ResourceLimitError
from clipvg.limits import flag, names, option_name, resource_limits, using
from edit_scenes import RED, circles_scene, quick_settings

NESTED = '<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9">{}<rect width="5" height="5"/>{}</svg>'


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_takes_every_limit_flag(command, capsys):
    with pytest.raises(SystemExit):
        build_parser(command).parse_args([command, "--help"])
    text = capsys.readouterr().out
    assert all(flag(name) in text for name in names())


@pytest.mark.parametrize("name", names())
def test_a_flag_sets_its_limit_and_only_it(name, monkeypatch):
    monkeypatch.setenv("CLIPVG_MAX_PATHS", "123")  # the environment stays under the flags
    args = build_parser("render").parse_args(["render", "in.svg", "-o", "out.png", flag(name), "7"])
    limits = limits_from_args(args)
    assert getattr(limits, name) == 7
    assert all(getattr(limits, other) == getattr(resource_limits(), other) for other in names() if other != name)
    if name != "paths":
        assert limits.paths == 123


def test_a_bad_flag_value_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit):
        build_parser("render").parse_args(["render", "in.svg", "-o", "out.png", "--max-paths", "-3"])
    assert "--max-paths: not a positive number: '-3'" in capsys.readouterr().err


def test_render_flags_reach_the_parser_and_the_render_check(tmp_path, capsys):
    source = tmp_path / "deep.svg"
    source.write_text(NESTED.format("<g>" * 300, "</g>" * 300))
    out = str(tmp_path / "out.png")
    assert main(["render", str(source), "-o", out]) == 2  # 301 > the default depth 256
    assert "--max-group-depth N" in capsys.readouterr().err
    assert main(["render", str(source), "-o", out, "--max-group-depth", "400"]) == 0
    assert main(["render", str(source), "-o", out, "--max-group-depth", "400", "--max-render-pixels", "100",
                 "--width", "40"]) == 2
    err = capsys.readouterr().err.strip()
    assert "over the render_pixels limit of 100; reduce it, or raise the limit with --max-render-pixels N" in err


def test_api_callers_set_limits_with_using():
    markup = NESTED.format("<g>" * 5, "</g>" * 5)
    assert clipvg.load_svg(markup).num_paths == 1
    with using(ResourceLimits(group_depth=3)), pytest.raises(clipvg.SVGParseError, match="group_depth limit of 3"):
        clipvg.load_svg(markup)


def test_job_spec_carries_its_limits_through_json():
    spec = JobSpec(svg="<svg/>", prompt="x", outputs=clipvg.edit.Outputs(["o.svg"]), limits=ResourceLimits(paths=9),
                   max_seconds=2.5)
    again = JobSpec.from_json(spec.to_json())
    assert again == spec and again.limits.paths == 9 and again.to_dict()["limits"]["paths"] == 9
    with using(ResourceLimits(points=77)):  # limits not given in the JSON: those in force where it is read
        assert JobSpec.from_dict({"limits": {"paths": 5}}).limits == ResourceLimits(paths=5, points=77)
    legacy = JobSpec.from_dict({"limits": {"max_seconds": 3.0, "max_paths": 4, "max_pixels": None}})
    assert (legacy.max_seconds, legacy.limits.paths) == (3.0, 4)
    for bad in ({"paths": 0}, {"pathz": 5}, {"paths": True}, [1]):
        with pytest.raises(InvalidInputError, match="limits"):
            JobSpec.from_dict({"limits": bad})


def test_job_file_keys_and_the_limits_in_force_make_the_spec_limits(tmp_path):
    (tmp_path / "in.svg").write_text(NESTED.format("", ""))
    options = {"input": str(tmp_path / "in.svg"), "prompt": "x", "output": ["o.svg"]}
    with using(ResourceLimits(paths=10, points=20)):
        spec = spec_from_options({**options, "max_paths": 3, "max-megapixels": 1.5})
    assert (spec.limits.paths, spec.limits.points, spec.limits.megapixels) == (3, 20, 1.5)
    assert isinstance(spec.limits.paths, int)
    with pytest.raises(InvalidInputError, match="max_paths must be a whole number, got 'lots'"):
        spec_from_options({**options, "max_paths": "lots"})
    with pytest.raises(ResourceLimitError, match="max_megapixels=-1 is not a positive number"):
        spec_from_options({**options, "max_megapixels": -1})


def test_batch_flag_and_job_keys_reach_the_check_in_the_workers(tmp_path, capsys):
    source = tmp_path / "circle.svg"
    clipvg.save_svg(circles_scene((10, 10, 6, RED), (22, 22, 6, RED), size=32), source)
    jobs = tmp_path / "jobs.jsonl"
    lines = [{"input": str(source), "prompt": "a green circle", "id": "capped"},
             {"input": str(source), "prompt": "a green circle", "id": "raised", option_name("paths"): 10}]
    jobs.write_text("".join(json.dumps(line) + "\n" for line in lines))
    quick = quick_settings()
    argv = ["batch", str(jobs), "-o", str(tmp_path / "out"), "--iterations", "1", "--patches", "1", "--device", "cpu",
            "--clip-model", quick["clip_model"], "--clip-weights", quick["clip_weights"], "--workers", "1",
            "--threads", "1", "--quiet", "--max-paths", "1"]
    assert main(argv) == 1
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())["jobs"]
    assert manifest["raised"]["state"] == "done"
    assert manifest["capped"]["state"] == "failed"
    paths = clipvg.load_svg(source).num_paths
    assert (f"the path count is {paths}, over the paths limit of 1; reduce it, or raise the limit with --max-paths N"
            in manifest["capped"]["error"])
