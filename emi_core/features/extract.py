"""Feature extraction for the paper's model: per video, and for whole splits (parallel, resumable).

Per video (:meth:`Extractors.extract`) the file is probed once and each stream decoded once: frames
at the extractor's rate go through the face tracker (aligned 112 × 112 RGB crops, MediaPipe mesh),
crops are embedded by ResNet18 in batches as they come (memory stays flat), AUs come from the
meshes; the 16 kHz audio goes through Wav2Vec2. The same code turns the app's faces and audio into
features when a checkpoint is served (:mod:`emi_core.models.paper.serving`), so training and serving
see identical features for identical frames.

* **Visual** (``visual-dual``): :func:`~emi_core.features.visual.dual_features` of the frames with a
  face. A file without a video stream, or without any face, gives an empty sequence.
* **Audio** (``audio-wav2vec2``): :class:`~emi_core.features.audio.Wav2Vec2Features`. No audio track,
  or digital silence (peak at most :data:`~emi_core.media.SILENCE_DBFS`, the threshold below which
  the app skips the audio channel), gives an empty sequence.

Empty sequences are stored (``T = 0``): the video was processed, and a rerun does not redo it.

:func:`extract_videos` runs a list of videos into a :class:`~emi_core.features.cache.FeatureCache`:
videos whose features are already stored are skipped (per channel), the rest run in ``workers``
processes (``spawn``; each loads its models once and uses ``cores // workers`` torch threads), and
a video that fails is recorded in ``{cache}/failures.csv`` (``id,path,error``) while the others go on.
"""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import torch

from emi_core.atomic import atomic_path
from emi_core.channels import CHANNELS, ordered
from emi_core.errors import ConfigError, EMIError, ExtractionError, ModelError
from emi_core.faces import FaceTrack, FaceTracker
from emi_core.features.au import AU_NAMES, estimate_aus
from emi_core.features.audio import Wav2Vec2Features, load_wav2vec2
from emi_core.features.backbones import DEFAULT_AUDIO_BACKBONE, RANDOM
from emi_core.features.cache import (
    AUDIO_EXTRACTOR,
    VISUAL_EXTRACTOR,
    ExtractorSpec,
    FeatureCache,
    FeatureStore,
)
from emi_core.features.visual import DEFAULT_INPUT_SIZE, FaceEmbedder, dual_features, load_face_embedder
from emi_core.media import MediaLimits, MediaSource, is_silent, iter_frames, open_media, read_audio, sampling_rate

CODE_VERSION = 1
"""Version of the feature computation in this module; recorded in every extractor config."""

PAPER_FPS = 30.0
"""The paper resamples every video to 30 frames per second."""

CROP_SIZE = 112
"""Aligned face crop size (pixels), as in the paper."""

FAILURES_FILE = "failures.csv"
FAILURE_COLUMNS = ("id", "path", "error")

FeatureSequence = tuple[np.ndarray, np.ndarray]
"""``(features (T, D) float32, times (T,) float32)``."""


def _empty(dim: int) -> FeatureSequence:
    return np.zeros((0, dim), np.float32), np.zeros(0, np.float32)


class VisualExtractor:
    """Dual-channel visual features (ResNet18 ⊕ AUs) of the frames with a face, at ``fps``."""

    def __init__(self, embedder: FaceEmbedder, fps: float = PAPER_FPS, max_side: int = MediaLimits().max_side):
        self.embedder = embedder
        self.fps = float(fps)
        self.max_side = int(max_side)
        self._tracker: FaceTracker | None = None

    @property
    def dim(self) -> int:
        """Feature size: the embedding's plus one per AU."""
        return self.embedder.dim + len(AU_NAMES)

    @property
    def spec(self) -> ExtractorSpec:
        """What these features are: backbone, weights, frame rate, face crops, AUs, code version."""
        config = {
            **self.embedder.description,
            "fps": self.fps,
            "crop_size": CROP_SIZE,
            "max_side": self.max_side,
            "faces": "mediapipe-face-mesh",
            "au_names": list(AU_NAMES),
            "code_version": CODE_VERSION,
        }
        return ExtractorSpec(VISUAL_EXTRACTOR, config, self.dim)

    @property
    def random(self) -> bool:
        """Whether the backbone has random weights."""
        return self.embedder.source == RANDOM

    def from_faces(self, crops: np.ndarray, action_units: np.ndarray, times: np.ndarray) -> FeatureSequence:
        """Features of tracked faces: ``crops`` ``(F, 112, 112, 3)``, their AUs ``(F, K)`` and times ``(F,)``."""
        return dual_features(self.embedder(crops), action_units, times)

    def from_source(self, source: MediaSource) -> FeatureSequence:
        """Decode the frames once, track the face, embed crops in batches; empty without video or face."""
        if not source.info.has_video:
            return _empty(self.dim)
        tracker = self._face_tracker()
        tracker.reset()
        rate = sampling_rate(source.info, self.fps, source.limits)
        track, embeddings, pending = FaceTrack(frames=[]), [], []
        for time_s, frame in iter_frames(source, rate):
            face = tracker(frame, time_s)
            if face.found:
                pending.append(face.crop)
                if len(pending) == self.embedder.batch_size:
                    embeddings.append(self.embedder(np.stack(pending)))
                    pending = []
            track.frames.append(replace(face, crop=None))  # crops are embedded as they come: memory stays flat
        if pending:
            embeddings.append(self.embedder(np.stack(pending)))
        found = track.found
        if not found.any():
            return _empty(self.dim)
        action_units = estimate_aus(track.landmarks_array())[found]
        return dual_features(np.concatenate(embeddings), action_units, track.times[found])

    def close(self) -> None:
        """Release the face tracker."""
        if self._tracker is not None:
            self._tracker.close()
            self._tracker = None

    def _face_tracker(self) -> FaceTracker:
        if self._tracker is None:
            self._tracker = FaceTracker(crop_size=CROP_SIZE, grayscale=False)
        return self._tracker


