"""The benchmarks' one way to report: print the result as JSON and, when asked, write the same text to a file."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path


def print_and_save(result: dict, path: str | Path | None) -> None:
    """Print ``result`` as indented JSON; also write it to ``path`` (folders created) when given."""
    text = json.dumps(result, indent=1)
    print(text)
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text + "\n")


def git_commit(mark_dirty: bool = False) -> str:
    """The checkout's short commit ("unknown" outside git); with ``mark_dirty``, "+dirty" appended when
    tracked files differ from it (other work in a shared tree)."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], capture_output=True, text=True, check=True,
                                  cwd=Path(__file__).parent).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""
    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + "+dirty" if mark_dirty and git("status", "--porcelain", "-uno") else commit
