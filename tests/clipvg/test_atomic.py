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


def test_outputs_get_the_users_umask_and_keep_an_existing_files_mode(tmp_path) -> None:
    import os
    import stat

    old = os.umask(0o027)
    try:
        write_bytes_atomic(tmp_path / "new.svg", b"x")
        assert stat.S_IMODE((tmp_path / "new.svg").stat().st_mode) == 0o640
    finally:
        os.umask(old)
    existing = tmp_path / "shared.svg"
    existing.write_bytes(b"old")
    existing.chmod(0o664)
    write_bytes_atomic(existing, b"new")
    assert stat.S_IMODE(existing.stat().st_mode) == 0o664 and existing.read_bytes() == b"new"


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, RuntimeError])
def test_an_interrupted_write_leaves_the_previous_file_or_nothing(tmp_path, interrupt) -> None:
    import clipvg.svg.path_writer as writer  # save_svg writes through its atomic_path
    from clipvg.svg import load_svg, save_svg

    scene = load_svg('<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20">'
                     '<path d="M0 0H10V10Z" fill="red"/></svg>')
    kept, fresh = tmp_path / "kept.svg", tmp_path / "fresh.svg"
    save_svg(scene, kept)
    before = kept.read_bytes()
    real_write = writer.atomic_path

    class Broken:
        """Writes half the file through the real atomic path, then fails (Ctrl-C or a bug)."""

        def __init__(self, target):
            self.context = real_write(target)

        def __enter__(self):
            self.tmp = self.context.__enter__()
            return self.tmp

        def __exit__(self, *exc):
            self.tmp.write_bytes(self.tmp.read_bytes()[: len(before) // 2])
            error = interrupt()
            self.context.__exit__(interrupt, error, None)  # what the with-statement does on the error
            raise error

    for target in (kept, fresh):
        writer.atomic_path = Broken
        try:
            with pytest.raises(interrupt):
                save_svg(scene, target)
        finally:
            writer.atomic_path = real_write
    assert kept.read_bytes() == before and not fresh.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.svg"]


def test_check_writable_refuses_read_only_folders_files_as_folders_and_full_disks(tmp_path) -> None:
    import os

    from clipvg.atomic import check_writable

    check_writable((tmp_path / "new" / "out.svg",), 1000)
    assert (tmp_path / "new").is_dir() and not list((tmp_path / "new").iterdir())
    with pytest.raises(InvalidInputError, match="is a folder"):
        check_writable((tmp_path / "new",))
    with pytest.raises(InvalidInputError, match="MB free"):
        check_writable((tmp_path / "out.svg",), 1e18)
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(InvalidInputError, match="writable output folder"):
        check_writable((tmp_path / "file" / "out.svg",))
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.geteuid() != 0:  # root writes anywhere
        with pytest.raises(InvalidInputError, match="writable output folder"):
            check_writable((locked / "out.svg",))
