"""The README's shell blocks, run as written where that is safe offline, so they cannot rot.

Every command of every fenced ``bash`` block is parsed (``&&`` chains and lines; ``#`` comments off) and
handled by the rule for its program: ``clipvg`` commands run in a temporary folder, offline (no model hub,
no cached weights, no GPU), with ``--quick`` added where the command takes it (the README says the main
command runs offline that way); ``clipvg serve`` starts and answers its page; installs are checked
against pyproject.toml (the path has it, the extras they name exist); set-up scripts must be executable
files. Inputs a command names are the repository's files where those exist, else made in the sandbox
(the batch job file is the README's own JSON Lines block). A command no rule covers fails the test:
give it a rule here.
"""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
import tomllib
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# clipvg commands whose parsers take --quick (the edit loop's offline preset)
QUICK_COMMANDS = {"edit", "font", "inpaint", "outpaint", "batch"}
HOME_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32"><path d="M4 16 L16 4 L28 16 V28 H4 Z" '
            'fill="#c33"/><rect x="13" y="19" width="6" height="9" fill="#333"/></svg>')


@dataclass(frozen=True)
class Command:
    """One README command: its words and the README line of its block."""

    words: tuple[str, ...]
    line: int

    def __str__(self) -> str:
        return shlex.join(self.words)


def fenced_blocks(text: str) -> list[tuple[str, str, int]]:
    """(language, body, first body line) of each fenced block of ``text``."""
    return [(m.group(1), m.group(2), text[:m.start()].count("\n") + 2)
            for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.S | re.M)]


def readme_commands() -> list[Command]:
    """Every command of the README's ``bash`` blocks, ``&&`` chains split, comments dropped."""
    commands = []
    for language, body, first in fenced_blocks(README):
        if language not in ("bash", "sh", "shell"):
            continue
        for offset, line in enumerate(body.splitlines()):
            words = shlex.split(line, comments=True)
            while words:
                cut = words.index("&&") if "&&" in words else len(words)
                commands.append(Command(tuple(words[:cut]), first + offset))
                words = words[cut + 1:]
    return commands


def jsonl_block() -> str:
    """The README's JSON Lines example (the fenced block whose lines are JSON objects)."""
    blocks = [body for language, body, _ in fenced_blocks(README) if language == "" and body.startswith("{")]
    assert len(blocks) == 1, "expected one JSON Lines block in the README (the batch jobs example)"
    return blocks[0]


def offline_env(home: Path) -> dict[str, str]:
    """The environment of a fresh offline CPU machine: no model hub, empty caches, no GPU."""
    return dict(os.environ, HF_HUB_OFFLINE="1", HF_HOME=str(home / "hf"), HOME=str(home), XDG_CACHE_HOME=str(home),
                CUDA_VISIBLE_DEVICES="", PYTHONPATH=os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))))


def outputs(words: tuple[str, ...]) -> list[str]:
    """The paths a command writes: the values of its ``-o`` options."""
    return [words[i + 1] for i, word in enumerate(words[:-1]) if word == "-o"]


def make_inputs(words: tuple[str, ...], sandbox: Path) -> None:
    """Put the files ``words`` read into ``sandbox``: the repository's copy where there is one, else a
    small made-up one (a photo, an icon folder, the README's batch jobs and the files they name)."""
    for word in set(words) - set(outputs(words)):
        target = sandbox / word
        if word.startswith("-") or not re.search(r"\.(png|jpg|svg|jsonl)$|^icons/$", word):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / word).is_file():
            target.write_bytes((ROOT / word).read_bytes())
        elif word.endswith(".jsonl"):
            target.write_text(jsonl_block())
            make_inputs(tuple(re.findall(r'"input": "([^"]+)"', jsonl_block())), sandbox)
        elif word.endswith((".jpg", ".png")):
            # 320 x 240: room for the README's boxes (x + w <= 320), small enough for a seconds-long edit
            Image.open(ROOT / "examples/data/astronaut.png").convert("RGB").resize((320, 240)).save(target)
        elif word.endswith(".svg"):
            target.write_text(HOME_SVG)
        else:
            target.mkdir(exist_ok=True)
            (target / "home.svg").write_text(HOME_SVG)


def clipvg_argv(words: tuple[str, ...]) -> list[str]:
    """The clipvg command line to run: this interpreter's ``-m clipvg.cli`` for ``clipvg`` or
    ``.venv/bin/clipvg``, plus ``--quick`` where the subcommand takes it."""
    argv = [sys.executable, "-m", "clipvg.cli", *words[1:]]
    if words[1] in QUICK_COMMANDS and "--quick" not in words:
        argv.append("--quick")
    return argv


