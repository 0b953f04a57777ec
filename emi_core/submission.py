"""A challenge submission from a trained paper checkpoint: :func:`predict_split` (``emi predict-split``).

Features come from the cache when present (same extractor key as in the checkpoint), else they are
extracted (into the cache when one is given, so a rerun reuses them); how they are extracted is one
:class:`~emi_core.features.batch.ExtractionRun`. Every id needs a prediction: a video that failed, or
has no input on any channel, has none, and no value is ever made up for it.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from emi_core.dataset import VideoFolder, read_ids
from emi_core.emotions import FILENAME_COLUMN
from emi_core.features.batch import ExtractionResult, ExtractionRun, extract_videos
from emi_core.features.cache import FeatureCache
from emi_core.models.paper.model import EMIModel
from emi_core.models.paper.serving import search_dirs
from emi_core.scoring import write_submission


@dataclass
class SplitPrediction:
    """What :func:`predict_split` wrote: ``out`` when complete, else the partial file and the missing ids."""

    ids: tuple[str, ...]
    values: np.ndarray
    written: Path
    complete: bool
    cached: dict[str, int]
    extraction: ExtractionResult
    untrained: bool
    missing: dict[str, str] = field(default_factory=dict)


def predict_split(
    model_name: str,
    videos: str | Path,
    ids_csv: str | Path,
    out: str | Path,
    run: ExtractionRun | None = None,
    *,
    cache: str | Path | None = None,
    batch_size: int = 16,
) -> SplitPrediction:
    """Write the challenge CSV of the ids in ``ids_csv`` (fused intensities) to ``out``.

    ``run`` says how missing features are extracted (workers, device, limits, backbones, progress,
    log); the checkpoint's ``backbones/`` folder is searched too. When an id has no prediction
    ``out`` is **not** written: the predicted rows go to ``{stem}.incomplete.csv`` and the others,
    with the reason, to ``{stem}.missing.csv``.
    """
    run = run or ExtractionRun()
    run = replace(run, search_dirs=(*run.search_dirs, *search_dirs(model_name)))
    out = Path(out)
    ids = read_ids(ids_csv)
    folder = VideoFolder(videos)
    model = EMIModel.from_pretrained(model_name, map_location=run.device)
    with tempfile.TemporaryDirectory(prefix="emi-features-") as scratch:
        features = FeatureCache(cache if cache is not None else scratch)
        stores = {channel: features.store(spec) for channel, spec in model.features.items()}
        cached = {channel: sum(store.has(i) for i in ids) for channel, store in stores.items()}
        run.log("cached features: " + ", ".join(f"{c} {n} of {len(ids)}" for c, n in cached.items()))
        extraction = extract_videos(folder.lookup(ids), features, model.features, run)
        run.log(extraction.summary())
        values = model.predict_cached(features, ids, batch_size)["fused"]
    failed = {f.id: f.error for f in extraction.failures}
    missing = {
        video_id: failed.get(video_id, "no face and no audible audio: nothing to predict from")
        for video_id, row in zip(ids, values, strict=True)
        if not np.isfinite(row).all()
    }
    keep = [row for row, video_id in enumerate(ids) if video_id not in missing]
    written = out if not missing else out.with_name(f"{out.stem}.incomplete.csv")
    out.parent.mkdir(parents=True, exist_ok=True)
    write_submission(written, [ids[r] for r in keep], np.clip(values[keep], 0.0, 1.0))
    if missing:
        _write_missing(out.with_name(f"{out.stem}.missing.csv"), missing)
    return SplitPrediction(ids, values, written, not missing, cached, extraction, model.random_weights, missing)


def _write_missing(path: Path, missing: Mapping[str, str]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow((FILENAME_COLUMN, "reason"))
        writer.writerows(missing.items())
