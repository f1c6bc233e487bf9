"""Offline machines: weights that are neither cached nor downloadable fail fast with the ways forward."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from huggingface_hub import constants

import losses
from losses import hub
from losses.clip_model import load_clip

ROOT = Path(__file__).resolve().parents[2]


def _assert_ways_forward(message: str) -> None:
    assert "--clip-weights FILE" in message and "--quick" in message
    model, weights = losses.shapes_clip_paths()
    assert model in message and weights in message


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HOME", str(tmp_path))  # open_clip's URL cache, ~/.cache/clip
    return tmp_path


def test_hf_hub_offline_fails_within_5_s_naming_the_ways_forward(empty_cache, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hub, "hub_reachable", lambda: pytest.fail("the hub must not be tried when offline"))
    started = time.perf_counter()
    with pytest.raises(losses.WeightsUnavailableError, match="HF_HUB_OFFLINE is set") as info:
        load_clip("ViT-B-32", "openai", device="cpu")
    assert time.perf_counter() - started < 5
    assert "\n" not in str(info.value)
    _assert_ways_forward(str(info.value))


def test_unreachable_hub_fails_within_5_s(empty_cache, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "https://hub.invalid")  # a name that never resolves
    started = time.perf_counter()
    with pytest.raises(losses.WeightsUnavailableError, match="cannot be reached") as info:
        load_clip("ViT-B-32", "openai", device="cpu")
    assert time.perf_counter() - started < 5
    _assert_ways_forward(str(info.value))


def test_cached_weights_are_found_without_the_hub(empty_cache):
    assert not hub.weights_cached("ViT-B-32", "openai")
    snapshot = Path(constants.HF_HUB_CACHE) / "models--timm--vit_base_patch32_clip_224.openai"
    (snapshot / "refs").mkdir(parents=True)
    (snapshot / "refs" / "main").write_text("abc")
    (snapshot / "snapshots" / "abc").mkdir(parents=True)
    (snapshot / "snapshots" / "abc" / "open_clip_model.safetensors").write_bytes(b"0")
    assert hub.weights_cached("ViT-B-32", "openai")


def test_cli_prints_one_error_line_and_exits_non_zero(tmp_path):
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf"), HOME=str(tmp_path))
    done = subprocess.run([sys.executable, "-m", "clipvg.cli", "edit", "examples/data/astronaut.png",
                           "-o", str(tmp_path / "out.svg"), "--prompt", "a red astronaut", "--device", "cpu",
                           "--quiet"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode != 0
    note, error = done.stderr.strip().splitlines()  # the CPU preset's announcement, then the error
    assert note.startswith("clipvg: no GPU:"), done.stderr
    assert error.startswith("clipvg edit: error: CLIP weights 'openai'"), done.stderr
    _assert_ways_forward(error)



def test_random_weights_log_no_warning_unless_verbose(tmp_path):
    tiny = Path(__file__).with_name("tiny_clip.json")  # open_clip warns as for RN50, without building 400 MB
    command = [sys.executable, "-c", "import sys; from clipvg.cli import main, show_log; "
               f"import losses; '-v' in sys.argv and show_log(); losses.load_clip({str(tiny)!r}, None, device='cpu')",
               "-v"]
    quiet = subprocess.run(command[:-1], cwd=ROOT, capture_output=True, text=True, timeout=600)
    verbose = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert quiet.returncode == verbose.returncode == 0, quiet.stderr + verbose.stderr
    assert quiet.stderr == ""
    assert "initialized randomly" in verbose.stderr
