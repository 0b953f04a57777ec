"""The local engine: jobs in this process (one worker) or in a pool of spawned processes."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from multiprocessing import get_context

from emi_core.errors import ExtractionError
from emi_core.features.batch.jobs import VideoJob, Worker, WorkerSetup
from emi_core.features.extract import Extractors

Outcome = tuple[VideoJob, "str | None"]
"""A finished job and its one-line error (``None``: extracted)."""


def in_process(jobs: Sequence[VideoJob], setup: WorkerSetup, loaded: Extractors | None = None) -> Iterator[Outcome]:
    """Run ``jobs`` one after another here, with ``loaded`` extractors or ones built from ``setup``."""
    worker = Worker(setup, loaded)
    try:
        for job in jobs:
            yield job, worker(job)
    finally:
        worker.close()


def in_pool(jobs: Sequence[VideoJob], setup: WorkerSetup, workers: int) -> Iterator[Outcome]:
    """Run ``jobs`` in ``workers`` spawned processes (each loads the models once, ``cores // workers`` threads)."""
    setup = replace(setup, threads=max(1, available_cores() // workers))
    context = get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(setup,)) as pool:
        futures = {pool.submit(_work, job): job for job in jobs}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        except BrokenProcessPool:
            raise ExtractionError(
                "an extraction worker died (out of memory, or a backbone failed to load in it); "
                "what finished is kept: rerun the same command to resume"
            ) from None
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def available_cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


_WORKER: list[Worker] = []


def _init_worker(setup: WorkerSetup) -> None:
    _WORKER.append(Worker(setup))


def _work(job: VideoJob) -> str | None:
    return _WORKER[0](job)
