"""Hand the C heap's free pages back to the operating system between the vectorizer's steps.

Each step frees its large temporaries, but glibc keeps freed heap pages resident (its mmap
threshold rises after a large array is freed, so later arrays of that size come from the heap),
and the next step's Python objects come from fresh pages: the resident set grows by what earlier
steps freed. ``malloc_trim`` returns those pages; elsewhere (no glibc) this does nothing.
"""
from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache


@cache
def _trim():
    """glibc's ``malloc_trim``, or None where the C library has none."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def release_free_heap() -> None:
    """Return the free pages of the C heap to the operating system (glibc; else nothing)."""
    trim = _trim()
    if trim is not None:
        trim(0)
