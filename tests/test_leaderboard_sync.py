"""The store mirrored to a private Hugging Face dataset and restored after a restart, with a local,
fake HfApi (hubs are unreachable here): the real CommitScheduler and the real journal replay run."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from emi_core.leaderboard import Leaderboard, LeaderboardError
from emi_core.leaderboard.config import ground_truth_from_env
from emi_core.scoring import submission_text, write_submission

IDS = [f"{i:05d}" for i in range(60)]


class FakeHub:
    """The HfApi calls the sync makes, kept in a local folder that stands for the dataset repository."""

    def __init__(self, root: Path):
        self.root = root
        self.created = []
        self.commits = 0
        self._pool = ThreadPoolExecutor(max_workers=1)  # HfApi runs commits one at a time, like this

    def run_as_future(self, fn, *args, **kwargs):
        return self._pool.submit(fn, *args, **kwargs)

    def create_repo(self, repo_id, private=None, repo_type=None, exist_ok=False):
        self.created.append((repo_id, private, repo_type))
        (self.root / repo_id).mkdir(parents=True, exist_ok=True)
        return SimpleNamespace(repo_id=repo_id)

    def create_commit(self, repo_id, repo_type, operations, commit_message, revision=None):
        for operation in operations:
            target = self.root / repo_id / operation.path_in_repo
            target.parent.mkdir(parents=True, exist_ok=True)
            operation.path_or_fileobj.seek(0)
            target.write_bytes(operation.path_or_fileobj.read())
        self.commits += 1
        return SimpleNamespace(oid=str(self.commits))

    def snapshot_download(self, repo_id, repo_type, local_dir, allow_patterns):
        source = self.root / repo_id
        if source.exists():
            shutil.copytree(source, local_dir, dirs_exist_ok=True)
        return local_dir


@pytest.fixture()
def space(tmp_path, monkeypatch):
    truth = np.random.default_rng(9).random((len(IDS), 6))
    truth_path = write_submission(tmp_path / "truth.csv", IDS, truth)
    monkeypatch.setenv("EMI_STORE_DATASET", "org/emi-board-store")
    monkeypatch.setenv("EMI_SUBMISSIONS_DIR", str(tmp_path / "disk" / "store"))
    monkeypatch.setenv("EMI_GROUND_TRUTH_TEST", str(truth_path))
    return FakeHub(tmp_path / "hub"), truth, tmp_path


def test_a_restart_loses_nothing(space):
    hub, truth, tmp_path = space
    board, sync = Leaderboard.from_env(api=hub)
    assert hub.created == [("org/emi-board-store", True, "dataset")]
    token = board.add_team("Team Durable")
    member = board.member_for_token(token)
    rng = np.random.default_rng(1)
    entries = []
    for noise in (0.2, 0.4):
        values = np.clip(truth + rng.normal(0, noise, truth.shape), 0, 1)
        entries.append(board.submit(member.team, "test", submission_text(IDS, values).encode(), account=member.account))
    with pytest.raises(Exception, match="problems"):
        board.submit(member.team, "test", b"Filename,Joy\n1,2\n")
    board.pick_final(member.team, "test", [entries[1].id])
    board.compare(member, "test", entries[0].id, entries[1].id)
    sync.push_now()
    sync.scheduler.stop()
    before = board.entries()
    shutil.rmtree(tmp_path / "disk")  # the Space restarts with an empty disk

    restored, again = Leaderboard.from_env(api=hub)
    again.scheduler.stop()
    assert restored.entries() == before
    assert restored.member_for_token(token).team == "Team Durable"  # tokens survive (as hashes)
    assert [entry.final for entry in restored.entries("test") if entry.status == "scored"] == [False, True]
    assert all((restored.store_dir / entry.file).is_file() for entry in before if entry.file)
    assert restored.ranking("test")[0].entry.id == entries[0].id
    with pytest.raises(Exception, match="has used its 5"):  # the comparison still counts after restart
        for seed in range(3):
            values = np.clip(truth + np.random.default_rng(50 + seed).normal(0, 0.3, truth.shape), 0, 1)
            restored.submit(member.team, "test", submission_text(IDS, values).encode(), account=member.account)


def test_without_the_variable_nothing_leaves_the_machine(tmp_path, monkeypatch):
    monkeypatch.delenv("EMI_STORE_DATASET", raising=False)
    monkeypatch.setenv("EMI_SUBMISSIONS_DIR", str(tmp_path / "store"))
    board, sync = Leaderboard.from_env(api=object())
    assert sync is None and not (tmp_path / "store" / "journal").exists()


def test_ground_truth_from_a_private_dataset(tmp_path, monkeypatch):
    calls = []

    def fake_download(repo_id, filename, repo_type):
        calls.append((repo_id, filename, repo_type))
        path = tmp_path / "cache" / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
        return str(path)

    monkeypatch.setattr("huggingface_hub.hf_hub_download", fake_download)
    monkeypatch.setenv("EMI_GROUND_TRUTH_TEST", "hf://datasets/org/emi-truth/test/truth.csv")
    assert ground_truth_from_env("test") == tmp_path / "cache" / "test" / "truth.csv"
    assert calls == [("org/emi-truth", "test/truth.csv", "dataset")]
    monkeypatch.setenv("EMI_GROUND_TRUTH_TEST", "hf://datasets/org-only")
    with pytest.raises(LeaderboardError, match="must be hf://datasets/<owner>/<name>/<file>"):
        ground_truth_from_env("test")
