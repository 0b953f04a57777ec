"""The Ray engine: extraction workers as Ray actors, on this machine or on a Ray cluster.

Each actor loads the backbones once (a :class:`~emi_core.features.batch.jobs.Worker`) and extracts
the videos handed to it one at a time, writing to the same cache as the local engine. So the cache
and the videos **must be on storage that every node mounts at the same path** (NFS, a parallel file
system, a shared volume); each actor checks that it sees this machine's cache, can write there and
sees the videos before any work, and a worker that cannot fails the run with one line.

Faults: an actor whose process dies (out of memory, node lost) is restarted by Ray, wherever Ray
can place it, and the video it was extracting is handed to it again, at most
:attr:`RayCluster.retries` times; then that video is recorded as a failure and the run goes on.

Ray is an optional dependency (``pip install -e ".[ray]"``), imported only when this engine runs.

Test hook: with ``EMI_TEST_WORKER_EXIT_ONCE=PATH`` in an actor's environment, the first actor to
create ``PATH`` kills its own process on its first video (a worker lost mid-video).
"""

from __future__ import annotations

import math
import os
import secrets
import signal
import socket
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from emi_core.errors import ConfigError, ExtractionError
from emi_core.features.batch.jobs import VideoJob, Worker, WorkerSetup, one_line
from emi_core.features.batch.local import Outcome, available_cores
from emi_core.features.cache import MANIFEST

EXIT_ONCE_ENV = "EMI_TEST_WORKER_EXIT_ONCE"
PROBE_PREFIX = ".emi-probe-"
CONNECT_TIMEOUT_S = 10.0
"""How long the address of a cluster may take to accept a connection."""
STOP_WAIT_S = 10.0
"""How long an interrupted run waits for its actors to be gone before removing their temporary files."""


@dataclass(frozen=True)
class RayCluster:
    """Where and how the Ray workers run.

    * ``address``: ``None`` starts a private Ray instance on this machine (stopped at the end);
      ``"auto"`` joins the cluster this machine belongs to (``ray start``), ``"HOST:PORT"`` or
      ``"ray://HOST:10001"`` a given one (left running);
    * ``gpus_per_worker``: GPUs each worker reserves (fractions share a GPU: ``0.25`` puts four
      workers on one); ``None``: 1 on CUDA, else 0;
    * ``cpus_per_worker``: CPUs each worker reserves, and its torch threads; ``None``: this machine's
      cores divided among the workers for a private instance, else 1;
    * ``retries``: how many times a video whose worker died is extracted again before it is a failure;
    * ``object_store_bytes``: object store of a private instance (jobs and replies are tiny);
    * ``start_timeout_s``: how long workers may take to be placed and load their backbones.
    """

    address: str | None = None
    gpus_per_worker: float | None = None
    cpus_per_worker: float | None = None
    retries: int = 2
    object_store_bytes: int = 100_000_000
    start_timeout_s: float = 600.0

    def __post_init__(self) -> None:
        for name in ("gpus_per_worker", "cpus_per_worker"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise ConfigError(f"{name.replace('_', ' ')} must be a finite number of at least 0, got {value!r}")
        if self.cpus_per_worker == 0:
            raise ConfigError("cpus per worker must be more than 0")
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) or self.retries < 0:
            raise ConfigError(f"retries must be a whole number of at least 0, got {self.retries!r}")
        _import_ray()  # fail here, before any backbone is loaded


def on_ray(
    jobs: Sequence[VideoJob], setup: WorkerSetup, workers: int, cluster: RayCluster, log: Callable[[str], None]
) -> Iterator[Outcome]:
    """Run ``jobs`` on ``workers`` Ray actors; yield each job with its error (``None``: extracted)."""
    ray = _import_ray()
    started = _connect(ray, cluster)
    pool: _ActorPool | None = None
    try:
        setup, resources = _placement(ray, setup, workers, cluster, private=started)
        workers = min(workers, len(jobs))  # no actor would get a video
        log(
            f"Ray: {workers} worker(s) with {resources['num_cpus']:g} CPU(s) and {resources['num_gpus']:g} GPU(s) "
            f"each, device {setup.device}"
        )
        pool = _ActorPool(ray, setup, resources, jobs[0].path, cluster.start_timeout_s)
        pool.start(workers)
        yield from pool.run(jobs, cluster.retries)
    finally:
        if pool is not None:
            pool.stop()
        if started:
            ray.shutdown()