def skip_reason(words: tuple[str, ...]) -> str | None:
    """Why a clipvg command cannot run offline on this machine, or None."""
    if "--ray-address" in words:
        return "needs a running Ray cluster"
    if "--backend" in words and words[words.index("--backend") + 1] == "diffvg":
        try:
            import pydiffvg  # noqa: F401
        except ImportError:
            return "needs pydiffvg (built by hand, see the README)"
    return None


def check_install(words: tuple[str, ...]) -> None:
    """``pip install -e TARGET`` / ``pip install torch ... --index-url``: the target has a pyproject and
    every extra it names is one of pyproject.toml's."""
    assert words[:2] == ("install", "-e") or "--index-url" in words, f"unexpected pip command {words}"
    if words[:2] != ("install", "-e"):
        return
    target, extras = re.fullmatch(r"([^\[]+)(?:\[([^\]]*)\])?", words[2]).groups()
    assert (ROOT / target / "pyproject.toml").is_file()
    known = set(PYPROJECT["project"]["optional-dependencies"])
    named = set(filter(None, (extras or "").split(",")))
    assert named <= known, f"extras {sorted(named - known)} are not in pyproject.toml ({sorted(known)})"


def run_serve(argv: list[str], sandbox: Path) -> None:
    """Start ``clipvg serve`` on a free port without preloading CLIP; its page must answer 200."""
    pytest.importorskip("uvicorn", reason="the serve extra is not installed")
    server = subprocess.Popen([*argv, "--port", "0", "--no-preload", "--work-dir", str(sandbox / "work")],
                              cwd=sandbox, env=offline_env(sandbox), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        deadline, url = time.monotonic() + 120, None
        while url is None and time.monotonic() < deadline and server.poll() is None:
            found = re.search(r"http://127\.0\.0\.1:\d+/\S*", server.stdout.readline())
            url = found.group(0) if found else None
        assert url, f"clipvg serve printed no address (exit {server.poll()})"
        with urllib.request.urlopen(url, timeout=30) as page:
            assert page.status == 200
    finally:
        server.terminate()
        server.wait(timeout=30)


def run_clipvg(words: tuple[str, ...], sandbox: Path) -> None:
    """Run a clipvg command offline in ``sandbox``: exit 0, every ``-o`` output written, no warning,
    log line or traceback on stderr (progress bars and clipvg's own notes aside)."""
    reason = skip_reason(words)
    if reason:
        pytest.skip(reason)
    make_inputs(words, sandbox)
    argv = clipvg_argv(words)
    if words[1] == "serve":
        run_serve(argv, sandbox)
        return
    done = subprocess.run([*argv, "--quiet"], cwd=sandbox,
                          env=offline_env(sandbox), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{shlex.join(words)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    noise = [line for line in done.stderr.splitlines()
             if re.search(r"warn|error|traceback", line, re.I) and not line.startswith("clipvg")]
    assert not noise, f"{shlex.join(words)} printed:\n" + "\n".join(noise)
    for path in outputs(words):
        assert (sandbox / path).exists(), f"{path} was not written"


COMMANDS = readme_commands()


def test_the_readme_has_the_set_up_commands():
    first = [c for c in COMMANDS if c.words[:3] == ("python3", "-m", "venv")]
    assert first and any(c.words[0] == "./scripts/test.sh" for c in COMMANDS)
    assert PYPROJECT["project"]["scripts"]["clipvg"] == "clipvg.cli:main"  # what .venv/bin/clipvg runs


@pytest.mark.slow  # about 55 s for all the README's commands on 2 quiet cores
@pytest.mark.parametrize("command", COMMANDS, ids=[f"line{c.line}-{c.words[-1][:20]}" for c in COMMANDS])
def test_readme_command(command: Command, tmp_path: Path):
    words = command.words
    program = Path(words[0]).name
    if words[:3] == ("python3", "-m", "venv"):
        assert len(words) == 4  # a plain virtualenv; making one is left to CI's fresh-machine run
    elif program == "pip":
        check_install(words[1:])
    elif words[0].startswith("./"):
        script = ROOT / words[0]
        assert script.is_file() and os.access(script, os.X_OK), f"{words[0]} is not an executable file"
    elif program == "clipvg":
        run_clipvg(words, tmp_path)
    else:
        pytest.fail(f"README line {command.line}: no rule for {command}; add one to tests/test_readme.py")