class AudioExtractor:
    """Wav2Vec2 features of the 16 kHz audio track (empty without audio or for digital silence)."""

    def __init__(self, wav2vec2: Wav2Vec2Features):
        self.wav2vec2 = wav2vec2

    @property
    def spec(self) -> ExtractorSpec:
        """What these features are: backbone, weights, layer, input normalisation, chunking, code version."""
        return ExtractorSpec(
            AUDIO_EXTRACTOR, {**self.wav2vec2.description, "code_version": CODE_VERSION}, self.wav2vec2.dim
        )

    @property
    def random(self) -> bool:
        """Whether the backbone has random weights."""
        return self.wav2vec2.architecture is not None

    def from_waveform(self, waveform: np.ndarray | None) -> FeatureSequence:
        """Features of a 16 kHz mono waveform (``None``: no audio)."""
        if is_silent(waveform):
            return _empty(self.wav2vec2.dim)
        sequence = self.wav2vec2(waveform)
        return sequence.features, sequence.times

    def from_source(self, source: MediaSource) -> FeatureSequence:
        """Decode the audio once and extract."""
        return self.from_waveform(read_audio(source))

    def close(self) -> None:
        """Nothing to release (kept for symmetry with :class:`VisualExtractor`)."""


ChannelExtractor = VisualExtractor | AudioExtractor


@dataclass
class Extractors:
    """The extractors of one run, by channel (``visual`` and/or ``audio``)."""

    by_channel: dict[str, ChannelExtractor] = field(default_factory=dict)

    @property
    def specs(self) -> dict[str, ExtractorSpec]:
        """``{channel: ExtractorSpec}``."""
        return {channel: extractor.spec for channel, extractor in self.by_channel.items()}

    @property
    def random(self) -> bool:
        """Whether any backbone has random weights (its outputs are not predictions)."""
        return any(extractor.random for extractor in self.by_channel.values())

    def extract(
        self, path: str | Path, limits: MediaLimits | None = None, channels: Iterable[str] | None = None
    ) -> Iterator[tuple[str, FeatureSequence]]:
        """Yield ``(channel, (features, times))`` for one file: probed once, each stream decoded once.

        Frames are downscaled to the visual extractor's recorded ``max_side``, whatever ``limits`` say,
        so that features always match their config.
        """
        limits = limits or MediaLimits()
        visual = self.by_channel.get("visual")
        if visual is not None and limits.max_side != visual.max_side:
            limits = replace(limits, max_side=visual.max_side)
        source = open_media(path, limits)
        for channel in channels or tuple(self.by_channel):
            yield channel, self.by_channel[channel].from_source(source)

    def close(self) -> None:
        """Release every extractor's resources."""
        for extractor in self.by_channel.values():
            extractor.close()

    @classmethod
    def from_options(
        cls,
        channels: Sequence[str] = CHANNELS,
        *,
        visual_backbone: str | None = None,
        audio_backbone: str | None = DEFAULT_AUDIO_BACKBONE,
        audio_layer: int | None = None,
        fps: float = PAPER_FPS,
        input_size: int = DEFAULT_INPUT_SIZE,
        max_side: int = MediaLimits().max_side,
        device: str | torch.device = "cpu",
    ) -> Extractors:
        """Extractors for new features (``emi extract``); :class:`ModelError` when a backbone is unusable."""
        try:
            channels = ordered(channels)
        except ValueError as err:
            raise ConfigError(str(err)) from None
        if fps <= 0:
            raise ConfigError(f"--fps must be positive, got {fps:g}")
        by_channel: dict[str, ChannelExtractor] = {}
        if "visual" in channels:
            embedder = load_face_embedder(visual_backbone, device, input_size=input_size)
            by_channel["visual"] = VisualExtractor(embedder, fps, max_side)
        if "audio" in channels:
            by_channel["audio"] = AudioExtractor(load_wav2vec2(audio_backbone, device, layer=audio_layer))
        return cls(by_channel)

    @classmethod
    def from_specs(
        cls,
        specs: Mapping[str, ExtractorSpec],
        device: str | torch.device = "cpu",
        *,
        backbones: Mapping[str, str] | None = None,
        search_dirs: Sequence[Path] = (),
    ) -> Extractors:
        """The extractors that made features of ``specs`` (from a cache or a checkpoint config).

        Each backbone is loaded from its recorded source, or from ``backbones[channel]`` (another copy
        of the same weights), or found by name in ``search_dirs``; its weights must have the recorded
        sha256, and the rebuilt extractor must describe itself exactly as recorded.
        """
        backbones = dict(backbones or {})
        by_channel: dict[str, ChannelExtractor] = {}
        for channel, spec in specs.items():
            try:
                by_channel[channel] = _from_spec(channel, spec, device, backbones.get(channel), tuple(search_dirs))
            except KeyError as err:
                raise ModelError(
                    f"{channel} features {spec.key} were not made by emi extract (their config lacks {err}); "
                    "they cannot be recomputed"
                ) from None
            except ModelError as err:
                raise ModelError(
                    f"the {channel} backbone that made features {spec.key} is needed: {err} "
                    "(or put a copy of the same weights in the checkpoint's backbones/ folder)"
                ) from None
            rebuilt = by_channel[channel].spec
            if rebuilt != spec:
                differs = sorted(
                    k for k in spec.config.keys() | rebuilt.config.keys() if spec.config.get(k) != rebuilt.config.get(k)
                )
                raise ModelError(
                    f"{channel} features {spec.key} cannot be recomputed by this version of emi "
                    f"(their config differs in {', '.join(differs) or 'dim'})"
                )
        return cls(by_channel)


