"""``emi extract --engine ray``: the local engine's cache from Ray actors, resumable, fault-tolerant, stoppable.

The slow tests share one local Ray instance (2 CPUs, no dashboard, a 100 MB object store), shut down
at the end; the Ctrl-C test runs ``emi extract`` in a subprocess that starts (and must stop) its own.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from emi_core.cli import main
from emi_core.errors import ConfigError, ExtractionError
from emi_core.features.batch import FAILURES_FILE, ExtractionRun, RayCluster, extract_videos, read_failures
from emi_core.features.batch.cluster import EXIT_ONCE_ENV, PROBE_PREFIX, check_shared_storage
from emi_core.features.batch.jobs import WorkerSetup
from emi_core.features.cache import ExtractorSpec, FeatureCache
from emi_core.features.extract import Extractors
from tests.conftest import REPO_ROOT
from tests.media_tools import video_folder
from tests.test_backbones import save_resnet18_pth, save_tiny_wav2vec2

FPS = 5
CLIPS = {
    "00001": "cremad_1001_talk_happy_m.mp4",  # face + speech
    "00002": "synthetic_noface.mp4",  # no face, a tone
    "00003": "cremad_1002_sad_f.wav",  # audio only
}
CORRUPT, ABSENT = "00004", "00005"


@pytest.fixture(scope="module")
def backbones(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("backbones")
    return {"visual": save_resnet18_pth(root / "resnet18.pth"), "audio": save_tiny_wav2vec2(root / "wav2vec2-tiny")}


@pytest.fixture(scope="module")
def exit_marker(tmp_path_factory) -> Path:
    """The test hook's marker: while it exists no worker exits; delete it to make one exit on its next video."""
    marker = tmp_path_factory.mktemp("hook") / "exited"
    marker.touch()
    return marker


@pytest.fixture(scope="module")
def ray_instance(exit_marker):
    import ray  # a test requirement: CI runs these tests
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(
        address="local",
        num_cpus=2,
        num_gpus=0,
        include_dashboard=False,
        object_store_memory=100_000_000,
        log_to_driver=False,
        logging_level="ERROR",
        runtime_env={"env_vars": {EXIT_ONCE_ENV: str(exit_marker)}},
    )
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture()
def dataset(media, tmp_path) -> Path:
    """videos/ with three shipped clips and a corrupt one; split.csv also lists an id without a file."""
    video_folder(tmp_path / "videos", CLIPS, media, CORRUPT)
    (tmp_path / "split.csv").write_text("Filename\n" + "".join(f"{i}\n" for i in [*CLIPS, CORRUPT, ABSENT]))
    (tmp_path / "good.csv").write_text("Filename\n" + "".join(f"{i}\n" for i in CLIPS))
    return tmp_path


def extract(dataset: Path, backbones: dict[str, Path], *extra: str, cache: str = "cache", split: str = "split.csv"):
    out, err = io.StringIO(), io.StringIO()
    args = ["extract", "--videos", str(dataset / "videos"), "--split", str(dataset / split),
            "--cache", str(dataset / cache), "--visual-backbone", str(backbones["visual"]),
            "--audio-backbone", str(backbones["audio"]), "--fps", str(FPS), "--device", "cpu", "--no-progress", *extra]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


def files_of(root: Path) -> dict[str, bytes | dict[str, np.ndarray]]:
    """Every file under ``root``: the arrays of ``.npz`` files, the bytes of the others."""
    found: dict[str, bytes | dict[str, np.ndarray]] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.suffix == ".npz":
            with np.load(path) as data:
                found[str(path.relative_to(root))] = {key: data[key] for key in data.files}
        else:
            found[str(path.relative_to(root))] = path.read_bytes()
    return found


