"""Each request owns its upload until it ends; uploads are deleted as promised (issue 12, defects 3 and 5).

Gradio stores an upload at ``<upload folder>/<sha256 of its bytes>/<name>``: identical uploads share a
path, so deleting it when the first request ends broke the others.
"""

from __future__ import annotations

import socket
import time
from urllib.parse import urlparse

import numpy as np
import pytest
from gradio_client import Client, handle_file

from tests.app_server import TRUTH_IDS, running_app

pytestmark = pytest.mark.slow

COPIES = 8


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("uploads_app")) as running:
        yield running


@pytest.fixture(scope="module")
def client(server):
    return Client(server.url, verbose=False, download_files=False)


def upload_folder(server):
    """This app's own upload folder (``emi-run-<pid>-…`` inside the configured Gradio temp folder)."""
    (folder,) = server.upload_dir.glob("emi-run-*")
    return folder


def loose_files(server) -> list:
    """Files at the top of the upload folder: what an aborted upload or a ``gr.File`` request leaves."""
    return [path.name for path in upload_folder(server).iterdir() if path.is_file()]


def test_identical_concurrent_estimates_all_succeed_alike(client, server, media):
    clip = media("cremad_1001_talk_happy_m.mp4")
    jobs = [client.submit(handle_file(str(clip)), api_name="/estimate") for _ in range(COPIES)]
    results = [job.result(timeout=300) for job in jobs]
    assert all(result["source"] == clip.name for result in results)
    assert all(result["audio"] is not None and result["visual"] is not None for result in results)
    assert all(result == results[0] for result in results)
    assert list(upload_folder(server).rglob(clip.name)) == []  # deleted once the last one ended
    assert loose_files(server) == []  # and no empty temporary file per request


def test_identical_concurrent_scores_all_succeed_alike(client, server, tmp_path):
    from emi_core.scoring import write_submission

    values = np.clip(server.truth_values + np.random.default_rng(11).normal(0, 0.1, server.truth_values.shape), 0, 1)
    path = write_submission(tmp_path / "same.csv", TRUTH_IDS, values)
    jobs = [client.submit(handle_file(str(path)), "val", api_name="/score") for _ in range(COPIES)]
    outcomes = [job.result(timeout=120) for job in jobs]
    assert all(outcome == outcomes[0] for outcome in outcomes)
    assert outcomes[0]["problems"] == [] and "not found" not in str(outcomes[0])
    assert list(upload_folder(server).rglob("same.csv")) == []
    assert loose_files(server) == []


def test_an_aborted_upload_leaves_nothing(server):
    """A client announces 120 MB, sends 2 MB and hangs up: the partial temporary file is swept."""
    url = urlparse(server.url)
    boundary = "emiboundary"
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.mp4"\r\n\r\n'.encode()
    with socket.create_connection((url.hostname, url.port)) as conn:
        conn.sendall(
            (
                f"POST /gradio_api/upload HTTP/1.1\r\nHost: {url.netloc}\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {120 * 2**20}\r\n\r\n"
            ).encode()
            + head
        )
        for _ in range(32):
            conn.sendall(b"\0" * 2**16)
        deadline = time.monotonic() + 10
        while not loose_files(server) and time.monotonic() < deadline:  # the upload is being written
            time.sleep(0.05)
        assert loose_files(server), "the partial upload never reached the upload folder"
    deadline = time.monotonic() + 10
    while loose_files(server) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert loose_files(server) == []
