"""One video's extraction job, and the worker that runs jobs (the same in every engine).

A :class:`Worker` loads the extractors once (from a picklable :class:`WorkerSetup`) and then runs
:class:`VideoJob` after :class:`VideoJob`, writing each video's features to the cache's stores. The
local engine runs one in this process or one per pool process; the Ray engine one per actor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch

from emi_core.errors import EMIError
from emi_core.features.cache import ExtractorSpec, FeatureStore
from emi_core.features.extract import Extractors
from emi_core.media import MediaLimits


@dataclass(frozen=True)
class VideoJob:
    """Extract ``channels`` of the video ``video_id`` from its file ``path``."""

    video_id: str
    path: Path
    channels: tuple[str, ...]


@dataclass(frozen=True)
class WorkerSetup:
    """What a worker needs (picklable): the specs, their store folders, device, backbone copies, limits."""

    specs: Mapping[str, ExtractorSpec]
    stores: Mapping[str, Path]
    device: str = "cpu"
    backbones: Mapping[str, str] = field(default_factory=dict)
    search_dirs: tuple[Path, ...] = ()
    limits: MediaLimits = field(default_factory=MediaLimits)
    threads: int | None = None


class Worker:
    """Extractors loaded once and the stores they write to; call it with one job at a time."""

    def __init__(self, setup: WorkerSetup, loaded: Extractors | None = None):
        if setup.threads is not None:
            torch.set_num_threads(setup.threads)
        self.setup = setup
        self.stores = {channel: FeatureStore(path, setup.specs[channel]) for channel, path in setup.stores.items()}
        self._owned = loaded is None
        self.extractors = loaded or Extractors.from_specs(
            setup.specs, setup.device, backbones=setup.backbones, search_dirs=setup.search_dirs
        )

    def __call__(self, job: VideoJob) -> str | None:
        """Extract and store one video's missing channels; the one-line error, or ``None`` on success."""
        try:
            for channel, sequence in self.extractors.extract(job.path, self.setup.limits, job.channels):
                self.stores[channel].write(job.video_id, *sequence)
        except Exception as err:  # noqa: BLE001 - one bad video must not stop a 17,000-video run
            return one_line(err)
        return None

    def close(self) -> None:
        """Release the extractors this worker loaded (not those it was given)."""
        if self._owned:
            self.extractors.close()


def one_line(err: BaseException) -> str:
    """The error as one line: its message for an :class:`EMIError`, else prefixed by its type."""
    text = " ".join(str(err).split())
    return text if isinstance(err, EMIError) and text else f"{type(err).__name__}: {text}"
