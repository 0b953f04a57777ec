"""What the app does with files: forget uploads once processed, keep result files briefly.

Uploads and recordings land in Gradio's upload folder; :func:`forget_upload` deletes them once a
request has read them (the example clips' cached copies are kept, they are public anyway).
Downloads offered to the user are written to a private folder per request by :class:`ResultFiles`;
Gradio copies them into its own cache when it serves them, so old folders are pruned.
"""

from __future__ import annotations

import filecmp
import shutil
import tempfile
import time
import weakref
from collections.abc import Iterable
from pathlib import Path

from gradio.utils import get_upload_folder


class ExampleClips:
    """The example clips shipped with the app (their copies in Gradio's cache must survive)."""

    def __init__(self, paths: Iterable[str | Path]):
        self.paths = tuple(Path(p).resolve() for p in paths)
        self._by_name = {p.name: p for p in self.paths}

    def is_copy(self, path: str | Path) -> bool:
        """Whether ``path`` is one of the examples or a byte-identical copy with the same name."""
        candidate = Path(path)
        original = self._by_name.get(candidate.name)
        if original is None or not candidate.is_file():
            return False
        return candidate.resolve() == original or filecmp.cmp(candidate, original, shallow=False)


def forget_upload(path: str | Path | None, examples: ExampleClips) -> bool:
    """Delete an uploaded file (and its now empty folder) from Gradio's upload folder.

    Files outside the upload folder and copies of the examples are left alone. Returns whether a
    file was deleted.
    """
    if not path:
        return False
    file = Path(path).resolve()
    upload_root = Path(get_upload_folder()).resolve()
    if upload_root not in file.parents or not file.is_file() or examples.is_copy(file):
        return False
    file.unlink(missing_ok=True)
    folder = file.parent
    if folder != upload_root and not any(folder.iterdir()):
        folder.rmdir()
    return True


class ResultFiles:
    """Per-request folders for downloadable results, deleted after ``max_age_s`` and at exit."""

    def __init__(self, max_age_s: float = 600.0):
        self.root = Path(tempfile.mkdtemp(prefix="emi-results-"))
        self.max_age_s = max_age_s
        self._finalizer = weakref.finalize(self, shutil.rmtree, self.root, ignore_errors=True)

    def new_folder(self) -> Path:
        """A fresh folder for one request's files (older folders are pruned first)."""
        self.prune()
        return Path(tempfile.mkdtemp(dir=self.root))

    def prune(self) -> None:
        """Delete request folders older than ``max_age_s`` (Gradio has served its own copies by then)."""
        cutoff = time.time() - self.max_age_s
        for folder in self.root.iterdir():
            if folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)

    def cleanup(self) -> None:
        """Delete every result folder now."""
        self._finalizer()
