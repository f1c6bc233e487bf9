"""Atomic outputs: a failed write (e.g. a full disk) leaves the old file and no temporary behind."""
from __future__ import annotations

import errno

import pytest

from clipvg.atomic import atomic_path, write_bytes_atomic
from clipvg.errors import InvalidInputError


def test_write_replaces_the_target(tmp_path) -> None:
    target = tmp_path / "deep" / "out.bin"
    write_bytes_atomic(target, b"first")
    write_bytes_atomic(target, b"second")
    assert target.read_bytes() == b"second"
    assert [p.name for p in target.parent.iterdir()] == ["out.bin"]


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path) -> None:
    target = tmp_path / "out.svg"
    target.write_bytes(b"old")
    with pytest.raises(OSError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"partial")
            raise OSError(errno.ENOSPC, "No space left on device")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.svg"]


def test_an_input_is_never_overwritten(tmp_path) -> None:
    source = tmp_path / "in.svg"
    source.write_bytes(b"input")
    with pytest.raises(InvalidInputError, match="also an input"):
        write_bytes_atomic(source, b"output", inputs=(source,))
    assert source.read_bytes() == b"input"
