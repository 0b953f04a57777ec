"""On-disk cache of per-frame features, one folder per extractor configuration.

Layout::

    {cache}/
      visual-dual-1a2b3c4d5e6f/          # {extractor name}-{config hash}
        extractor.json                   # {"name", "channel", "config", "dim", "dtype", "format_version", ...}
        00042.npz                        # one file per video: features (T, D) float16, times (T,) float32 s
        ...
      audio-wav2vec2-0f9e8d7c6b5a/
        extractor.json
        00042.npz

* ``config hash`` = the first 12 hex digits of the sha256 of the config's canonical JSON (sorted keys,
  no whitespace), so a changed backbone, frame rate or layer lands in a new folder and never mixes with
  old features.
* Features are **stored as float16** (half the disk of float32: ~0.5 GB per 1,000 videos of 10 s for the
  dual visual channel at 30 fps plus Wav2Vec2-base at 50 Hz) and returned as float32; the relative
  rounding error (≤ 2^-11) is far below the noise of the features themselves. Values must be finite
  and within the float16 range (|x| ≤ 65504). ``times`` stay float32 seconds.
* A ``T == 0`` sequence is allowed: it records that a video was processed and had no usable frames
  (e.g. no face anywhere), so a resumed extraction does not redo it.
* Every file is written with :func:`emi_core.atomic.atomic_path` (a temporary name in the same
  folder, moved into place with :func:`os.replace`), so an interrupted extraction never leaves a
  half-written file (a stray ``.*.tmp`` file may remain; it is ignored and overwritten by the next write).
* Extractor names start with their channel: ``visual-...`` or ``audio-...``. The paper's two are
  :data:`VISUAL_EXTRACTOR` and :data:`AUDIO_EXTRACTOR`.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emi_core import __version__
from emi_core.atomic import atomic_path
from emi_core.channels import CHANNELS
from emi_core.errors import EMIError
from emi_core.features.backbones import RANDOM

FORMAT_VERSION = 1
"""Version of the cache layout written by this module."""

VISUAL_EXTRACTOR = "visual-dual"
"""ResNet18 face embedding (512) ⊕ AU vector, per sampled frame with a face."""

AUDIO_EXTRACTOR = "audio-wav2vec2"
"""Wav2Vec2 hidden states of one layer (e.g. 768 for a base model), about 50 per second."""

TEXT_EXTRACTOR = "text-transcript"
"""Sentence embeddings of the transcript's word windows (e.g. 384 for MiniLM), about 2 per second; the
transcript itself is kept beside them as ``{id}.sidecar.json`` (see :meth:`FeatureStore.write`)."""

STORAGE_DTYPE = np.float16
FLOAT16_MAX = float(np.finfo(np.float16).max)
MANIFEST = "extractor.json"
_NAME_PATTERN = re.compile(rf"^({'|'.join(CHANNELS)})-[a-z0-9][a-z0-9_.-]*$")


class CacheError(EMIError):
    """A feature cache is missing, ambiguous, inconsistent or holds an unreadable file."""


@dataclass(frozen=True)
class ExtractorSpec:
    """What produced a set of features: extractor ``name``, its ``config`` and the feature ``dim``.

    ``config`` must be JSON-serialisable and should name everything that changes the features, e.g.
    ``{"backbone": "resnet18.pth", "fps": 30, "face_size": 112, "au_names": [...]}`` for
    ``visual-dual`` or ``{"backbone": "facebook/wav2vec2-base-960h", "layer": 12}`` for
    ``audio-wav2vec2``. ``dim`` is not hashed: it follows from the config. A backbone with seeded
    random weights records ``"backbone_format": "random"`` (see :attr:`random_weights`).
    """

    name: str
    config: dict[str, Any] = field(hash=False)
    dim: int

    def __post_init__(self) -> None:
        if not _NAME_PATTERN.match(self.name):
            raise ValueError(
                f"extractor name {self.name!r} must start with 'visual-' or 'audio-' and use a-z, 0-9, '_', '.', '-'"
            )
        if int(self.dim) <= 0:
            raise ValueError(f"feature dim must be positive, got {self.dim}")
        object.__setattr__(self, "config", json.loads(canonical_json(self.config)))
        object.__setattr__(self, "dim", int(self.dim))

    @property
    def channel(self) -> str:
        """``"visual"`` or ``"audio"``, from the name's prefix."""
        return self.name.split("-", 1)[0]

    @property
    def random_weights(self) -> bool:
        """Whether these features come from a backbone with random weights: never predictions to show.

        The one test of "random weights": served checkpoints (``ModelInfo.kind == "untrained"``),
        ``predict-split`` and the extractors all derive it from the recorded spec.
        """
        return self.config.get("backbone_format") == RANDOM

    @property
    def config_hash(self) -> str:
        """First 12 hex digits of the sha256 of the canonical JSON of ``config``."""
        return hashlib.sha256(canonical_json(self.config).encode("utf-8")).hexdigest()[:12]

    @property
    def key(self) -> str:
        """Folder name in the cache: ``{name}-{config_hash}``."""
        return f"{self.name}-{self.config_hash}"

    def to_dict(self) -> dict[str, Any]:
        """``{"name", "config", "dim"}`` (what model configs record)."""
        return {"name": self.name, "config": self.config, "dim": self.dim}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExtractorSpec:
        """Inverse of :meth:`to_dict` (extra keys such as ``key`` are ignored)."""
        return cls(name=data["name"], config=data["config"], dim=data["dim"])


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: equal configs give equal text."""
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ValueError(f"extractor config is not plain JSON: {err}") from None


class FeatureStore:
    """The features of one extractor configuration: one ``{id}.npz`` file per video."""

    def __init__(self, path: Path, spec: ExtractorSpec):
        self.path = Path(path)
        self.spec = spec

    @property
    def key(self) -> str:
        """The folder name, ``{name}-{config_hash}``."""
        return self.spec.key

    @property
    def channel(self) -> str:
        """The channel of these features (``"visual"``, ``"audio"``, ``"text"``)."""
        return self.spec.channel

    @property
    def dim(self) -> int:
        """Feature dimension D."""
        return self.spec.dim

    def __repr__(self) -> str:
        return f"FeatureStore({str(self.path)!r})"

    def file(self, video_id: str) -> Path:
        """Path of the features file of ``video_id`` (which must be a plain file name)."""
        video_id = str(video_id)
        if not video_id or video_id.startswith(".") or "/" in video_id or "\\" in video_id:
            raise CacheError(f"invalid video id {video_id!r}: it must be a plain file name")
        return self.path / f"{video_id}.npz"

    def has(self, video_id: str) -> bool:
        """Whether features for ``video_id`` are stored."""
        return self.file(video_id).is_file()

    def ids(self) -> list[str]:
        """Sorted ids of every stored video."""
        return sorted(p.stem for p in self.path.glob("*.npz") if not p.name.startswith("."))

    def write(
        self, video_id: str, features: np.ndarray, times: np.ndarray, sidecar: dict[str, Any] | None = None
    ) -> Path:
        """Store ``features`` ``(T, D)`` and ``times`` ``(T,)`` (seconds) atomically; return the file.

        ``sidecar`` (e.g. the transcript the text features come from) is written first as
        ``{id}.sidecar.json``, so a stored features file always has its sidecar.
        """
        features = np.asarray(features)
        times = np.asarray(times, dtype=np.float32)
        if features.ndim != 2 or features.shape[1] != self.dim:
            raise ValueError(f"{self.key}: features must have shape (T, {self.dim}), got {features.shape}")
        if times.shape != (features.shape[0],):
            raise ValueError(f"{self.key}: times must have shape ({features.shape[0]},), got {times.shape}")
        if features.size and not (np.isfinite(features).all() and np.abs(features).max() <= FLOAT16_MAX):
            raise ValueError(f"{self.key}/{video_id}: features must be finite and within ±{FLOAT16_MAX:g}")
        if not np.isfinite(times).all() or (np.diff(times) < 0).any():
            raise ValueError(f"{self.key}/{video_id}: times must be finite and non-decreasing")
        target = self.file(video_id)
        if sidecar is not None:
            with atomic_path(self._sidecar_file(video_id)) as tmp:
                tmp.write_text(json.dumps(sidecar, allow_nan=False), encoding="utf-8")
        with atomic_path(target) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, features=features.astype(STORAGE_DTYPE), times=times)
        return target

    def sidecar(self, video_id: str) -> dict[str, Any] | None:
        """The JSON stored beside the features of ``video_id`` (``None`` if there is none)."""
        path = self._sidecar_file(video_id)
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise CacheError(f"unreadable file {path}: {err}") from None

    def _sidecar_file(self, video_id: str) -> Path:
        return self.file(video_id).with_suffix(".sidecar.json")

    def read(self, video_id: str) -> tuple[np.ndarray, np.ndarray]:
        """``(features (T, D) float32, times (T,) float32)`` of ``video_id``."""
        path = self.file(video_id)
        if not path.is_file():
            raise CacheError(f"no features for video {video_id!r} in {self.path}")
        try:
            with np.load(path, allow_pickle=False) as data:
                features = data["features"].astype(np.float32)
                times = data["times"].astype(np.float32)
        except (OSError, ValueError, KeyError) as err:
            raise CacheError(f"unreadable features file {path}: {err}") from None
        if features.ndim != 2 or features.shape[1] != self.dim or times.shape != (features.shape[0],):
            raise CacheError(f"{path} holds features of shape {features.shape}, expected (T, {self.dim})")
        return features, times

    def length(self, video_id: str) -> int:
        """Number of frames T stored for ``video_id`` (reads only its ``times`` array)."""
        path = self.file(video_id)
        try:
            with np.load(path, allow_pickle=False) as data:
                return int(data["times"].shape[0])
        except (OSError, ValueError, KeyError) as err:
            raise CacheError(f"unreadable features file {path}: {err}") from None


class FeatureCache:
    """A cache folder holding one :class:`FeatureStore` per extractor configuration."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"FeatureCache({str(self.root)!r})"

    def store(self, spec: ExtractorSpec) -> FeatureStore:
        """Open the store of ``spec``, creating it (and its ``extractor.json``) if needed."""
        path = self.root / spec.key
        manifest = path / MANIFEST
        if manifest.is_file():
            existing = _read_manifest(manifest)
            if existing != spec:
                raise CacheError(f"{manifest} describes {existing.to_dict()}, not {spec.to_dict()}")
            return FeatureStore(path, spec)
        path.mkdir(parents=True, exist_ok=True)
        payload = {
            **spec.to_dict(),
            "channel": spec.channel,
            "key": spec.key,
            "dtype": np.dtype(STORAGE_DTYPE).name,
            "format_version": FORMAT_VERSION,
            "emi_version": __version__,
        }
        with atomic_path(manifest) as tmp:
            tmp.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return FeatureStore(path, spec)

    def stores(self) -> list[FeatureStore]:
        """Every store in the cache (folders with an ``extractor.json``), sorted by key."""
        if not self.root.is_dir():
            return []
        found = []
        for manifest in sorted(self.root.glob(f"*/{MANIFEST}")):
            spec = _read_manifest(manifest)
            if spec.key != manifest.parent.name:
                raise CacheError(f"{manifest.parent} is named differently from its extractor key {spec.key}")
            found.append(FeatureStore(manifest.parent, spec))
        return found

    def open(self, spec_or_key: ExtractorSpec | str) -> FeatureStore:
        """The existing store for an :class:`ExtractorSpec` or a key; :class:`CacheError` if absent."""
        key = spec_or_key.key if isinstance(spec_or_key, ExtractorSpec) else str(spec_or_key)
        for store in self.stores():
            if store.key == key:
                return store
        raise CacheError(f"{self._where()} has no features from extractor {key}; it has: {self._listing()}")

    def store_for(self, channel: str) -> FeatureStore:
        """The single store of ``channel`` (``"visual"`` / ``"audio"``); :class:`CacheError` otherwise."""
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}; expected one of {CHANNELS}")
        matches = [s for s in self.stores() if s.channel == channel]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise CacheError(f"{self._where()} has no {channel} features; it has: {self._listing()}")
        raise CacheError(
            f"{self._where()} has {len(matches)} {channel} feature sets ({', '.join(s.key for s in matches)}); "
            "name the one to use by its key"
        )

    def _where(self) -> str:
        return f"cache {self.root}" + ("" if self.root.is_dir() else " (missing folder)")

    def _listing(self) -> str:
        stores = self.stores()
        return ", ".join(f"{s.key} ({len(s.ids())} videos)" for s in stores) if stores else "nothing"


def _read_manifest(path: Path) -> ExtractorSpec:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format_version") != FORMAT_VERSION:
            raise CacheError(f"{path}: cache format {data.get('format_version')!r}, expected {FORMAT_VERSION}")
        return ExtractorSpec.from_dict(data)
    except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
        raise CacheError(f"unreadable cache manifest {path}: {err}") from None
