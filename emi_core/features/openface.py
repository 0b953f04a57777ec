"""Read Action Unit intensities from an OpenFace 2.x ``FeatureExtraction`` CSV.

OpenFace writes one row per frame and face, with headers and values separated by ``", "``
(``frame, face_id, timestamp, confidence, success, ..., AU01_r, ..., AU45_r, AU01_c, ...``). Its
``AUxx_r`` intensities (0-5) are divided by 5 and clipped to [0, 1], and placed in the columns of
:data:`emi_core.features.au.AU_NAMES`:

- AU01 02 04 05 06 07 09 10 12 14 15 17 20 23 25 26 map one to one;
- OpenFace has no AU43 (eyes closed) but AU45 (blink), which is the same eyelid closure seen
  briefly, so ``AU45_r`` fills the AU43 column;
- AUs OpenFace does not estimate (AU24) are NaN for every frame.

Rows with ``success`` 0 or ``confidence`` below ``min_confidence`` become NaN rows (no usable face),
like frames without a face in the mesh-based estimates. When the file tracks several faces
(``face_id``), the face with the most usable rows is kept.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from emi_core.errors import EMIError
from emi_core.features.au import AU_NAMES

OPENFACE_MAX_INTENSITY = 5.0
"""Top of OpenFace's AU intensity scale (FACS A-E as 1-5)."""

OPENFACE_SOURCE = {name: f"{name}_r" for name in AU_NAMES if name not in ("AU24", "AU43")}
OPENFACE_SOURCE["AU43"] = "AU45_r"
"""Which OpenFace column fills each AU; AUs absent from this mapping come back as NaN."""


class OpenFaceError(EMIError):
    """An OpenFace CSV could not be read: missing, not a CSV, or without the expected columns."""


def read_openface_csv(path: str | Path, min_confidence: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(times, aus)``: ``(T,)`` seconds and ``(T, K)`` intensities in [0, 1] (NaN rows kept).

    Raises :class:`OpenFaceError` for a missing, empty or malformed file.
    """
    path = Path(path)
    header, rows = _read_rows(path)
    columns = {name: i for i, name in enumerate(header)}
    required = ["timestamp", "success"]
    missing = [name for name in required if name not in columns]
    if missing:
        raise OpenFaceError(f"{path.name}: not an OpenFace sequence CSV (no {', '.join(missing)} column)")
    present = {au: source for au, source in OPENFACE_SOURCE.items() if source in columns}
    if not present:
        raise OpenFaceError(f"{path.name}: no AU intensity columns (AUxx_r); run OpenFace with -aus")
    wanted = required + [c for c in ("confidence", "face_id") if c in columns] + list(present.values())
    values = _numeric(path, rows, [columns[c] for c in wanted])
    table = dict(zip(wanted, values.T, strict=True))

    usable = table["success"] > 0
    if "confidence" in table:
        usable &= table["confidence"] >= min_confidence
    keep = np.ones(len(values), dtype=bool)
    if "face_id" in table and len(np.unique(table["face_id"])) > 1:
        faces, counts = np.unique(table["face_id"][usable], return_counts=True)
        chosen = faces[np.argmax(counts)] if len(faces) else table["face_id"][0]
        keep = table["face_id"] == chosen

    aus = np.full((len(values), len(AU_NAMES)), np.nan, dtype=np.float32)
    for au, source in present.items():
        aus[:, AU_NAMES.index(au)] = np.clip(table[source] / OPENFACE_MAX_INTENSITY, 0.0, 1.0)
    aus[~usable] = np.nan
    times = table["timestamp"][keep]
    order = np.argsort(times, kind="stable")
    return times[order], aus[keep][order]


def _read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header (stripped names) and data rows of ``path``, each row as long as the header."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle, skipinitialspace=True)
            header = [name.strip() for name in next(reader, [])]
            rows = [row for row in reader if row]
    except FileNotFoundError:
        raise OpenFaceError(f"OpenFace CSV not found: {path}") from None
    except IsADirectoryError:
        raise OpenFaceError(f"{path} is a folder, not an OpenFace CSV") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise OpenFaceError(f"{path.name}: not a readable CSV ({error})") from None
    if not header:
        raise OpenFaceError(f"{path.name}: empty file, expected an OpenFace CSV")
    if not rows:
        raise OpenFaceError(f"{path.name}: header only, no frames")
    for line, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise OpenFaceError(f"{path.name}, line {line}: {len(row)} fields, the header has {len(header)}")
    return header, rows


def _numeric(path: Path, rows: list[list[str]], indices: list[int]) -> np.ndarray:
    """``(len(rows), len(indices))`` float64 of the chosen fields; a non-number raises OpenFaceError."""
    try:
        return np.array([[float(row[i]) for i in indices] for row in rows], dtype=np.float64)
    except ValueError as error:
        raise OpenFaceError(f"{path.name}: non-numeric value in an OpenFace column ({error})") from None
