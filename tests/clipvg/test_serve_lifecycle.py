"""What happens to documents and jobs over a server's life: a photo is in the work directory (and
the page's address) from its upload on, is vectorized again after a restart, and leaves nothing
when it fails or is cancelled; queued jobs hold no decoded image; an edit checkpoints as it runs, is
interrupted by a restart and resumes; the server process holds no editor (edits run in worker
processes); old documents expire.
Restarts here are a new ``Service`` on the same work directory (``test_serve_recovery`` kills a
real process)."""
from __future__ import annotations

import gc
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from serve_helpers import (edit_request, make_app, require_modules, serve_client, shapes_config,  # noqa: E402
                           tiny_png, tiny_svg, upload, wait_job)

require_modules("starlette", "uvicorn", "httpx")

from PIL import Image  # noqa: E402

from clipvg.edit import Editor, inspect_checkpoint  # noqa: E402
from clipvg.serve import Service  # noqa: E402
from clipvg.serve.service import DAY  # noqa: E402


def alive(kind: type) -> int:
    """How many objects of ``kind`` are alive after a full collection."""
    gc.collect()
    return sum(issubclass(type(o), kind) for o in gc.get_objects())


def stopped_service(work_dir: Path, **overrides) -> Service:
    """A Service whose queues never start: what it queues stays queued, as at a crash."""
    return Service(shapes_config(work_dir, **overrides))


def test_a_photo_being_vectorized_is_kept_through_a_restart(tmp_path) -> None:
    images = alive(Image.Image)
    before = stopped_service(tmp_path)
    document, job = before.open_upload(tiny_png(), "photo.png", rounds="2", max_size="24")
    assert job.status == "queued" and document["versions"] == []
    assert before.store.upload_file(document["id"]).read_bytes() == tiny_png()  # kept undecoded
    assert alive(Image.Image) == images
    with serve_client(make_app(tmp_path)) as client:  # a new process on the same work directory
        assert client.get(f"/api/documents/{document['id']}").json()["job"]["id"] == job.id
        assert wait_job(client, job.id)["status"] == "finished"
        versions = client.get(f"/api/documents/{document['id']}").json()["versions"]
        assert versions[0]["layers"] == ["round-1-2colors"]
        assert not before.store.upload_file(document["id"]).exists()


@pytest.mark.parametrize("kind", ["PNG", "JPEG"])
def test_an_uploaded_photo_is_decoded_once_by_its_vectorize_task(tmp_path, monkeypatch, kind) -> None:
    """The server's check of an upload reads the header (and a PNG's checksums) and decompresses nothing; the
    queued job holds the file, and the vectorize task decodes it once."""
    import io

    from PIL import ImageFile

    from clipvg.serve.tasks import vectorize_photo

    buffer = io.BytesIO()
    Image.open(io.BytesIO(tiny_png(32))).save(buffer, kind)
    decoded = []
    load = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda image: (image.tile and decoded.append(image.format)) or
                        load(image))  # counted when pixels are still to decode (a loaded image has no tiles)
    service = stopped_service(tmp_path)
    document, job = service.open_upload(buffer.getvalue(), "photo", rounds="2", max_size="24")
    assert decoded == [] and job.status == "queued"
    out = tmp_path / "vectorized.svg"
    shape = vectorize_photo({"path": str(service.store.upload_file(document["id"])), "rounds": [2], "max_size": 24,
                             "max_pixels": service.config.max_pixels, "out": str(out)}, print, lambda: False)
    assert decoded == [kind] and shape["layers"] == ["round-1-2colors"] and out.is_file()


def test_cancelled_and_failed_photos_leave_no_document(tmp_path) -> None:
    images = alive(Image.Image)
    service = stopped_service(tmp_path)
    jobs = [service.open_upload(tiny_png(24 + i), f"p{i}.png")[1] for i in range(3)]
    assert len(service.store.ids()) == 3
    for job in jobs:
        assert service.stop(job.id).status == "cancelled"
    assert service.store.ids() == [] and alive(Image.Image) == images

    document, job = service.open_upload(tiny_png(), "photo.png", rounds="2", max_size="24")
    service.store.upload_file(document["id"]).write_bytes(b"\x89PNG\r\n\x1a\nbroken")  # the disk lost it
    with serve_client(make_app(tmp_path)) as client:
        doc = document["id"]
        state = wait_job(client, job.id)
        assert state["status"] == "failed" and "cannot vectorize" in state["message"]
        assert client.get(f"/api/documents/{doc}").status_code == 404


def test_empty_documents_are_removed_at_start(tmp_path) -> None:
    empty = stopped_service(tmp_path).store.create("left over", "photo")
    with serve_client(make_app(tmp_path)) as client:
        assert client.get(f"/api/documents/{empty['id']}").status_code == 404


