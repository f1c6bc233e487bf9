"""A crash loses no work: a real ``clipvg serve`` process is killed with SIGKILL in the middle of an
edit (it writes a checkpoint after every step), started again on the same work directory, reports
the edit as interrupted at the step of its last checkpoint, and resumes it to exactly the result of
an uninterrupted run with the same seed."""
from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from serve_helpers import edit_request, require_modules, serve_process, tiny_svg, wait_job  # noqa: E402

require_modules("starlette", "uvicorn", "httpx")

import httpx  # noqa: E402

STEPS = 30


def test_kill_9_mid_edit_then_resume_gives_the_uninterrupted_result(tmp_path) -> None:
    work = tmp_path / "work"
    request = edit_request(iterations=STEPS, seed=7)
    with serve_process(work) as (process, url), httpx.Client(base_url=url, timeout=60) as client:
        doc = client.post("/api/documents", params={"name": "tiny.svg"}, content=tiny_svg().encode()).json()
        doc = doc["document"]["id"]
        job = client.post(f"/api/documents/{doc}/edits", json=request).json()
        running = wait_job(client, job["id"], until=lambda s: (s["checkpoint_step"] or 0) >= 2)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)
    assert running["status"] == "running", "the edit ended before the kill; make it longer"

    with serve_process(work) as (_, url), httpx.Client(base_url=url, timeout=60) as client:
        state = client.get(f"/api/documents/{doc}").json()["job"]
        step = state["step"]
        assert state["id"] == job["id"] and state["status"] == "interrupted"
        assert 2 <= step < STEPS and state["total"] == STEPS
        assert f"at step {step} of {STEPS}" in state["message"]
        assert client.get(f"/api/jobs/{job['id']}").json()["status"] == "interrupted"  # an open tab's stream finds it

        resumed = client.post(f"/api/jobs/{job['id']}/resume")
        assert resumed.status_code == 202 and resumed.json()["id"] == job["id"]
        assert wait_job(client, job["id"])["status"] == "finished"
        again = client.post(f"/api/jobs/{job['id']}/resume")
        assert again.status_code == 400 and "not interrupted" in again.json()["error"]

        reference = client.post(f"/api/documents/{doc}/edits", json=request).json()  # the same edit, not cut short
        assert wait_job(client, reference["id"])["status"] == "finished"
        first, second = client.get(f"/api/documents/{doc}").json()["versions"][1:]
        assert first["steps"] == second["steps"] == STEPS
        assert first["losses"] == second["losses"]
        assert client.get(f"/api/documents/{doc}/versions/1/svg").text == \
            client.get(f"/api/documents/{doc}/versions/2/svg").text
