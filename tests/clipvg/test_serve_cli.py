"""``clipvg serve`` on the command line: its options, the URL (and token) it prints, errors, and one
real start of the command in a subprocess."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from serve_helpers import require_modules, serve_client  # noqa: E402

require_modules("starlette", "uvicorn", "httpx")

import httpx  # noqa: E402
import uvicorn  # noqa: E402

from clipvg.cli import COMMANDS, build_parser, main  # noqa: E402


@pytest.fixture()
def started(monkeypatch):
    """Run ``clipvg serve`` up to the point where uvicorn would serve; returns what it would serve."""
    served = {}

    def fake_run(self, sockets=None):
        served["app"], served["port"] = self.config.app, sockets[0].getsockname()[1]

    monkeypatch.setattr(uvicorn.Server, "run", fake_run)
    return served


def test_serve_is_a_subcommand_with_the_edit_clip_options() -> None:
    assert "serve" in COMMANDS
    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.token) == ("127.0.0.1", 8765, None)
    assert (args.clip_model, args.clip_weights) == ("ViT-B-32", "openai")
    args = build_parser().parse_args(["serve", "--clip-weights", "none", "--device", "cpu", "--device", "cuda:1"])
    assert args.clip_weights is None and args.device == ["cpu", "cuda:1"]


def test_loopback_prints_a_url_without_token(started, tmp_path, capsys) -> None:
    assert main(["serve", "--port", "0", "--work-dir", str(tmp_path), "--device", "cpu", "--no-preload"]) == 0
    out = capsys.readouterr().out
    port = started["port"]
    assert f"    http://127.0.0.1:{port}/\n" in out and "token" not in out
    assert str(tmp_path) in out
    with serve_client(started["app"]) as client:
        assert client.get("/api/info").json()["devices"] == ["cpu"]


def test_other_hosts_get_a_generated_token(started, tmp_path, capsys) -> None:
    assert main(["serve", "--host", "0.0.0.0", "--port", "0", "--work-dir", str(tmp_path), "--device", "cpu",
                 "--no-preload", "--max-upload-bytes", "1048576", "--max-paths", "3", "--iterations", "7"]) == 0
    out = capsys.readouterr().out
    token = re.search(r"http://127\.0\.0\.1:\d+/\?token=([0-9a-f]{48})\n", out).group(1)
    assert f"http://{socket.gethostname()}:" in out and "generated" in out
    with serve_client(started["app"], base_url="http://10.1.2.3:8765") as client:
        assert client.get("/api/info").status_code == 401
        info = client.get("/api/info", headers={"authorization": f"Bearer {token}"}).json()
        assert info["max_upload_bytes"] == 1024 * 1024 and info["defaults"]["iterations"] == 7
    config = started["app"].state.service.config  # the limit flags reach the edits' job specs
    assert config.limits.paths == 3 and config.edit_settings().limits.paths == 3


def test_a_given_token_is_used(started, tmp_path, capsys) -> None:
    assert main(["serve", "--host", "0.0.0.0", "--port", "0", "--token", "abc", "--work-dir", str(tmp_path),
                 "--device", "cpu", "--no-preload"]) == 0
    out = capsys.readouterr().out
    assert "/?token=abc\n" in out and "generated" not in out


def test_errors_are_one_line(tmp_path, capsys) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", "--port", str(port), "--work-dir", str(tmp_path), "--device", "cpu"]) == 2
    assert "cannot listen on 127.0.0.1" in capsys.readouterr().err
    assert main(["serve", "--keep-days", "-1", "--work-dir", str(tmp_path)]) == 2
    assert main(["serve", "--host", "0.0.0.0", "--token", " ", "--work-dir", str(tmp_path)]) == 2
    assert "token" in capsys.readouterr().err


def test_the_command_serves_until_ctrl_c(tmp_path) -> None:
    clipvg = Path(sys.executable).with_name("clipvg")
    command = [str(clipvg)] if clipvg.is_file() else [sys.executable, "-c", "import sys; from clipvg.cli import main; "
                                                                              "sys.exit(main())"]
    process = subprocess.Popen(command + ["serve", "--port", "0", "--work-dir", str(tmp_path), "--device", "cpu",
                                          "--no-preload"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert process.stdout.readline().startswith("clipvg serve: the editor is running at")
        url = process.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url)
        assert httpx.get(url + "api/info", timeout=30).json()["model"]["status"] == "not loaded"
        assert "<title>clipvg editor</title>" in httpx.get(url, timeout=30).text
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "stopped" in err


def test_checkpoint_and_expiry_options(started, tmp_path, capsys) -> None:
    assert main(["serve", "--port", "0", "--work-dir", str(tmp_path), "--device", "cpu", "--no-preload",
                 "--checkpoint-steps", "5", "--checkpoint-seconds", "0", "--keep-days", "2.5",
                 "--worker-threads", "3"]) == 0
    assert "documents kept 2.5 days" in capsys.readouterr().out
    config = started["app"].state.config
    assert (config.checkpoint_steps, config.checkpoint_seconds, config.keep_days) == (5, None, 2.5)
    assert config.worker_threads == 3
    assert main(["serve", "--worker-threads", "0", "--work-dir", str(tmp_path)]) == 2
    assert "worker threads" in capsys.readouterr().err
    assert main(["serve", "--keep-days", "-1", "--work-dir", str(tmp_path)]) == 2
    assert "--keep-days" in capsys.readouterr().err