def _from_spec(
    channel: str, spec: ExtractorSpec, device: str | torch.device, backbone: str | None, search_dirs: tuple[Path, ...]
) -> ChannelExtractor:
    config = spec.config
    if channel == "visual":
        embedder = load_face_embedder(
            backbone or config["backbone"],
            device,
            input_size=config["input_size"],
            expected_sha256=config["weights_sha256"],
            search_dirs=search_dirs,
        )
        embedder.source = config["backbone"]  # the same weights (sha256 checked) under the recorded name
        return VisualExtractor(embedder, config["fps"], config["max_side"])
    wav2vec2 = load_wav2vec2(
        backbone or config["backbone"],
        device,
        layer=config["layer"],
        expected_sha256=config["weights_sha256"],
        architecture=config.get("architecture"),
        search_dirs=search_dirs,
        chunk_s=config["chunk_s"],
        overlap_s=config["overlap_s"],
    )
    wav2vec2.source = config["backbone"]
    return AudioExtractor(wav2vec2)


# -- batch extraction -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """A video that could not be extracted: its id, file (``""`` if none) and one-line reason."""

    id: str
    path: str
    error: str


@dataclass
class ExtractionResult:
    """What :func:`extract_videos` did."""

    extracted: int = 0
    skipped: int = 0
    failures: list[Failure] = field(default_factory=list)
    stores: dict[str, FeatureStore] = field(default_factory=dict)

    def summary(self) -> str:
        """One line: how many videos were extracted, skipped and failed."""
        line = f"done: extracted {self.extracted} video(s), skipped {self.skipped} already extracted"
        return line + (f", {len(self.failures)} failed" if self.failures else "")


@dataclass(frozen=True)
class _Job:
    video_id: str
    path: Path
    channels: tuple[str, ...]


VideoItem = tuple[str, "Path | Exception"]
"""``(id, file)``, or ``(id, error)`` for an id whose file could not be found."""


