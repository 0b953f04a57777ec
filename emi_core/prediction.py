"""Predict many clips: expand folders, keep going past failures, write JSON / CSV / timelines."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from emi_core.emotions import EMOTIONS
from emi_core.errors import DatasetError, EMIError, MediaError
from emi_core.media import SUPPORTED_EXTENSIONS
from emi_core.progress import progress
from emi_core.result import EMIResult
from emi_core.scoring import write_submission

CHALLENGE_ID = re.compile(r"^\d{5}$")


@dataclass
class Failure:
    """A clip that could not be analysed, with its one-line reason."""

    source: str
    error: str


@dataclass
class BatchPrediction:
    """One entry per clip, in input order: an :class:`EMIResult` or a :class:`Failure`."""

    items: list[EMIResult | Failure] = field(default_factory=list)

    @property
    def results(self) -> list[EMIResult]:
        """The clips that were analysed."""
        return [item for item in self.items if isinstance(item, EMIResult)]

    @property
    def failures(self) -> list[Failure]:
        """The clips that could not be analysed."""
        return [item for item in self.items if isinstance(item, Failure)]

    def to_json_ready(self, single: bool = False) -> dict | list:
        """One result dict for a single clip; else a list with one entry per clip (failures as ``error``)."""
        entries = [item.to_dict() if isinstance(item, EMIResult) else asdict(item) for item in self.items]
        return entries[0] if single and len(entries) == 1 else entries

    def write_csv(self, path: str | Path) -> Path:
        """Write the challenge-format CSV (fused intensities) and ``<name>.meta.json`` with the model provenance.

        Clips without any estimate (no face and no audio) are left out and listed in the metadata.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        ids, rows, skipped, seen = [], [], [], {}
        for result in self.results:
            stem = Path(result.source).stem
            if stem in seen:
                raise DatasetError(
                    f"two clips have the id '{stem}' ({seen[stem]} and {result.source}); ids must be unique"
                )
            seen[stem] = result.source
            if result.fused is None:
                skipped.append(result.source)
                continue
            ids.append(stem)
            rows.append([result.fused[emotion] for emotion in EMOTIONS])
        write_submission(path, ids, np.array(rows, dtype=np.float64).reshape(len(rows), len(EMOTIONS)))
        meta = {
            "csv": path.name,
            "rows": len(ids),
            "model": asdict(self.results[0].model) if self.results else None,
            "not_written": {"no_estimate": skipped, "failed": [asdict(f) for f in self.failures]},
            "non_challenge_ids": [i for i in ids if not CHALLENGE_ID.match(i)],
        }
        path.with_suffix(".meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        return path

    def write_timelines(self, folder: str | Path) -> list[Path]:
        """Write ``<stem>.timeline.csv`` per clip (channel, time_s, six intensities)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for result in self.results:
            target = folder / f"{Path(result.source).stem}.timeline.csv"
            with target.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, fieldnames=["channel", "time_s", *EMOTIONS], lineterminator="\n")
                writer.writeheader()
                writer.writerows(result.timeline_rows())
            written.append(target)
        return written


    def write_annotated(self, clips: list[Path], folder: str | Path) -> list[Path]:
        """Write ``<stem>.annotated.mp4`` for every analysed video (``clips`` in the batch's input order).

        A clip that cannot be annotated (audio only, no estimate) is recorded as a failure.
        """
        from emi_core.render import render_annotated

        folder = Path(folder)
        written = []
        for index, (clip, item) in enumerate(zip(clips, self.items, strict=True)):
            if isinstance(item, Failure) or not item.quality.has_video:
                continue
            try:
                written.append(render_annotated(clip, item, folder / f"{Path(clip).stem}.annotated.mp4"))
            except EMIError as err:
                self.items[index] = Failure(item.source, f"annotation: {err}")
        return written


def collect_clips(paths: Iterable[str | Path]) -> list[Path]:
    """Expand folders into their media files (sorted); files are kept as given, even if missing.

    A missing file then fails in the batch with a clear message; an empty folder is an error.
    """
    clips: list[Path] = []
    for entry in map(Path, paths):
        if entry.is_dir():
            found = sorted(p for p in entry.iterdir() if p.is_file() and p.suffix.lower() in SUPPORTED_EXTENSIONS)
            if not found:
                raise MediaError(f"{entry}: the folder holds no video or audio file")
            clips.extend(found)
        else:
            clips.append(entry)
    return clips


def predict_clips(pipeline, clips: list[Path], show_progress: bool = False) -> BatchPrediction:
    """Run ``pipeline`` on every clip; a clip that fails is recorded and the rest go on.

    With ``show_progress``, :func:`~emi_core.progress.progress` counts the clips, or, for one clip,
    follows the pipeline's stages (decoding, faces, features, …) in percent, so a long clip shows its
    progress (a bar on a terminal, a line every 10 % in a log).
    """
    batch = BatchPrediction()
    if len(clips) == 1:
        with progress(total=100, desc=clips[0].name, unit="%", show=show_progress) as bar:

            def report(fraction: float, stage: str) -> None:
                bar.set_postfix(stage=stage)
                bar.update(max(0, round(100 * fraction) - bar.n))

            _predict_one(pipeline, clips[0], batch, report)
        return batch
    for clip in progress(clips, desc="clips", unit="clip", show=show_progress):
        _predict_one(pipeline, clip, batch, None)
    return batch


def _predict_one(pipeline, clip: Path, batch: BatchPrediction, progress) -> None:
    try:
        batch.items.append(pipeline(clip, progress=progress))
    except EMIError as err:
        batch.items.append(Failure(clip.name, str(err)))
