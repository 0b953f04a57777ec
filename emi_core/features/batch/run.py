"""Batch extraction into a feature cache: what to run (:class:`ExtractionRun`) and the entry points.

:func:`extract_split` fills a cache for the videos of split CSVs (what ``emi extract`` does);
:func:`extract_videos` for any list of ``(id, file)``. Videos whose features are already stored are
skipped (per channel), the rest run in the chosen engine (one process, a local process pool, or
Ray actors), and a video that fails is recorded in ``{cache}/failures.csv`` while the others go on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import torch

from emi_core.errors import ConfigError
from emi_core.features.batch import local
from emi_core.features.batch.cluster import RayCluster, on_ray
from emi_core.features.batch.failures import FAILURES_FILE, Failure, record_failures
from emi_core.features.batch.jobs import VideoJob, WorkerSetup, one_line
from emi_core.features.cache import ExtractorSpec, FeatureCache, FeatureStore
from emi_core.features.extract import Extractors
from emi_core.media import MediaLimits
from emi_core.progress import progress

VideoItem = tuple[str, "Path | Exception"]
"""``(id, file)``, or ``(id, error)`` for an id whose file could not be found."""


@dataclass(frozen=True)
class ExtractionRun:
    """How a batch extraction runs (what it extracts is given by the extractor specs).

    * ``workers``: parallel workers, each loading the backbones once (1: in this process);
    * ``device``: the torch device of every worker;
    * ``limits``: media limits per file (frames are downscaled to the visual extractor's ``max_side``);
    * ``backbones``: ``{channel: path or Hub id}``, another copy of a recorded backbone's weights;
    * ``search_dirs``: folders where recorded backbones are looked for by file name;
    * ``progress``: ``False`` hides it (else a bar on a terminal, a line every 10 % in a log);
      ``log``: where lines go;
    * ``cluster``: run the workers as Ray actors there (``None``: the local engine, no Ray needed);
      ``device`` may then be ``"auto"``, decided by the cluster's GPUs.
    """

    workers: int = 1
    device: str | torch.device = "cpu"
    limits: MediaLimits = field(default_factory=MediaLimits)
    backbones: Mapping[str, str] = field(default_factory=dict)
    search_dirs: tuple[Path, ...] = ()
    progress: bool | None = None
    log: Callable[[str], None] = print
    cluster: RayCluster | None = None

    def __post_init__(self) -> None:
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1:
            raise ConfigError(f"the number of workers must be a whole number of at least 1, got {self.workers!r}")
        object.__setattr__(self, "device", str(self.device))
        object.__setattr__(self, "backbones", dict(self.backbones))
        object.__setattr__(self, "search_dirs", tuple(Path(p) for p in self.search_dirs))


@dataclass
class ExtractionResult:
    """What a batch extraction did."""

    extracted: int = 0
    skipped: int = 0
    failures: list[Failure] = field(default_factory=list)
    stores: dict[str, FeatureStore] = field(default_factory=dict)

    def summary(self) -> str:
        """One line: how many videos were extracted, skipped and failed."""
        line = f"done: extracted {self.extracted} video(s), skipped {self.skipped} already extracted"
        return line + (f", {len(self.failures)} failed" if self.failures else "")


def extract_split(
    videos: str | Path,
    splits: str | Path | Sequence[str | Path],
    cache: str | Path | FeatureCache,
    extractors: Extractors | Mapping[str, ExtractorSpec],
    run: ExtractionRun | None = None,
) -> ExtractionResult:
    """Extract every video listed in ``splits`` (challenge CSVs) from the folder ``videos`` into ``cache``.

    ``extractors``: loaded :class:`~emi_core.features.extract.Extractors` (used as they are by a
    single local worker, and left open) or just their specs (the workers load their own).
    """
    from emi_core.dataset import VideoFolder, read_ids

    run = run or ExtractionRun()
    splits = [splits] if isinstance(splits, (str, Path)) else list(splits)
    ids = list(dict.fromkeys(i for split in splits for i in read_ids(split)))
    folder = VideoFolder(videos)
    cache = cache if isinstance(cache, FeatureCache) else FeatureCache(cache)
    loaded = extractors if isinstance(extractors, Extractors) else None
    specs = extractors.specs if loaded is not None else dict(extractors)
    run.log(f"{len(ids)} videos listed; {len(folder)} media files in {folder.root}; device {run.device}")
    for channel, spec in specs.items():
        run.log(f"{channel} features: {cache.root / spec.key} ({spec.dim}-d, backbone {spec.config['backbone']})")
    return extract_videos(folder.lookup(ids), cache, specs, run, loaded=loaded)


def extract_videos(
    videos: Sequence[VideoItem],
    cache: FeatureCache,
    specs: Mapping[str, ExtractorSpec],
    run: ExtractionRun | None = None,
    *,
    loaded: Extractors | None = None,
) -> ExtractionResult:
    """Extract every video whose features of ``specs`` are not yet in ``cache``; never stops on a failure.

    ``loaded``: extractors for ``specs`` already in memory, used by a single local worker; otherwise
    each worker builds its own with :meth:`Extractors.from_specs` (``run.backbones``,
    ``run.search_dirs``), and only if something is left to do. Failures of this run replace those of
    the same ids in ``{cache}/failures.csv``.
    """
    run = run or ExtractionRun()
    result = ExtractionResult(stores={channel: cache.store(spec) for channel, spec in specs.items()})
    jobs: list[VideoJob] = []
    for video_id, path in videos:
        needed = tuple(c for c, store in result.stores.items() if not store.has(video_id))
        if not needed:
            result.skipped += 1
        elif isinstance(path, Exception):
            result.failures.append(Failure(video_id, "", one_line(path)))
        else:
            jobs.append(VideoJob(video_id, Path(path), needed))
    run.log(f"skipped {result.skipped} already extracted; {len(videos) - result.skipped} to extract")
    if jobs:
        setup = WorkerSetup(
            specs=dict(specs),
            stores={channel: store.path.resolve() for channel, store in result.stores.items()},
            device=run.device,
            backbones=run.backbones,
            search_dirs=run.search_dirs,
            limits=run.limits,
        )
        with closing(_outcomes(jobs, setup, run, loaded)) as outcomes, _bar(len(jobs), run.progress) as bar:
            for job, error in outcomes:
                if error is None:
                    result.extracted += 1
                else:
                    result.failures.append(Failure(job.video_id, str(job.path), error))
                    bar.set_postfix(failed=len(result.failures))
                bar.update(1)
    record_failures(cache.root / FAILURES_FILE, [video_id for video_id, _ in videos], result.failures)
    return result


def _outcomes(
    jobs: Sequence[VideoJob], setup: WorkerSetup, run: ExtractionRun, loaded: Extractors | None
) -> Iterator[local.Outcome]:
    if run.cluster is not None:
        return on_ray(jobs, setup, run.workers, run.cluster, run.log)
    if run.workers == 1:
        return local.in_process(jobs, setup, loaded)
    return local.in_pool(jobs, setup, run.workers)


def _bar(total: int, show: bool | None):
    return progress(total=total, desc="extracting", unit="video", show=show)