def extract_videos(
    videos: Sequence[VideoItem],
    cache: FeatureCache,
    specs: Mapping[str, ExtractorSpec],
    *,
    workers: int = 1,
    device: str | torch.device = "cpu",
    limits: MediaLimits | None = None,
    backbones: Mapping[str, str] | None = None,
    search_dirs: Sequence[Path] = (),
    loaded: Extractors | None = None,
    progress: bool | None = None,
    log: Callable[[str], None] = print,
) -> ExtractionResult:
    """Extract every video whose features of ``specs`` are not yet in ``cache``; never stops on a failure.

    ``loaded``: extractors for ``specs`` already in memory (used when ``workers <= 1``); otherwise they
    are built with :meth:`Extractors.from_specs` (``backbones``, ``search_dirs``) only if something is
    left to do. ``progress=None`` shows the bar on a terminal only. Failures of this run replace
    those of the same ids in ``{cache}/failures.csv``.
    """
    limits = limits or MediaLimits()
    result = ExtractionResult(stores={channel: cache.store(spec) for channel, spec in specs.items()})
    jobs: list[_Job] = []
    for video_id, path in videos:
        needed = tuple(c for c, store in result.stores.items() if not store.has(video_id))
        if not needed:
            result.skipped += 1
        elif isinstance(path, Exception):
            result.failures.append(Failure(video_id, "", _one_line(path)))
        else:
            jobs.append(_Job(video_id, Path(path), needed))
    log(f"skipped {result.skipped} already extracted; {len(videos) - result.skipped} to extract")
    if jobs:
        run = _run_in_process if workers <= 1 else _run_in_workers
        run(jobs, result, specs, workers, device, limits, backbones or {}, tuple(search_dirs), loaded, progress)
    _record_failures(cache.root / FAILURES_FILE, [video_id for video_id, _ in videos], result.failures)
    return result


def _run_in_process(jobs, result, specs, workers, device, limits, backbones, search_dirs, loaded, progress) -> None:
    extractors = loaded or Extractors.from_specs(specs, device, backbones=backbones, search_dirs=search_dirs)
    try:
        with _bar(len(jobs), progress) as bar:
            for job in jobs:
                _account(result, job, _process(job, extractors, result.stores, limits), bar)
    finally:
        if loaded is None:
            extractors.close()


def _run_in_workers(jobs, result, specs, workers, device, limits, backbones, search_dirs, loaded, progress) -> None:
    threads = max(1, _available_cores() // workers)
    stores = {channel: (store.path, store.spec) for channel, store in result.stores.items()}
    initargs = (dict(specs), stores, str(device), dict(backbones), search_dirs, limits, threads)
    context = get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=initargs) as pool:
        futures = {pool.submit(_work, job): job for job in jobs}
        try:
            with _bar(len(jobs), progress) as bar:
                for future in as_completed(futures):
                    _account(result, futures[future], future.result(), bar)
        except BrokenProcessPool:
            raise ExtractionError(
                "an extraction worker died (out of memory, or a backbone failed to load in it); "
                "what finished is kept: rerun the same command to resume"
            ) from None
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _account(result: ExtractionResult, job: _Job, error: str | None, bar) -> None:
    if error is None:
        result.extracted += 1
    else:
        result.failures.append(Failure(job.video_id, str(job.path), error))
        bar.set_postfix(failed=len(result.failures))
    bar.update(1)


def _process(job: _Job, extractors: Extractors, stores: Mapping[str, FeatureStore], limits: MediaLimits) -> str | None:
    """Extract and store one video's missing channels; the one-line error, or ``None`` on success."""
    try:
        for channel, (features, times) in extractors.extract(job.path, limits, job.channels):
            stores[channel].write(job.video_id, features, times)
    except Exception as err:  # noqa: BLE001 - one bad video must not stop a 17,000-video run
        return _one_line(err)
    return None


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return text if isinstance(err, EMIError) and text else f"{type(err).__name__}: {text}"


# -- worker processes -----------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _init_worker(specs, stores, device, backbones, search_dirs, limits, threads) -> None:
    torch.set_num_threads(threads)
    _WORKER["extractors"] = Extractors.from_specs(specs, device, backbones=backbones, search_dirs=search_dirs)
    _WORKER["stores"] = {channel: FeatureStore(path, spec) for channel, (path, spec) in stores.items()}
    _WORKER["limits"] = limits


def _work(job: _Job) -> str | None:
    return _process(job, _WORKER["extractors"], _WORKER["stores"], _WORKER["limits"])


def _available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _bar(total: int, progress: bool | None):
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc="extracting",
        unit="video",
        file=sys.stderr,
        disable=None if progress is None else not progress,
    )


# -- failures.csv ---------------------------------------------------------------------------------


def read_failures(path: Path) -> list[Failure]:
    """The rows of a ``failures.csv`` (empty if there is none)."""
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        return [Failure(row["id"], row["path"], row["error"]) for row in csv.DictReader(handle)]


def _record_failures(path: Path, attempted: Sequence[str], failures: Sequence[Failure]) -> None:
    """Rewrite ``path``: earlier rows of ids not in this run, then this run's failures (removed if none)."""
    done = set(attempted)
    rows = [f for f in read_failures(path) if f.id not in done] + list(failures)
    if not rows:
        path.unlink(missing_ok=True)
        return
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(FAILURE_COLUMNS)
        writer.writerows((f.id, f.path, f.error) for f in rows)
