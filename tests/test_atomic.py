"""Atomic writes: the target is the old file or the new one, and no temporary file is left."""

from __future__ import annotations

import pytest

from emi_core.atomic import atomic_path, write_bytes_atomic


@pytest.mark.parametrize("durable", [False, True])
def test_write_replaces_the_target(tmp_path, durable):
    target = tmp_path / "a.csv"
    target.write_bytes(b"old")
    assert write_bytes_atomic(target, b"new", durable=durable) == target
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["a.csv"]


def test_interrupted_write_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    target = tmp_path / "a.csv"
    target.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".a.csv.")
        tmp.write_bytes(b"half")
        raise KeyboardInterrupt
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.csv"]


def test_a_failed_write_creates_nothing(tmp_path):
    with pytest.raises(OSError), atomic_path(tmp_path / "new.bin") as tmp:
        tmp.write_bytes(b"x")
        raise OSError("disk full")
    assert list(tmp_path.iterdir()) == []
