"""What the app does with files: each request owns its upload, uploads and results are deleted as
promised — after the request, on shutdown (SIGTERM or Ctrl-C) and, after a crash, at the next start.

Gradio stores an upload at ``<upload folder>/<sha256 of its bytes>/<name>``, so identical uploads
(two users with the same clip, eight API calls with one file) share one path. :class:`UploadLedger`
counts every upload as one claim on its path (:class:`UploadLedgerMiddleware` sees each upload
response); a request releases one claim when it ends, and the file is deleted when no claim is left
and no upload is being written. Files Gradio leaves at the top of its folder (the temporary file of
an aborted upload, the empty file it creates per ``gr.File`` request) are swept whenever no upload
is in flight.

:class:`RunFolders` gives each running app its own upload folder and results folder, named after
its process, deletes both when the app stops, and at start-up deletes those of dead processes.
"""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import tempfile
import threading
import time
import weakref
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from gradio.utils import get_upload_folder

RUN_PREFIX = "emi-run-"
"""Folders of one running app are named ``emi-run-<pid>-<random>``."""


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


class UploadLedger:
    """Claims on uploaded files: a file is deleted once every request that uploaded it has ended."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._claims: Counter[Path] = Counter()
        self._in_flight = 0
        self._waiting: set[Path] = set()
        """Released files whose deletion waits for the uploads in flight (one may be rewriting them)."""

    def upload_started(self) -> None:
        """An upload request began (its bytes are being written into the upload folder)."""
        with self._lock:
            self._in_flight += 1

    def upload_finished(self, paths: Iterable[str]) -> None:
        """An upload request ended; ``paths`` are the files it stored (none if it failed or was aborted)."""
        with self._lock:
            self._in_flight -= 1
            for path in paths:
                self._claims[Path(path).resolve()] += 1
            if not self._in_flight:
                self._delete_waiting()
                self._sweep()

    def release(self, path: str | Path | None, examples: ExampleClips) -> bool:
        """A request that read ``path`` ended: drop its claim, and delete the file (and its emptied
        folder) when it was the last one. Files outside the upload folder and copies of the example
        clips are left alone. Returns whether the upload is gone (or going, once uploads in flight end)."""
        if not path:
            return False
        file = Path(path).resolve()
        root = upload_root()
        if root not in file.parents or not file.is_file() or examples.is_copy(file):
            return False
        with self._lock:
            if self._claims[file] > 0:
                self._claims[file] -= 1
            if self._claims[file] > 0:
                return False
            del self._claims[file]
            self._waiting.add(file)
            if not self._in_flight:
                self._delete_waiting()
                self._sweep()
        return True

    def sweep(self) -> None:
        """Delete what Gradio leaves at the top of its upload folder, unless an upload is being written."""
        with self._lock:
            if not self._in_flight:
                self._sweep()

    def _delete_waiting(self) -> None:
        root = upload_root()
        for file in self._waiting:
            if self._claims[file] > 0:  # uploaded again meanwhile: that request owns it now
                continue
            self._claims.pop(file, None)
            file.unlink(missing_ok=True)
            folder = file.parent
            if folder != root and folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        self._waiting.clear()

    @staticmethod
    def _sweep() -> None:
        root = upload_root()
        if not root.is_dir():
            return
        for entry in root.iterdir():
            if entry.is_file() and not entry.is_symlink():
                entry.unlink(missing_ok=True)


UPLOADS = UploadLedger()
"""The process's ledger (Gradio's upload folder is one per process)."""


def upload_root() -> Path:
    """Gradio's upload folder, resolved."""
    return Path(get_upload_folder()).resolve()


def forget_upload(path: str | Path | None, examples: ExampleClips) -> bool:
    """A request is done with its uploaded ``path``: see :meth:`UploadLedger.release`."""
    return UPLOADS.release(path, examples)


