"""``clipvg batch --ray`` on a Ray instance started in the test (2 CPUs, no cluster), with the shapes
CLIP: the same results as ``clipvg edit``, with files shared or passed as bytes; bad jobs are
reported while the others finish; a rerun skips finished jobs; an interrupted batch resumes."""
from __future__ import annotations

import json
import os
import signal

import pytest

from clipvg.batch import BatchInterrupted, run
from test_batch_local import COMMON, clipvg_edit, make_inputs

ray = pytest.importorskip("ray", reason="the Ray executor needs pip install -e '.[ray]'")


@pytest.fixture(scope="module")
def ray_session():
    """One Ray instance for the module (it takes seconds to start)."""
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, num_gpus=0, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    if started:
        ray.shutdown()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return make_inputs(tmp_path_factory.mktemp("inputs"))


@pytest.fixture(scope="module")
def references(inputs, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("references")
    return {"disc": clipvg_edit(tmp, "disc", [inputs / "disc.png", "--prompt", "a green circle", "--seed", 5,
                                              "--iterations", 2]),
            "circle": clipvg_edit(tmp, "circle", [inputs / "circle.svg", "--prompt", "a blue circle", "--roi",
                                                  "10,10,20,20=a blue square", "--iterations", 2])}


def good_jobs(inputs):
    return [{"input": str(inputs / "disc.png"), "prompt": "a green circle", "seed": 5},
            {"input": str(inputs / "circle.svg"), "prompt": "a blue circle", "roi": ["10,10,20,20=a blue square"],
             "output": ["shapes/circle.svg"]}]


def test_ray_batch_equals_clipvg_edit_and_reruns_only_what_is_not_done(ray_session, inputs, references, tmp_path):
    out = tmp_path / "out"
    bad = {"input": str(inputs / "broken.png"), "prompt": "a cat"}
    summary = run(good_jobs(inputs) + [bad], out, executor="ray", workers=2, ray_files="shared", quiet=True,
                  iterations=2, **COMMON)
    assert summary.done == ["disc", "circle"] and summary.failed == ["broken"] and not summary.ok
    assert "cannot read image" in summary.records["broken"]["error"]
    assert summary.records["disc"]["worker"].startswith("ray-")
    assert (out / "disc.svg").read_text() == references["disc"]
    assert (out / "shapes" / "circle.svg").read_text() == references["circle"]
    before = json.loads((out / "manifest.json").read_text())["jobs"]

    again = run(good_jobs(inputs), out, executor="ray", quiet=True, iterations=2, **COMMON)
    assert again.ok and again.skipped == {"disc", "circle"}
    assert json.loads((out / "manifest.json").read_text())["jobs"] == before


def test_ray_batch_with_files_passed_as_bytes_resumes_after_ctrl_c(ray_session, inputs, references, tmp_path):
    out = tmp_path / "out"
    jobs = good_jobs(inputs) + [{"input": str(inputs / "broken.png"), "prompt": "a cat"}]

    def ctrl_c_when_one_is_done(job_id, record):
        if record["state"] == "done":
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(BatchInterrupted) as stopped:  # no new job starts, the running one finishes
        run(jobs, out, executor="ray", workers=1, ray_files="bytes", quiet=True, callback=ctrl_c_when_one_is_done,
            iterations=2, **COMMON)
    assert stopped.value.summary.done == ["disc"] and stopped.value.summary.pending == ["circle", "broken"]

    summary = run(jobs, out, executor="ray", workers=1, ray_files="bytes", quiet=True, iterations=2, **COMMON)
    assert summary.skipped == {"disc"} and summary.done == ["disc", "circle"] and summary.failed == ["broken"]
    assert str(inputs / "broken.png") in summary.records["broken"]["error"]  # the driver's path, not the worker's
    assert (out / "disc.svg").read_text() == references["disc"]
    assert (out / "shapes" / "circle.svg").read_text() == references["circle"]
    assert sorted(p.name for p in out.iterdir()) == [".batch.lock", "disc.svg", "manifest.json", "shapes"]


def test_nothing_listening_at_the_ray_address_fails_fast_with_exit_2(tmp_path):
    import socket
    import subprocess
    import sys
    import time

    from test_batch_local import CLI_COMMON

    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # closed again before Ray tries it
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text(json.dumps({"input": str(make_inputs(tmp_path / "in") / "circle.svg"), "prompt": "a cat"}) + "\n")
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "clipvg.cli", "batch", str(jobs), "-o", str(tmp_path / "out"),
                           "--ray-address", f"127.0.0.1:{port}", "--ray-timeout", "5", "--quiet", *CLI_COMMON],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.returncode == 2 and time.monotonic() - start < 60, done.stderr
    assert f"nothing answers at the Ray address 127.0.0.1:{port}" in done.stderr and "Traceback" not in done.stderr


def test_a_cluster_that_wants_a_token_says_which_to_set(monkeypatch):
    from clipvg.batch.ray_executor import RayConnectError, connect

    def refuse(**kwargs):
        raise ray.exceptions.AuthenticationError("Authentication failed: no token")

    monkeypatch.setattr(ray, "init", refuse)
    with pytest.raises(RayConnectError, match="RAY_AUTH_TOKEN"):
        connect(ray, None, timeout=5)


def test_a_hanging_connection_gives_up_after_the_timeout(monkeypatch):
    import threading

    from clipvg.batch.ray_executor import RayConnectError, connect

    release = threading.Event()
    monkeypatch.setattr(ray, "init", lambda **kwargs: release.wait(30))
    try:
        with pytest.raises(RayConnectError, match="did not answer within 0.5 s"):
            connect(ray, None, timeout=0.5)
    finally:
        release.set()
