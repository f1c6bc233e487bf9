"""clipvg.startup: a child started through ``run_child`` dies with its parent, however the parent ends,
even while the child is still in its slow start-up (a real process tree, killed with SIGKILL)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from clipvg.startup import process_alive

# the parent: spawns a child whose target sleeps (standing in for importing torch), prints its pid, waits
PARENT = """
import multiprocessing, os, sys, time
from clipvg.startup import run_child
if __name__ == "__main__":
    child = multiprocessing.get_context("spawn").Process(target=run_child, args=(os.getpid(), "time:sleep", 120))
    child.start()
    print(child.pid, flush=True)
    time.sleep(120)
"""


def wait_until(condition, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and process groups are POSIX")
def test_a_child_dies_with_its_killed_parent(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        time.sleep(0.5)  # the child is past run_child's first line
        assert process_alive(child)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(10)
        # the kernel's parent-death signal ends it at once; the watcher thread within WATCH_S otherwise
        assert wait_until(lambda: not _running(child), 10), f"child {child} outlived its parent"
    finally:
        parent.kill()


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting for its (dead) parent's reaper."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:
        return process_alive(pid)


def test_run_child_calls_the_target_with_its_arguments(tmp_path):
    code = (f"import os; from clipvg.startup import run_child; "
            f"run_child(os.getppid(), 'os:mkdir', {str(tmp_path / 'made')!r})")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    assert (tmp_path / "made").is_dir()
