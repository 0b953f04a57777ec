"""Privacy on shutdown (issue 13, defect 3): ``python app.py`` stopped by SIGTERM (what Docker, systemd
and a Space restart send) or Ctrl-C deletes every upload, cached copy and result file; killed outright,
it leaves them, and the next start deletes them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.app_server import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 180


class AppProcess:
    """``python app.py`` with its temporary folders under ``base``."""

    def __init__(self, base: Path):
        self.base = base
        self.port = free_port()
        env = os.environ | {
            "GRADIO_TEMP_DIR": str(base / "gradio"),
            "TMPDIR": str(base / "tmp"),
            "GRADIO_SERVER_PORT": str(self.port),
            "GRADIO_EXAMPLES_CACHE": str(base / "examples_cache"),
            "EMI_SUBMISSIONS_DIR": str(base / "store"),
        }
        (base / "tmp").mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self.url = f"http://127.0.0.1:{self.port}/"
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"app.py exited with {self.process.returncode}: {self.process.stderr.read().decode()}")
            try:
                if httpx.get(self.url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.5)
        self.process.kill()
        pytest.fail("app.py did not start")

    def folders(self) -> list[Path]:
        """This process's run folders (uploads under the Gradio temp folder, results under TMPDIR)."""
        pattern = f"emi-run-{self.process.pid}-*"
        return sorted([*(self.base / "gradio").glob(pattern), *(self.base / "tmp").glob(pattern)])

    def upload(self, path: Path) -> Path:
        """Upload a file as the page does (and never analyse it); return where the server keeps it."""
        with path.open("rb") as handle:
            response = httpx.post(f"{self.url}gradio_api/upload", files={"files": (path.name, handle)}, timeout=60)
        response.raise_for_status()
        return Path(response.json()[0])

    def stop(self, sig: int) -> int:
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                self.process.kill()


def leave_private_files(app: AppProcess, clip: Path) -> list[Path]:
    """An upload never analysed, and a result file (as the annotated video would be) in the results folder."""
    upload = app.upload(clip)
    (uploads_folder,) = [f for f in app.folders() if f.parent == app.base / "gradio"]
    (results_folder,) = [f for f in app.folders() if f.parent == app.base / "tmp"]
    result = results_folder / "request" / "clip.annotated.mp4"
    result.parent.mkdir()
    result.write_bytes(clip.read_bytes())
    assert upload.is_file() and uploads_folder in upload.parents
    return [upload, result]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_stopping_the_app_deletes_uploads_and_results(tmp_path, media, sig):
    app = AppProcess(tmp_path)
    private = leave_private_files(app, media("cremad_1001_talk_happy_m.mp4"))
    folders = app.folders()
    assert len(folders) == 2
    assert app.stop(sig) == 0
    assert [path for path in private if path.exists()] == []
    assert [folder for folder in folders if folder.exists()] == []


def test_a_crash_leaves_files_that_the_next_start_deletes(tmp_path, media):
    crashed = AppProcess(tmp_path)
    private = leave_private_files(crashed, media("cremad_1001_talk_happy_m.mp4"))
    leftovers = crashed.folders()
    crashed.stop(signal.SIGKILL)
    assert all(path.exists() for path in private)  # nothing could run: the files are still there
    restarted = AppProcess(tmp_path)
    try:
        assert [folder for folder in leftovers if folder.exists()] == []
        assert [path for path in private if path.exists()] == []
        assert len(restarted.folders()) == 2
    finally:
        assert restarted.stop(signal.SIGTERM) == 0
