"""Atomic file writes: a reader sees the old file or the new one, never half of one.

A write goes to a temporary name beside the target (same folder, hence same file system) and is
moved onto it with :func:`os.replace`. An interrupted write leaves the target as it was; the
temporary file is removed, or, if the process is killed outright, stays behind as a hidden
``.{name}.{pid}.{random}.tmp`` file that nothing reads. Used by the feature cache, checkpoints,
CSV writers and the leaderboard's copies of submitted files.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TEMP_SUFFIX = ".tmp"


@contextmanager
def atomic_path(path: str | Path, *, durable: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it onto ``path`` with :func:`os.replace`.

    On an exception the temporary file is removed and ``path`` is left as it was. With ``durable``
    the file's bytes are flushed to disk (``fsync``) before the move, so a power cut cannot leave an
    empty file under the final name.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}{TEMP_SUFFIX}")
    try:
        yield tmp
        if durable:
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes_atomic(path: str | Path, data: bytes, *, durable: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_path`); return ``path``."""
    path = Path(path)
    with atomic_path(path, durable=durable) as tmp:
        tmp.write_bytes(data)
    return path
