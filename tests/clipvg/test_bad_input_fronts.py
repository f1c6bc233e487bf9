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
