"""``clipvg serve`` over HTTP: every endpoint, the edit queue, live events, stop/continue, history and
downloads, with the project's small shapes CLIP on a 32 px canvas (a few steps per edit)."""
from __future__ import annotations

import io
import json
import sys
import zipfile
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from serve_faults import FAULTY_SEED  # noqa: E402
from svg_renderers import cairosvg_module  # noqa: E402
from serve_helpers import (edit_request, make_app, require_modules, serve_client, tiny_png, tiny_svg,  # noqa: E402
                           upload, wait_job)

require_modules("starlette", "uvicorn", "httpx")

import clipvg  # noqa: E402


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("serve-work")


@pytest.fixture(scope="module")
def client(work_dir):
    with serve_client(make_app(work_dir)) as client:
        yield client


@pytest.fixture()
def doc(client) -> str:
    answer = upload(client, tiny_svg(), "tiny.svg")
    assert answer.status_code == 201, answer.text
    return answer.json()["document"]["id"]


def read_events(client, job_id: str) -> list[tuple[str, dict]]:
    """All server-sent events of a job, until its ``end`` event."""
    events, name = [], None
    with client.stream("GET", f"/api/jobs/{job_id}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                events.append((name, json.loads(line[6:])))
                if name == "end":
                    break
    return events


def test_page_and_static_files(client) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script src="/static/app.js"' in page.text and 'id="overlay"' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    for name, kind in (("app.js", "javascript"), ("style.css", "text/css")):
        answer = client.get(f"/static/{name}")
        assert answer.status_code == 200 and kind in answer.headers["content-type"]
    assert client.get("/static/missing.js").status_code == 404


def test_info(client) -> None:
    info = client.get("/api/info").json()
    assert info["devices"] == ["cpu"]
    assert info["clip_model"].endswith("shapes_clip.json")
    assert info["max_upload_bytes"] == 25 * 1024 * 1024
    assert info["defaults"]["iterations"] == 3 and info["defaults"]["rounds"] == "10,30"
    assert "house" in [e["name"] for e in info["examples"]]
    assert set(info["queue"]) == {"running", "waiting"}


def test_upload_svg_gives_clipvgs_own_svg(client, doc) -> None:
    document = client.get(f"/api/documents/{doc}").json()
    assert (document["width"], document["height"]) == (32, 32)
    [source] = document["versions"]
    assert source["kind"] == "source" and source["paths"] == 3
    assert source["layers"] == ["background", "circle", "square"]
    svg = client.get(f"/api/documents/{doc}/versions/0/svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert "sandbox" in svg.headers["content-security-policy"]
    assert 'inkscape:label="circle"' in svg.text and "<circle" not in svg.text  # re-written as paths
    assert clipvg.load_svg(svg.text).num_paths == 3


def test_upload_photo_is_vectorized_in_a_job(client) -> None:
    answer = upload(client, tiny_png(), "photo.png", rounds="2", max_size="24")
    assert answer.status_code == 201, answer.text
    document, job = answer.json()["document"], answer.json()["job"]
    assert document["versions"] == [] and job["kind"] == "vectorize"
    assert wait_job(client, job["id"])["status"] == "finished"
    document = client.get(f"/api/documents/{document['id']}").json()
    assert document["versions"][0]["layers"] == ["round-1-2colors"]
    assert (document["width"], document["height"]) == (24, 24)


def test_open_example(client) -> None:
    answer = client.post("/api/examples/house")
    assert answer.status_code == 201
    assert answer.json()["document"]["versions"][0]["layers"] == ["sky", "ground", "house", "tree"]
    assert client.post("/api/examples/nothing").status_code == 404


def test_edit_streams_progress_and_svg_then_keeps_a_version(client, doc) -> None:
    answer = client.post(f"/api/documents/{doc}/edits", json=edit_request(iterations=3))
    assert answer.status_code == 202, answer.text
    job = answer.json()
    assert job["status"] in ("queued", "running") and job["kind"] == "edit"
    events = read_events(client, job["id"])
    states = [data for name, data in events if name == "state"]
    previews = [data for name, data in events if name == "svg"]
    assert events[-1] == ("end", {"status": "finished"})
    assert states[-1]["status"] == "finished" and states[-1]["step"] == 3 and states[-1]["version"] == 1
    losses = [loss for state in states for loss in state["losses"]]
    assert len(losses) == 3  # each loss sent once
    assert previews and clipvg.load_svg(previews[-1]["svg"]).num_paths == 3
    version = client.get(f"/api/documents/{doc}").json()["versions"][1]
    assert version["status"] == "finished" and version["steps"] == 3 and version["parent"] == 0
    assert version["checkpoint"] and version["losses"] == pytest.approx(losses)
    before = clipvg.load_svg(client.get(f"/api/documents/{doc}/versions/0/svg").text)
    after = clipvg.load_svg(client.get(f"/api/documents/{doc}/versions/1/svg").text)
    assert not torch.equal(before.points, after.points) or not torch.equal(before.fill_color, after.fill_color)


def test_stop_keeps_the_result_and_continue_resumes(client, doc) -> None:
    job = client.post(f"/api/documents/{doc}/edits", json=edit_request(iterations=1000)).json()
    wait_job(client, job["id"], until=lambda s: s["step"] >= 1)
    assert client.post(f"/api/jobs/{job['id']}/stop").status_code == 200
    stopped = wait_job(client, job["id"])
    assert stopped["status"] == "stopped" and 1 <= stopped["step"] < 1000 and stopped["version"] == 1
    first = client.get(f"/api/documents/{doc}").json()["versions"][1]
    assert first["status"] == "stopped" and first["steps"] == stopped["step"]

    again = client.post(f"/api/documents/{doc}/versions/1/continue", json={}).json()
    wait_job(client, again["id"], until=lambda s: s["step"] > first["steps"])
    client.post(f"/api/jobs/{again['id']}/stop")
    resumed = wait_job(client, again["id"])
    assert resumed["status"] == "stopped" and resumed["total"] == 1000
    second = client.get(f"/api/documents/{doc}").json()["versions"][2]
    assert second["parent"] == 1 and second["continued"] and second["steps"] > first["steps"]
    assert second["losses"][:first["steps"]] == first["losses"]  # the optimizer state went on


def test_continue_a_finished_edit_adds_steps(client, doc) -> None:
    job = client.post(f"/api/documents/{doc}/edits", json=edit_request(iterations=1)).json()
    assert wait_job(client, job["id"])["status"] == "finished"
    more = client.post(f"/api/documents/{doc}/versions/1/continue", json={"iterations": 1}).json()
    state = wait_job(client, more["id"])
    assert state["status"] == "finished" and state["step"] == 2 and state["total"] == 2
    assert client.post(f"/api/documents/{doc}/versions/0/continue", json={}).status_code == 400  # not an edit


def test_edit_on_from_an_older_version(client, doc) -> None:
    first = client.post(f"/api/documents/{doc}/edits", json=edit_request(iterations=1)).json()
    wait_job(client, first["id"])
    second = client.post(f"/api/documents/{doc}/edits", json=edit_request(version=0, iterations=1,
                                                                          prompt="a red square")).json()
    assert wait_job(client, second["id"])["version"] == 2
    assert client.get(f"/api/documents/{doc}").json()["versions"][2]["parent"] == 0


def test_queue_places_and_cancel(client) -> None:
    docs = [upload(client, tiny_svg(), f"q{i}.svg").json()["document"]["id"] for i in range(3)]
    running = client.post(f"/api/documents/{docs[0]}/edits", json=edit_request(iterations=1000)).json()
    wait_job(client, running["id"], until=lambda s: s["status"] == "running")
    second = client.post(f"/api/documents/{docs[1]}/edits", json=edit_request()).json()
    third = client.post(f"/api/documents/{docs[2]}/edits", json=edit_request()).json()
    assert (second["position"], third["position"]) == (1, 2)
    assert client.get("/api/info").json()["queue"] == {"running": 1, "waiting": 2}
    busy = client.post(f"/api/documents/{docs[1]}/edits", json=edit_request())
    assert busy.status_code == 400 and "already" in busy.json()["error"]

    cancelled = client.post(f"/api/jobs/{second['id']}/stop").json()
    assert cancelled["status"] == "cancelled"
    assert client.get(f"/api/jobs/{third['id']}").json()["position"] == 1
    assert read_events(client, second["id"])[-1] == ("end", {"status": "cancelled"})
    client.post(f"/api/jobs/{third['id']}/stop")
    client.post(f"/api/jobs/{running['id']}/stop")
    assert wait_job(client, running["id"])["status"] == "stopped"
    assert client.get(f"/api/documents/{docs[1]}").json()["versions"][-1]["index"] == 0  # nothing added


def test_downloads(client, doc) -> None:
    base = f"/api/documents/{doc}/versions/0"
    svg = client.get(f"{base}/svg")
    assert svg.headers["content-disposition"] == 'attachment; filename="tiny-v0.svg"'
    png = client.get(f"{base}/png")
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"{base}/zip").content))
    assert sorted(archive.namelist()) == ["00_background.png", "00_background.svg", "01_circle.png",
                                          "01_circle.svg", "02_square.png", "02_square.svg"]
    assert client.get(f"{base}/png").content == png.content  # made once, then kept
    assert client.get(f"{base}/gif").status_code == 404
    assert client.get(f"/api/documents/{doc}/versions/7/svg").status_code == 404