class UploadLedgerMiddleware:
    """ASGI middleware that tells the ledger about every upload request (``…/upload``) and its files."""

    def __init__(self, app, ledger: UploadLedger = UPLOADS):
        self.app = app
        self.ledger = ledger

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or not scope["path"].endswith("/upload"):
            await self.app(scope, receive, send)
            return
        status, body = 0, bytearray()

        async def capture(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
            await send(message)

        self.ledger.upload_started()
        stored: list[str] = []
        try:
            await self.app(scope, receive, capture)
            if status == 200:
                reply = json.loads(bytes(body))
                stored = [path for path in reply if isinstance(path, str)] if isinstance(reply, list) else []
        finally:
            self.ledger.upload_finished(stored)


class RunFolders:
    """This app's own upload folder (made Gradio's via ``GRADIO_TEMP_DIR``) and results folder.

    Both live under ``emi-run-<pid>-<random>`` folders (uploads under the Gradio temp folder you
    configure, else the system's; results under the system temp folder, from where Gradio may serve
    them) and are deleted by :meth:`cleanup` (also at interpreter exit). Creating one first deletes
    the folders of app processes that no longer run (what a crash or ``kill -9`` left behind).
    """

    def __init__(self) -> None:
        upload_parent = Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio")
        results_parent = Path(tempfile.gettempdir())
        for parent in {upload_parent, results_parent}:
            remove_dead_runs(parent)
        prefix = f"{RUN_PREFIX}{os.getpid()}-"
        upload_parent.mkdir(parents=True, exist_ok=True)
        self.uploads = Path(tempfile.mkdtemp(prefix=prefix, dir=upload_parent))
        self.results = Path(tempfile.mkdtemp(prefix=prefix, dir=results_parent))
        self._finalizer = weakref.finalize(self, _remove, self.uploads, self.results)

    def activate(self) -> None:
        """Make :attr:`uploads` Gradio's upload and cache folder for this process."""
        os.environ["GRADIO_TEMP_DIR"] = str(self.uploads)

    def cleanup(self) -> None:
        """Delete both folders now (uploads never analysed, cached outputs, result files)."""
        self._finalizer()


def remove_dead_runs(parent: Path) -> list[Path]:
    """Delete the ``emi-run-<pid>-*`` folders in ``parent`` whose process is gone; return them."""
    removed = []
    for folder in parent.glob(f"{RUN_PREFIX}*") if parent.is_dir() else ():
        pid = folder.name.removeprefix(RUN_PREFIX).split("-", 1)[0]
        if folder.is_dir() and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _remove(*folders: Path) -> None:
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


class ResultFiles:
    """Per-request folders for downloadable results under ``root``, deleted ``max_age_s`` after they
    were made (a background thread checks every ``max_age_s / 5``). Gradio serves its own copies.

    Without ``root``, a temporary folder of its own is made (and deleted at exit).
    """

    def __init__(self, root: Path | None = None, max_age_s: float = 300.0):
        if root is None:
            root = Path(tempfile.mkdtemp(prefix="emi-results-"))
            weakref.finalize(self, shutil.rmtree, root, ignore_errors=True)
        self.root = root
        self.max_age_s = max_age_s
        stop = threading.Event()
        weakref.finalize(self, stop.set)
        threading.Thread(
            target=_prune_until, args=(root, max_age_s, stop), name="emi-result-pruner", daemon=True
        ).start()

    def new_folder(self) -> Path:
        """A fresh folder for one request's files."""
        return Path(tempfile.mkdtemp(dir=self.root))

    def prune(self) -> None:
        """Delete request folders older than ``max_age_s`` now."""
        _prune(self.root, self.max_age_s)


def _prune(root: Path, max_age_s: float) -> None:
    cutoff = time.time() - max_age_s
    for folder in root.iterdir() if root.is_dir() else ():
        try:
            if folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
        except FileNotFoundError:
            continue


def _prune_until(root: Path, max_age_s: float, stop: threading.Event) -> None:
    while not stop.wait(max(1.0, max_age_s / 5)):
        _prune(root, max_age_s)


def adopt(upload: str | Path, folder: Path) -> Path:
    """This request's own link to an uploaded file (a hard link, else a copy) in its result folder,
    so that nothing another request does to the shared upload path can touch it."""
    target = folder / Path(upload).name
    try:
        os.link(upload, target)
    except FileNotFoundError:
        raise
    except OSError:
        shutil.copy2(upload, target)
    return target