@pytest.mark.slow
def test_the_ray_engine_writes_the_local_engines_cache(ray_instance, dataset, backbones):
    """Same worker count (one torch thread each): same files, same arrays, same failures.csv; a rerun skips all."""
    local = extract(dataset, backbones, "--workers", "2", cache="local")
    code, out, err = extract(dataset, backbones, "--engine", "ray", "--workers", "2", cache="ray")
    assert code == local[0] == 2, err
    ray_line = "Ray: 2 worker(s) with 1 CPU(s) and 0 GPU(s) each, device cpu\n"
    assert ray_line in out and out.replace(ray_line, "").replace("/ray/", "/local/") == local[1]
    assert "done: extracted 3 video(s), skipped 0 already extracted, 2 failed" in out
    assert f"failed {CORRUPT}: {CORRUPT}.mp4: corrupt" in err and f"failed {ABSENT}: no media file" in err
    ray_files, local_files = files_of(dataset / "ray"), files_of(dataset / "local")
    assert sorted(ray_files) == sorted(local_files) and len(ray_files) == 2 * (1 + len(CLIPS)) + 1
    for name, content in ray_files.items():
        if isinstance(content, dict):
            assert content.keys() == local_files[name].keys() == {"features", "times"}
            for key, array in content.items():
                np.testing.assert_array_equal(array, local_files[name][key], err_msg=name)
        else:
            assert content == local_files[name], name
    assert {f.id for f in read_failures(dataset / "ray" / FAILURES_FILE)} == {CORRUPT, ABSENT}

    stamps = {p: p.stat().st_mtime_ns for p in (dataset / "ray").rglob("*.npz")}
    code, out, _ = extract(dataset, backbones, "--engine", "ray", "--workers", "2", cache="ray")
    assert code == 2 and f"skipped {len(CLIPS)} already extracted; 2 to extract" in out
    assert {p: p.stat().st_mtime_ns for p in (dataset / "ray").rglob("*.npz")} == stamps
    assert not list((dataset / "ray").rglob(f"{PROBE_PREFIX}*"))


@pytest.mark.slow
def test_a_worker_that_dies_has_its_video_retried_a_bounded_number_of_times(ray_instance, dataset, backbones,
                                                                            exit_marker):
    """Without retries the video of a killed worker is a failure; a rerun extracts only it, and with
    retries a worker killed on it again gets it extracted by another."""
    exit_marker.unlink()
    code, out, err = extract(dataset, backbones, "--channels", "audio", "--engine", "ray", "--workers", "2",
                             "--retries", "0", split="good.csv")
    assert exit_marker.exists() and code == 2, err  # one worker exited on its first video
    [failure] = read_failures(dataset / "cache" / FAILURES_FILE)
    assert failure.error == "its worker died 1 time(s) while extracting it (out of memory, or its node was lost)"
    assert f"done: extracted {len(CLIPS) - 1} video(s)" in out
    store = FeatureCache(dataset / "cache").store_for("audio")
    assert failure.id not in store.ids() and len(store.ids()) == len(CLIPS) - 1

    exit_marker.unlink()
    code, out, err = extract(dataset, backbones, "--channels", "audio", "--engine", "ray", "--workers", "2",
                             split="good.csv")
    assert exit_marker.exists() and code == 0, err  # its worker exited again, another extracted it
    assert f"skipped {len(CLIPS) - 1} already extracted; 1 to extract" in out and "done: extracted 1 video(s)" in out
    assert store.ids() == sorted(CLIPS) and not (dataset / "cache" / FAILURES_FILE).exists()
    assert not [p for p in store.path.iterdir() if p.name.startswith(".")]


@pytest.mark.slow
def test_a_worker_that_cannot_start_fails_the_run_before_any_work(ray_instance, dataset, backbones, tmp_path):
    """The backbone is gone where the workers run: one clear line, nothing extracted, no probe left."""
    moved = tmp_path / "wav2vec2-copy"
    shutil.copytree(backbones["audio"], moved)
    specs = Extractors.from_options(["audio"], audio_backbone=str(moved)).specs
    shutil.rmtree(moved)
    cache = FeatureCache(dataset / "cache")
    videos = [(i, dataset / "videos" / f"{i}{Path(n).suffix}") for i, n in CLIPS.items()]
    run = ExtractionRun(workers=2, progress=False, log=lambda line: None, cluster=RayCluster())
    with pytest.raises(ExtractionError, match=r"^the Ray worker on \S+ .*wav2vec2-copy") as caught:
        extract_videos(videos, cache, specs, run)
    assert "\n" not in str(caught.value)
    store = cache.store_for("audio")
    assert store.ids() == [] and not [p for p in store.path.iterdir() if p.name.startswith(".")]


