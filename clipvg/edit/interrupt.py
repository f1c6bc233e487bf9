"""Ctrl-C between optimisation steps: the first SIGINT lets the current step finish, a second one
interrupts at once."""
from __future__ import annotations

import contextlib
import signal
import threading
from typing import Callable, Iterator


@contextlib.contextmanager
def deferred_interrupt() -> Iterator[Callable[[], bool]]:
    """Yield a function that says whether Ctrl-C was pressed since entering.

    In the main thread the first SIGINT only sets the flag (so the scene is never left half-updated);
    the second restores the previous handler's behaviour and raises KeyboardInterrupt. Elsewhere
    (no signal handlers allowed) KeyboardInterrupt propagates as usual and the flag stays False.
    """
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    pressed = threading.Event()
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum, frame) -> None:
        if pressed.is_set():
            signal.signal(signal.SIGINT, previous)
            raise KeyboardInterrupt
        pressed.set()

    signal.signal(signal.SIGINT, handler)
    try:
        yield pressed.is_set
    finally:
        signal.signal(signal.SIGINT, previous)
