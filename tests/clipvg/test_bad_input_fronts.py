"""Bad input the fuzz campaign (benchmarks/bad_input.py) turned into tracebacks, each now the project's
own error through the front end that met it."""
from __future__ import annotations

import json

import pytest

from bad_corpus import png_header, valid_svg
from clipvg.batch.jobs import load_jobs


def test_a_job_line_that_is_not_utf8_fails_alone(tmp_path):
    import random

    (tmp_path / "in.svg").write_text(valid_svg(random.Random(0)))
    good = json.dumps({"input": "in.svg", "prompt": "a cat"}).encode()
    (tmp_path / "jobs.jsonl").write_bytes(good + b"\n\xff\xfe{\x00\n" + good + b"\n")
    jobs = load_jobs(tmp_path / "jobs.jsonl", tmp_path / "out")
    assert [job.error is None for job in jobs] == [True, False, True]
    assert "jobs.jsonl line 2: not UTF-8 text (invalid start byte at byte 1)" in jobs[1].error


def test_job_params_of_the_wrong_type_fail_that_job(tmp_path):
    (tmp_path / "in.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>')
    (tmp_path / "jobs.jsonl").write_text(json.dumps({"input": "in.svg", "prompt": "a cat", "params": 7}) + "\n")
    [job] = load_jobs(tmp_path / "jobs.jsonl", tmp_path / "out")
    assert "params must be a name or a list of names" in job.error


@pytest.mark.parametrize("roi", [1.5, None, 7, True])
def test_a_list_option_of_the_wrong_type_fails_that_job(tmp_path, roi):
    (tmp_path / "in.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>')
    (tmp_path / "jobs.jsonl").write_text(json.dumps({"input": "in.svg", "prompt": "a cat", "roi": roi}) + "\n")
    [job] = load_jobs(tmp_path / "jobs.jsonl", tmp_path / "out")
    assert f"roi must be a list (or one item), got {roi!r}" in job.error


def test_a_one_pixel_png_vectorizes(tmp_path):
    from vectorize import vectorize

    path = tmp_path / "one.png"
    path.write_bytes(png_header(1, 1))  # the campaign's "PNG header 1 px": one region, no adjacent pairs
    assert vectorize(path, max_size=16).num_paths >= 1


@pytest.mark.parametrize("name", ["a" * 5000, "a\x00b.svg"])
def test_an_input_name_the_system_refuses_is_not_found(tmp_path, name):
    (tmp_path / "jobs.jsonl").write_text(json.dumps({"input": name, "prompt": "a cat"}) + "\n")
    [job] = load_jobs(tmp_path / "jobs.jsonl", tmp_path / "out")
    assert "input file not found" in job.error


@pytest.mark.parametrize("shape", ['<circle r="5" rx="3em"/>', '<ellipse rx="4" ry="3" r="29em"/>',
                                   '<ellipse rx="4" ry="3" r="2ex"/>'])
def test_a_radius_that_is_not_the_shapes_own_is_ignored(shape):
    from clipvg.svg import load_svg

    scene = load_svg(f'<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20">{shape}</svg>')
    extent = scene.path(0).subpaths[0].points.max(0) - scene.path(0).subpaths[0].points.min(0)
    assert extent.tolist() == pytest.approx([10, 10] if "circle" in shape else [8, 6], abs=1e-4)


@pytest.mark.parametrize("field, value", [("change", {}), ("change", [1]), ("patches", float("inf")),
                                          ("iterations", float("-inf"))])
def test_web_edit_requests_with_junk_values_are_our_error(tmp_path, field, value):
    from clipvg.errors import InvalidInputError
    from clipvg.serve.edits import EditSettings, edit_spec

    settings = EditSettings("ViT-B-32", None, 100, 64, 4, None, None)
    request = {"version": 0, "prompt": "a cat", "iterations": 1, "patches": 1, field: value}
    with pytest.raises(InvalidInputError, match=field):
        edit_spec(request, tmp_path / "v.svg", 32, 32, tmp_path / "job", settings, {"iterations": 1, "patches": 1})


def test_a_png_upload_with_a_broken_chunk_is_refused_before_a_job():
    """A flipped byte in the pixel data passes the header check; the CRCs catch it at upload, where
    the vectorize job found it only after queueing and decoding (1-1.6 s in the campaign)."""
    from serve_helpers import tiny_png
    from clipvg.serve.security import UploadError
    from clipvg.serve.service import _check_photo

    data = tiny_png()
    _check_photo(data, 1_000_000)
    broken = bytearray(data)
    broken[data.index(b"IDAT") + 8] ^= 0xFF
    with pytest.raises(UploadError, match="cannot decode this picture .*broken PNG") as refused:
        _check_photo(bytes(broken), 1_000_000)
    assert refused.value.status == 400


# a canvas the editor cannot render with gradients (25 MP at ~2.9 KB per px: over memory_bytes), and one nested
# past the group_depth limit; the reader alone takes both
TOO_BIG_TO_EDIT = '<svg xmlns="http://www.w3.org/2000/svg" width="5000" height="5000"><rect width="9" height="9"/></svg>'
TOO_DEEP = ('<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9">' + "<g>" * 300 + '<rect width="5" height="5"/>'
            + "</g>" * 300 + "</svg>")


def test_batch_fails_a_job_whose_input_the_input_check_refuses_and_runs_the_rest(tmp_path, capsys):
    from clipvg.cli import main
    from edit_scenes import quick_settings, red_circle
    import clipvg

    clipvg.save_svg(red_circle(32), tmp_path / "good.svg")
    (tmp_path / "big.svg").write_text(TOO_BIG_TO_EDIT)
    (tmp_path / "deep.svg").write_text(TOO_DEEP)
    (tmp_path / "jobs.jsonl").write_text("".join(json.dumps({"input": f"{name}.svg", "prompt": "a green circle"}) + "\n"
                                                 for name in ("big", "good", "deep")))
    settings = quick_settings()
    code = main(["batch", str(tmp_path / "jobs.jsonl"), "-o", str(tmp_path / "out"), "--iterations", "1", "--workers",
                 "1", "--threads", "1", "--patches", "1", "--device", "cpu", "--clip-model", settings["clip_model"],
                 "--clip-weights", settings["clip_weights"]])
    assert code == 1 and "2 of 3 jobs failed" in capsys.readouterr().err
    jobs = json.loads((tmp_path / "out" / "manifest.json").read_text())["jobs"]
    assert {name: job["state"] for name, job in jobs.items()} == {"big": "failed", "good": "done", "deep": "failed"}
    assert jobs["big"]["error"].startswith(f"{tmp_path / 'big.svg'}, edited at its canvas size: the estimated memory")
    assert "memory_bytes limit" in jobs["big"]["error"] and "group_depth limit" in jobs["deep"]["error"]
    assert all("\n" not in job["error"] for job in (jobs["big"], jobs["deep"]))  # one line each


@pytest.mark.parametrize("name", ["good.svg", "good.png"])
def test_a_batch_worker_checks_a_job_and_reads_its_input_once(tmp_path, monkeypatch, name):
    """The SVG the worker's check read, or the photo it decoded, is the one the job edits."""
    import clipvg.svg.reader as reader
    import vectorize.image_io as image_io
    from clipvg.batch.jobs import load_jobs
    from clipvg.batch.worker import execute
    from clipvg.image_out import save_png
    from clipvg.render.api import render_rgba8
    from edit_scenes import quick_settings, red_circle
    import clipvg

    path = tmp_path / name
    if name.endswith(".svg"):
        clipvg.save_svg(red_circle(32), path)
    else:
        save_png(render_rgba8(red_circle(32)), path)
    clip = {key: quick_settings()[key] for key in ("clip_model", "clip_weights")}
    [job] = load_jobs([{"input": str(path), "prompt": "a green circle", "iterations": 1, "patches": 1,
                        "device": "cpu", **clip}], tmp_path / "out")
    reads = []
    read, decode = reader._read_svg, image_io._open
    monkeypatch.setattr(reader, "_read_svg", lambda *args: reads.append(args[0]) or read(*args))
    monkeypatch.setattr(image_io, "_open", lambda source: reads.append(str(source)) or decode(source))
    outcome = execute(job.payload(tmp_path / "checkpoint"))
    assert outcome["state"] == "done" and reads == [str(path)]


def test_serve_answers_413_for_an_svg_too_big_to_edit_and_400_for_a_broken_one(tmp_path):
    from serve_helpers import make_app, require_modules, serve_client, tiny_svg, upload

    require_modules("starlette", "uvicorn", "httpx")
    from clipvg.limits import resource_limits

    with serve_client(make_app(tmp_path, limits=resource_limits().with_values({"render_pixels": 1000}))) as client:
        big = upload(client, TOO_BIG_TO_EDIT)
        assert big.status_code == 413 and big.json()["error"].startswith("the SVG, edited at its canvas size: the "
                                                                          "render size 5000x5000")
        small = upload(client, tiny_svg(40))  # 1600 px: over the server's own render_pixels limit, in its worker
        assert small.status_code == 413 and "render_pixels limit of 1,000" in small.json()["error"]
        assert upload(client, tiny_svg(30)).status_code == 201
        broken = upload(client, TOO_BIG_TO_EDIT.replace('width="5000"', 'width="1e309"'))
        assert broken.status_code == 400 and broken.json()["error"] == ("the SVG has an unusable canvas size 0.0 x "
                                                                        "5000.0; give the <svg> a positive width and "
                                                                        "height or a viewBox")


DEEP_JSON = "[" * 100_000 + "]" * 100_000  # nested past Python's recursion limit


def test_a_job_line_nested_too_deeply_fails_alone(tmp_path):
    (tmp_path / "in.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>')
    good = json.dumps({"input": "in.svg", "prompt": "a cat"})
    (tmp_path / "jobs.jsonl").write_text(f"{good}\n{{\"input\": {DEEP_JSON}}}\n{good}\n")
    jobs = load_jobs(tmp_path / "jobs.jsonl", tmp_path / "out")
    assert [job.error is None for job in jobs] == [True, False, True]
    assert "jobs.jsonl line 2: not JSON (arrays or objects nested too deeply" in jobs[1].error


def test_a_job_spec_or_manifest_nested_too_deeply_is_an_invalid_input_error(tmp_path):
    from clipvg.batch.manifest import FILENAME, Manifest
    from clipvg.edit import JobSpec
    from clipvg.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="the job spec is not JSON \\(arrays or objects nested too deeply"):
        JobSpec.from_json(DEEP_JSON.encode())
    (tmp_path / FILENAME).write_text(DEEP_JSON)
    with pytest.raises(InvalidInputError, match="nested too deeply.*move it away"):
        Manifest(tmp_path)


def test_serve_answers_400_for_a_request_body_nested_too_deeply(tmp_path):
    from serve_helpers import make_app, require_modules, serve_client, tiny_svg, upload

    require_modules("starlette", "uvicorn", "httpx")
    with serve_client(make_app(tmp_path)) as client:
        doc = upload(client, tiny_svg(24)).json()["document"]["id"]
        answer = client.post(f"/api/documents/{doc}/edits", content=("[" * 300_000 + "]" * 300_000).encode())
        assert answer.status_code == 400 and answer.json()["error"] == "the request body is not JSON"