class _ActorPool:
    """Started actors, one video in flight on each; a dead actor is replaced and its video handed on."""

    def __init__(self, ray, setup: WorkerSetup, resources: dict[str, float], sample: Path, timeout_s: float):
        self.ray, self.setup, self.sample, self.timeout_s = ray, setup, sample, timeout_s
        self.actor_class = ray.remote(ExtractionActor).options(**resources, max_restarts=0, max_task_retries=0)
        self.token = secrets.token_hex(6)
        self.actors: list[Any] = []
        self.launched = 0
        self.idle: list[Any] = []
        self.starting: dict[Any, tuple[Any, str]] = {}  # start() reply → (actor, its probe file)
        self.running: dict[Any, tuple[VideoJob, Any]] = {}  # run() reply → (job, actor)

    def start(self, count: int) -> None:
        """Start ``count`` actors and wait until each has checked the storage and loaded its backbones."""
        for _ in range(count):
            self._launch()
        while self.starting:
            self._wait()

    def run(self, jobs: Sequence[VideoJob], retries: int) -> Iterator[Outcome]:
        """Hand out ``jobs``; a video whose actor died goes to another actor, at most ``retries`` times."""
        queue, deaths = deque(jobs), dict.fromkeys((job.video_id for job in jobs), 0)
        while queue or self.running:
            while self.idle and queue:
                actor = self.idle.pop()
                job = queue.popleft()
                self.running[actor.run.remote(job)] = (job, actor)
            if not self.running and not self.starting:
                raise ExtractionError("every Ray worker died; what finished is kept: rerun the same command to resume")
            ref = self._wait()
            if ref not in self.running:
                continue  # a replacement actor is ready
            job, actor = self.running.pop(ref)
            try:
                error = self.ray.get(ref)
            except (self.ray.exceptions.RayActorError, self.ray.exceptions.ActorUnavailableError):
                self._remove(actor)
                _remove_partial_files(self.setup, [job])
                deaths[job.video_id] += 1
                if deaths[job.video_id] <= retries:
                    queue.appendleft(job)
                if queue:
                    self._launch()
                if deaths[job.video_id] <= retries:
                    continue
                error = (
                    f"its worker died {deaths[job.video_id]} time(s) while extracting it "
                    "(out of memory, or its node was lost)"
                )
            except self.ray.exceptions.RayError as err:
                self.idle.append(actor)
                error = one_line(err)
            else:
                self.idle.append(actor)
            yield job, error

    def stop(self) -> None:
        """Kill every actor; remove the temporary files of videos they were writing, once they are gone."""
        for actor in self.actors:
            self.ray.kill(actor, no_restart=True)
        if self.running:
            self.ray.wait(list(self.running), num_returns=len(self.running), timeout=STOP_WAIT_S)
            _remove_partial_files(self.setup, [job for job, _ in self.running.values()])
        for _, probe in self.starting.values():
            self._remove_probe(probe)

    def _launch(self) -> None:
        actor = self.actor_class.remote(self.setup)
        probe = f"{PROBE_PREFIX}{self.token}-{self.launched}.tmp"
        self.launched += 1
        self.actors.append(actor)
        self.starting[actor.start.remote(probe, str(self.sample))] = (actor, probe)

    def _wait(self):
        """The next reply; :class:`ExtractionError` if only starting actors remain and none starts in time."""
        refs = [*self.running, *self.starting]
        ready, _ = self.ray.wait(refs, num_returns=1, timeout=None if self.running else self.timeout_s)
        if not ready:
            raise ExtractionError(
                f"{len(self.starting)} Ray worker(s) did not start within {self.timeout_s:g} s "
                "(the cluster is busy, or lacks the CPUs / GPUs asked for)"
            )
        ref = ready[0]
        if ref in self.starting:
            actor, probe = self.starting.pop(ref)
            try:
                self._check_started(ref, probe)
            finally:
                self._remove_probe(probe)
            self.idle.append(actor)
        return ref

    def _check_started(self, ref, probe: str) -> None:
        try:
            node, error = self.ray.get(ref)
        except self.ray.exceptions.RayError as err:
            raise ExtractionError(f"a Ray worker could not start: {one_line(err)}") from None
        if error is not None:
            raise ExtractionError(f"the Ray worker on {node} {error}")
        unseen = [folder for folder in self.setup.stores.values() if not (folder / probe).is_file()]
        if unseen:
            raise ExtractionError(
                f"the Ray worker on {node} wrote into {unseen[0]}, but this machine does not see it: "
                "the cache must be on storage every node shares at the same path"
            )

    def _remove(self, actor) -> None:
        self.ray.kill(actor, no_restart=True)
        self.actors.remove(actor)

    def _remove_probe(self, probe: str) -> None:
        for folder in self.setup.stores.values():
            (folder / probe).unlink(missing_ok=True)


class ExtractionActor:
    """One Ray worker: checks the shared storage, loads the backbones once, extracts videos."""

    def __init__(self, setup: WorkerSetup):
        self.setup = setup
        self.worker: Worker | None = None

    def start(self, probe: str, sample: str) -> tuple[str, str | None]:
        """Check the cache and videos, load the backbones; ``(node, error or None)``."""
        node = socket.gethostname()
        error = check_shared_storage(self.setup, probe, Path(sample))
        if error is None:
            try:
                self._worker()
            except Exception as err:  # noqa: BLE001 - reported to the driver as one line
                error = one_line(err)
        return node, error

    def run(self, job: VideoJob) -> str | None:
        """Extract one video (the one-line error, or ``None``); a restarted actor reloads its backbones first."""
        _exit_once_if_asked()
        try:
            worker = self._worker()
        except Exception as err:  # noqa: BLE001 - the video is recorded as failed, the run goes on
            return f"its worker could not load the backbones: {one_line(err)}"
        return worker(job)

    def _worker(self) -> Worker:
        if self.worker is None:
            self.worker = Worker(self.setup)
        return self.worker


