"""``clipvg serve``'s worker processes: an edit whose worker dies (killed at the real call site,
``Editor.step``) is interrupted at its last checkpoint, resumes in a new worker and finishes; stop
reaches the edit in its worker, which then takes the next job; the event loop answers while an edit
computes; the worker settings."""
from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from serve_faults import CRASH_STEP, FAULTY_SEED, MARKER  # noqa: E402
from serve_helpers import (edit_request, live_server, make_app, require_modules, serve_client,  # noqa: E402
                           shapes_config, tiny_svg, upload, wait_job)

require_modules("starlette", "uvicorn", "httpx")

import httpx  # noqa: E402

from clipvg.errors import InvalidInputError  # noqa: E402
from clipvg.serve.workers import default_threads  # noqa: E402

STEPS = 6


def test_a_worker_that_dies_mid_edit_leaves_it_interrupted_and_resumable(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(MARKER, str(tmp_path / "crashed"))
    app = make_app(tmp_path / "work", worker_init="serve_faults:crash_at_step", checkpoint_steps=1)
    with serve_client(app) as client:
        doc = upload(client, tiny_svg()).json()["document"]["id"]
        job = client.post(f"/api/documents/{doc}/edits", json=edit_request(iterations=STEPS, seed=FAULTY_SEED)).json()
        state = wait_job(client, job["id"], until=lambda s: s["status"] not in ("queued", "running"))
        assert (tmp_path / "crashed").exists()  # the worker was killed inside Editor.step
        assert state["status"] == "interrupted" and (state["step"], state["total"]) == (CRASH_STEP, STEPS)
        assert f"at step {CRASH_STEP} of {STEPS}" in state["message"] and "exit code -9" in state["message"]
        document = client.get(f"/api/documents/{doc}").json()
        assert document["job"]["status"] == "interrupted" and len(document["versions"]) == 1

        assert client.post(f"/api/jobs/{job['id']}/resume").status_code == 202
        assert wait_job(client, job["id"])["status"] == "finished"
        version = client.get(f"/api/documents/{doc}").json()["versions"][1]
        assert version["steps"] == STEPS and len(version["losses"]) == STEPS
        assert app.state.service.edit_workers["cpu"].starts == 2  # a new worker took the resumed edit


def test_stop_reaches_the_edit_in_its_worker(tmp_path) -> None:
    app = make_app(tmp_path)
    with serve_client(app) as client:
        worker = app.state.service.edit_workers["cpu"]
        doc = upload(client, tiny_svg()).json()["document"]["id"]
        job = client.post(f"/api/documents/{doc}/edits", json=edit_request(iterations=5000)).json()
        running = wait_job(client, job["id"], until=lambda s: s["step"] >= 2)
        pid = worker.pid
        client.post(f"/api/jobs/{job['id']}/stop")
        stopped = wait_job(client, job["id"], timeout=60)
        assert running["status"] == "running" and stopped["status"] == "stopped"
        assert 2 <= stopped["step"] < 5000
        version = client.get(f"/api/documents/{doc}").json()["versions"][1]
        assert version["status"] == "stopped" and version["steps"] == stopped["step"]
        again = client.post(f"/api/documents/{doc}/edits", json=edit_request(iterations=1)).json()
        assert wait_job(client, again["id"])["status"] == "finished"
        assert worker.pid == pid and worker.starts == 1  # the same process, free for the next job


def test_the_event_loop_answers_while_an_edit_runs(tmp_path) -> None:
    with live_server(make_app(tmp_path)) as url, httpx.Client(base_url=url, timeout=60) as client:
        doc = client.post("/api/documents", params={"name": "tiny.svg"}, content=tiny_svg().encode()).json()
        job = client.post(f"/api/documents/{doc['document']['id']}/edits", json=edit_request(iterations=5000)).json()
        first = wait_job(client, job["id"], until=lambda s: s["step"] >= 1)
        answers = []

        def ask(number: int) -> None:
            with httpx.Client(base_url=url, timeout=60) as own:
                answers.append((number, own.get("/api/info")))

        for start in range(0, 24, 8):  # 8 clients at once, three times over
            askers = [threading.Thread(target=ask, args=(n,)) for n in range(start, start + 8)]
            for asker in askers:
                asker.start()
            for asker in askers:
                asker.join(60)
        ordered = [client.get("/api/info").json()["queue"]["running"] for _ in range(10)]  # one connection
        # the edit went on meanwhile (waited for: a step may take seconds on a loaded machine)
        last = wait_job(client, job["id"], until=lambda s: s["step"] > first["step"] or s["status"] != "running")
        client.post(f"/api/jobs/{job['id']}/stop")
        wait_job(client, job["id"])
    assert sorted(n for n, _ in answers) == list(range(24))
    assert all(a.status_code == 200 and a.json()["queue"]["running"] == 1 for _, a in answers)
    assert ordered == [1] * 10 and last["status"] == "running" and last["step"] > first["step"]


def test_worker_threads_setting(tmp_path) -> None:
    assert shapes_config(tmp_path).worker_threads == default_threads() >= 1
    assert shapes_config(tmp_path, worker_threads=2).worker_threads == 2
    with pytest.raises(InvalidInputError, match="worker threads"):
        shapes_config(tmp_path, worker_threads=0)