@pytest.mark.slow
def test_asking_for_resources_the_cluster_lacks_is_one_line(ray_instance, dataset, backbones):
    code, _, err = extract(dataset, backbones, "--channels", "audio", "--engine", "ray", "--device", "cuda")
    assert code == 2 and err == "error: 1 worker(s) × 1 GPU(s) need 1 GPUs; the Ray cluster has 0\n"
    code, _, err = extract(dataset, backbones, "--channels", "audio", "--engine", "ray", "--workers", "3")
    assert code == 2 and err == "error: 3 worker(s) × 1 CPU(s) need 3 CPUs; the Ray cluster has 2\n"


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_leaves_no_partial_file(dataset, backbones, tmp_path):
    """Ctrl-C (SIGINT to the whole process group, as a terminal sends it) mid-run: exit 130, finished
    videos kept whole, no temporary file, and the private Ray instance is gone."""
    ray_tmp = Path(tempfile.mkdtemp(prefix="emi-ray-", dir="/tmp"))  # short: Ray's socket paths are limited
    env = {**os.environ, "RAY_TMPDIR": str(ray_tmp), "RAY_USAGE_STATS_ENABLED": "0", "PYTHONPATH": str(REPO_ROOT)}
    command = [sys.executable, "-m", "emi_core", "extract", "--videos", str(dataset / "videos"),
               "--split", str(dataset / "split.csv"), "--cache", str(dataset / "cache"), "--channels", "visual",
               "--visual-backbone", str(backbones["visual"]), "--fps", "30", "--device", "cpu",
               "--engine", "ray", "--workers", "1", "--no-progress"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while not list((dataset / "cache").glob("*/0*.npz")):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "no video extracted in 300 s"
            time.sleep(0.1)
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        shutil.rmtree(ray_tmp, ignore_errors=True)
    assert process.returncode == 130 and err.endswith("interrupted\n"), (out, err)
    store = FeatureCache(dataset / "cache").store_for("visual")
    assert 1 <= len(store.ids()) < len(CLIPS)
    for video_id in store.ids():
        store.read(video_id)
    assert not [p for p in (dataset / "cache").rglob(".*") if p.is_file()]
    time.sleep(2)
    survivors = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert str(ray_tmp) not in survivors


def test_ray_options_need_the_ray_engine(dataset, capsys):
    code = main(["extract", "--videos", str(dataset / "videos"), "--split", str(dataset / "split.csv"),
                 "--cache", str(dataset / "cache"), "--address", "auto", "--gpus-per-worker", "0.5"])
    assert code == 2 and capsys.readouterr().err == "error: --address, --gpus-per-worker only apply with --engine ray\n"


@pytest.mark.parametrize(
    ("options", "message"),
    [({"gpus_per_worker": -1.0}, "gpus per worker must be"), ({"cpus_per_worker": 0.0}, "more than 0"),
     ({"gpus_per_worker": float("nan")}, "finite"), ({"retries": -1}, "retries must be")],
)
def test_absurd_cluster_settings_are_config_errors(options, message):
    with pytest.raises(ConfigError, match=message):
        RayCluster(**options)


def test_without_ray_installed_the_ray_engine_is_one_clear_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ConfigError, match=r'^the Ray engine needs Ray: pip install -e "\.\[ray\]"'):
        RayCluster()


def test_each_worker_checks_that_it_shares_the_cache_and_the_videos(tmp_path):
    spec = ExtractorSpec("audio-wav2vec2", {"backbone": "tiny"}, 32)
    store = FeatureCache(tmp_path / "cache").store(spec)
    video = tmp_path / "00001.mp4"
    video.write_bytes(b"")
    setup = WorkerSetup(specs={"audio": spec}, stores={"audio": store.path})
    assert check_shared_storage(setup, ".probe", video) is None and (store.path / ".probe").is_file()
    assert "cannot see the video" in check_shared_storage(setup, ".probe", tmp_path / "elsewhere.mp4")
    unseen = WorkerSetup(specs={"audio": spec}, stores={"audio": tmp_path / "node-local" / store.key})
    assert check_shared_storage(unseen, ".probe", video) == (
        f"cannot see the feature cache: {tmp_path / 'node-local' / store.key / 'extractor.json'} is missing on this "
        "node (the cache must be on storage every node mounts at the same path)"
    )


def test_the_ray_pins_agree():
    pins = [
        line for name in ("requirements-ray.txt", "requirements-test.txt")
        for line in (REPO_ROOT / name).read_text().splitlines() if line.startswith("ray==")
    ]
    assert len(pins) == 2 and pins[0] == pins[1]


def test_an_unreachable_cluster_is_one_line_not_a_long_wait():
    from emi_core.features.batch.cluster import _check_reachable

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        port = server.getsockname()[1]  # bound, not listening: refused
        for address in (f"127.0.0.1:{port}", f"ray://127.0.0.1:{port}"):
            with pytest.raises(ExtractionError, match=rf"^cannot reach the Ray cluster at {address} \(.*\); is"):
                _check_reachable(address, timeout_s=2)
        server.listen()
        _check_reachable(f"127.0.0.1:{port}", timeout_s=2)
    _check_reachable("auto")  # resolved by Ray itself


def test_the_local_engine_needs_no_ray():
    code = ("import sys; from emi_core.cli import build_parser; import emi_core.features.batch; build_parser(); "
            "assert 'ray' not in sys.modules, 'ray imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO_ROOT, timeout=120)