def check_shared_storage(setup: WorkerSetup, probe: str, sample: Path) -> str | None:
    """Why this process cannot work on the run's cache and videos (one line), or ``None``.

    It must see every store's ``extractor.json`` (written by the machine that started the run),
    write the file ``probe`` into each store, and see the ``sample`` video.
    """
    for folder in setup.stores.values():
        if not (folder / MANIFEST).is_file():
            return (
                f"cannot see the feature cache: {folder / MANIFEST} is missing on this node "
                "(the cache must be on storage every node mounts at the same path)"
            )
        try:
            (folder / probe).write_text(socket.gethostname(), encoding="utf-8")
        except OSError as err:
            return f"cannot write to the feature cache folder {folder}: {err.strerror or err}"
    if not sample.is_file():
        return f"cannot see the video {sample} (the videos must be on storage every node mounts at the same path)"
    return None


def _import_ray():
    try:
        import ray
    except ImportError:
        raise ConfigError('the Ray engine needs Ray: pip install -e ".[ray]" (or the ray version it pins)') from None
    return ray


def _connect(ray, cluster: RayCluster) -> bool:
    """Start or join Ray unless this process already did; whether a private instance was started here."""
    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # nothing leaves the machine unasked
    quiet = {"include_dashboard": False, "log_to_driver": False, "logging_level": "ERROR"}
    try:
        if cluster.address is not None:
            _check_reachable(cluster.address)
            ray.init(address=cluster.address, **quiet)
            return False
        ray.init(
            address="local",  # a private instance: never join a cluster someone else started here
            num_cpus=available_cores(),
            num_gpus=_visible_gpus(),
            object_store_memory=cluster.object_store_bytes,
            **quiet,
        )
    except (ConnectionError, RuntimeError, ValueError) as err:
        where = f"the Ray cluster at {cluster.address}" if cluster.address else "a local Ray instance"
        raise ExtractionError(f"cannot start or reach {where}: {one_line(err)}") from None
    return True


def _check_reachable(address: str, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """A ``HOST:PORT`` or ``ray://HOST:PORT`` address must accept a connection (Ray itself retries for minutes)."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if address == "auto" or not host or not port.isdigit():
        return  # "auto" and other forms are Ray's to resolve
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as err:
        raise ExtractionError(
            f"cannot reach the Ray cluster at {address} ({err.strerror or err}); is `ray start --head` running there?"
        ) from None


def _visible_gpus() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def _placement(
    ray, setup: WorkerSetup, workers: int, cluster: RayCluster, *, private: bool
) -> tuple[WorkerSetup, dict[str, float]]:
    """The device and per-actor resources; :class:`ConfigError` if the cluster can never hold them."""
    total = ray.cluster_resources()
    gpus_total, cpus_total = float(total.get("GPU", 0)), float(total.get("CPU", 0))
    device = setup.device
    if device == "auto":
        device = "cuda" if gpus_total > 0 else "cpu"
    gpus = cluster.gpus_per_worker if cluster.gpus_per_worker is not None else (1.0 if device != "cpu" else 0.0)
    if device.startswith("cuda") and gpus == 0:
        raise ConfigError("workers on CUDA need a share of a GPU: set GPUs per worker above 0")
    cpus = cluster.cpus_per_worker or (max(cpus_total, 1.0) / workers if private else 1.0)
    for kind, each, have in (("GPU", gpus, gpus_total), ("CPU", cpus, cpus_total)):
        if workers * each > have + 1e-9:
            raise ConfigError(
                f"{workers} worker(s) × {each:g} {kind}(s) need {workers * each:g} {kind}s; "
                f"the Ray cluster has {have:g}"
            )
    return replace(setup, device=device, threads=max(1, int(cpus))), {"num_cpus": cpus, "num_gpus": gpus}


def _remove_partial_files(setup: WorkerSetup, jobs: Sequence[VideoJob]) -> None:
    """Temporary files of videos whose worker was stopped while writing them (``.{id}.npz.*.tmp``)."""
    for job in jobs:
        for channel in job.channels:
            for partial in setup.stores[channel].glob(f".{job.video_id}.npz.*.tmp"):
                partial.unlink(missing_ok=True)


def _exit_once_if_asked() -> None:
    marker = os.environ.get(EXIT_ONCE_ENV)
    if not marker:
        return
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return
    os.kill(os.getpid(), signal.SIGKILL)