def test_pdf_download(client, doc) -> None:
    cairosvg_module()
    pdf = client.get(f"/api/documents/{doc}/versions/0/pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_pdf_download_without_cairo_says_why(tmp_path, monkeypatch) -> None:
    """Where libcairo is missing (cairosvg fails to import in the workers), a PDF is answered 4xx with the reason."""
    fake = tmp_path / "no-cairo" / "cairosvg"
    fake.mkdir(parents=True)
    fake.joinpath("__init__.py").write_text("raise OSError(\"no library called 'cairo-2' was found\")\n")
    monkeypatch.syspath_prepend(fake.parent)  # the spawned workers start with this process's sys.path
    with serve_client(make_app(tmp_path / "work")) as client:
        doc = upload(client, tiny_svg(), "tiny.svg").json()["document"]["id"]
        answer = client.get(f"/api/documents/{doc}/versions/0/pdf")
        assert 400 <= answer.status_code < 500 and "libcairo2" in answer.text
        assert client.get(f"/api/documents/{doc}/versions/0/png").status_code == 200


@pytest.mark.parametrize("change, message", [
    (dict(prompt="", rois=[]), "prompt"),
    (dict(rois=[{"x": 100, "y": 100, "w": 5, "h": 5, "prompt": "x"}]), "outside"),
    (dict(rois=[{"x": 1, "y": 1, "w": 5, "h": 5, "prompt": " "}]), "no prompt"),
    (dict(rois=[{"x": 1, "y": 1}]), "ROI 1"),
    (dict(iterations=0), "iterations"),
    (dict(patches=-1), "patches"),
    (dict(seed="x"), "seed"),
    (dict(change="everything"), "change"),
    (dict(version=5), "version"),
    (dict(region_only=True, rois=[]), "box"),
])
def test_bad_edit_requests_answer_400(client, doc, change, message) -> None:
    answer = client.post(f"/api/documents/{doc}/edits", json=edit_request(**change))
    assert answer.status_code == 400 and message in answer.json()["error"]


def test_bad_requests(client, doc) -> None:
    answer = client.post(f"/api/documents/{doc}/edits", content=b"not json")
    assert answer.status_code == 400 and "JSON" in answer.json()["error"]
    assert client.post(f"/api/documents/{doc}/edits", json=[1]).status_code == 400
    assert client.get("/api/documents/0123456789abcdef0123456789abcdef").status_code == 404
    assert client.get("/api/jobs/nope").status_code == 404
    assert client.get("/api/jobs/nope/events").status_code == 404
    assert client.post("/api/jobs/nope/stop").status_code == 404
    assert client.get("/api/nothing").status_code == 404
    assert upload(client, b"").status_code == 400


def test_delete_document(client) -> None:
    doc = upload(client, tiny_svg(), "gone.svg").json()["document"]["id"]
    assert client.delete(f"/api/documents/{doc}").status_code == 200
    assert client.get(f"/api/documents/{doc}").status_code == 404


def test_results_survive_a_disconnect_and_a_restart(client, doc, work_dir) -> None:
    job = client.post(f"/api/documents/{doc}/edits", json=edit_request(iterations=2)).json()
    with client.stream("GET", f"/api/jobs/{job['id']}/events") as stream:
        next(stream.iter_lines())  # the browser goes away after the first line
    assert wait_job(client, job["id"])["status"] == "finished"
    with serve_client(make_app(work_dir)) as other:  # a new server process on the same work directory
        versions = other.get(f"/api/documents/{doc}").json()["versions"]
        assert [v["steps"] for v in versions[1:]] == [2]
        assert other.get(f"/api/documents/{doc}/versions/1/svg").status_code == 200


def test_missing_clip_weights_show_as_a_message(tmp_path) -> None:
    with serve_client(make_app(tmp_path, clip_weights=str(tmp_path / "missing.pt"))) as client:
        doc = upload(client, tiny_svg()).json()["document"]["id"]
        job = client.post(f"/api/documents/{doc}/edits", json=edit_request()).json()
        state = wait_job(client, job["id"])
        assert state["status"] == "failed" and "cannot load the CLIP model" in state["message"]
        info = client.get("/api/info").json()  # the server keeps running
        assert info["model"]["status"] == "failed"
        assert client.get(f"/api/documents/{doc}").json()["versions"][-1]["index"] == 0


def test_out_of_memory_is_reported_and_the_next_edit_runs(tmp_path) -> None:
    from clipvg.edit.memory import ADVICE

    # Editor.step raises CUDA's out-of-memory error in its second step, inside the worker process
    with serve_client(make_app(tmp_path, worker_init="serve_faults:out_of_memory_after_first_step")) as client:
        doc = upload(client, tiny_svg()).json()["document"]["id"]
        job = client.post(f"/api/documents/{doc}/edits", json=edit_request(iterations=5, seed=FAULTY_SEED)).json()
        state = wait_job(client, job["id"])
        assert state["status"] == "failed" and "out of memory" in state["message"]
        assert ADVICE in state["message"]  # the advice the CLI and batch give
        again = client.post(f"/api/documents/{doc}/edits", json=edit_request(iterations=1)).json()
        assert wait_job(client, again["id"])["status"] == "finished"


def test_one_model_load_per_process(client, doc) -> None:
    job = client.post(f"/api/documents/{doc}/edits", json=edit_request(iterations=1)).json()
    wait_job(client, job["id"])
    assert client.app.state.service.models.loads == 1