def test_an_edit_cut_short_is_interrupted_and_resumes(tmp_path) -> None:
    before = stopped_service(tmp_path)
    doc = before.open_upload(tiny_svg().encode(), "tiny.svg")[0]["id"]
    job = before.start_edit(doc, edit_request(iterations=2))
    with serve_client(make_app(tmp_path)) as client:
        state = client.get(f"/api/documents/{doc}").json()["job"]
        assert (state["id"], state["status"], state["step"], state["total"]) == (job.id, "interrupted", 0, 2)
        assert "at step 0 of 2" in state["message"]
        assert client.post(f"/api/jobs/{job.id}/resume").status_code == 202
        assert wait_job(client, job.id)["status"] == "finished"
        assert client.get(f"/api/documents/{doc}").json()["versions"][1]["steps"] == 2
    with serve_client(make_app(tmp_path)) as client:  # a finished job is not picked up again
        assert client.get(f"/api/documents/{doc}").json()["job"] is None


def test_a_new_edit_replaces_an_interrupted_one(tmp_path) -> None:
    before = stopped_service(tmp_path)
    doc = before.open_upload(tiny_svg().encode(), "tiny.svg")[0]["id"]
    old = before.start_edit(doc, edit_request(iterations=2))
    with serve_client(make_app(tmp_path)) as client:
        new = client.post(f"/api/documents/{doc}/edits", json=edit_request(iterations=1)).json()
        assert wait_job(client, new["id"])["status"] == "finished"
        answer = client.post(f"/api/jobs/{old.id}/resume")
        assert answer.status_code == 400 and "replaced" in answer.json()["error"]


def test_a_running_edit_writes_its_checkpoint_as_it_goes(tmp_path) -> None:
    with serve_client(make_app(tmp_path, checkpoint_steps=2)) as client:
        doc = upload(client, tiny_svg()).json()["document"]["id"]
        job = client.post(f"/api/documents/{doc}/edits", json=edit_request(iterations=1000)).json()
        state = wait_job(client, job["id"], until=lambda s: (s["checkpoint_step"] or 0) >= 4)
        saved = inspect_checkpoint(client.app.state.service.store.job_dir(doc, job["id"]))
        assert saved.step >= 4 and saved.step % 2 == 0 and state["status"] == "running"
        # the edit runs on while the test reads: the checkpoint may be newer than the polled state
        assert len(saved.losses) == saved.step
        shared = min(saved.step, len(state["losses"]))
        assert shared >= 4 and saved.losses[:shared] == pytest.approx(state["losses"][:shared])
        client.post(f"/api/jobs/{job['id']}/stop")
        assert wait_job(client, job["id"])["status"] == "stopped"


def test_region_prompts_alone_are_an_edit(tmp_path) -> None:
    with serve_client(make_app(tmp_path)) as client:
        doc = upload(client, tiny_svg()).json()["document"]["id"]
        answer = client.post(f"/api/documents/{doc}/edits", json=edit_request(prompt="", iterations=2))
        assert answer.status_code == 202, answer.text
        assert wait_job(client, answer.json()["id"])["status"] == "finished"
        version = client.get(f"/api/documents/{doc}").json()["versions"][1]
        assert version["title"] == "a green square" and version["options"]["prompt"] == ""
        before, after = (client.get(f"/api/documents/{doc}/versions/{v}/svg").text for v in (0, 1))
        assert before != after


def test_the_server_process_never_holds_an_editor(tmp_path) -> None:
    images = alive(Image.Image)
    with serve_client(make_app(tmp_path)) as client:  # the edits run in a worker process
        doc = upload(client, tiny_svg()).json()["document"]["id"]
        job = client.post(f"/api/documents/{doc}/edits", json=edit_request(iterations=1000)).json()
        wait_job(client, job["id"], until=lambda s: s["step"] >= 1)
        assert alive(Editor) == 0 and alive(Image.Image) == images
        client.post(f"/api/jobs/{job['id']}/stop")
        assert wait_job(client, job["id"])["status"] == "stopped"
        assert alive(Editor) == 0


def test_old_documents_expire(tmp_path) -> None:
    with serve_client(make_app(tmp_path, keep_days=2)) as client:
        service = client.app.state.service
        idle = upload(client, tiny_svg()).json()["document"]["id"]
        busy = upload(client, tiny_svg()).json()["document"]["id"]
        job = client.post(f"/api/documents/{busy}/edits", json=edit_request(iterations=1000)).json()
        document = client.get(f"/api/documents/{idle}").json()
        assert document["expires"] == pytest.approx(document["updated"] + 2 * DAY)
        assert client.get("/api/info").json()["keep_days"] == 2
        assert service.expire(now=time.time() + DAY) == []
        assert service.expire(now=time.time() + 3 * DAY) == [idle]  # not the one being edited
        assert client.get(f"/api/documents/{idle}").status_code == 404
        client.post(f"/api/jobs/{job['id']}/stop")
        wait_job(client, job["id"])
    with serve_client(make_app(tmp_path, keep_days=0)) as client:  # 0 keeps them for ever
        assert client.app.state.service.expire(now=time.time() + 1000 * DAY) == []
