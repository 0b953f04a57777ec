"""The challenge layout on disk: a folder of videos named ``{Filename}.{ext}`` and split CSVs.

Split CSVs have the challenge header (``Filename`` + the six emotions); only the ``Filename`` column
is read here, so unlabelled id lists (a test split) work too. Labelled splits for training are read
with their values by :func:`emi_core.training.read_split`. Ids stay **text**: ``00042`` is never
``42``.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from emi_core.emotions import FILENAME_COLUMN
from emi_core.errors import DatasetError, MediaError
from emi_core.media import SUPPORTED_EXTENSIONS


def read_ids(path: str | Path) -> tuple[str, ...]:
    """The ``Filename`` ids of a split CSV, in file order, as text; :class:`DatasetError` if unusable.

    Blank lines are skipped; other columns are ignored; empty, repeated or path-like ids are errors.
    """
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = [row for row in csv.reader(handle) if any(cell.strip() for cell in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise DatasetError(f"split {path}: cannot read it as a UTF-8 CSV ({err})") from None
    if not rows or FILENAME_COLUMN not in rows[0]:
        raise DatasetError(f"split {path}: the first line must be a header with a {FILENAME_COLUMN!r} column")
    column = rows[0].index(FILENAME_COLUMN)
    ids: list[str] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        cell = row[column].strip() if column < len(row) else ""
        if not cell or cell.startswith(".") or "/" in cell or "\\" in cell:
            raise DatasetError(f"split {path}, row {line}: {cell!r} is not a video id")
        if cell in seen:
            raise DatasetError(f"split {path}: id {cell!r} appears twice (rows {seen[cell]} and {line})")
        seen[cell] = line
        ids.append(cell)
    if not ids:
        raise DatasetError(f"split {path} lists no videos")
    return tuple(ids)


class VideoFolder:
    """The media files of a folder, by id (file name without extension), indexed once."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        if not self.root.is_dir():
            raise DatasetError(f"videos folder {self.root} does not exist")
        self._files: dict[str, list[Path]] = defaultdict(list)
        for path in sorted(self.root.iterdir()):
            if path.is_file() and path.suffix.lower() in SUPPORTED_EXTENSIONS and not path.name.startswith("."):
                self._files[path.stem].append(path)

    def __len__(self) -> int:
        return len(self._files)

    def path(self, video_id: str) -> Path:
        """The file of ``video_id``; :class:`~emi_core.errors.MediaError` if there is none or several."""
        found = self._files.get(video_id, [])
        if not found:
            raise MediaError(f"no media file named {video_id}.* in {self.root}")
        if len(found) > 1:
            raise MediaError(f"several files for id {video_id} in {self.root}: {', '.join(p.name for p in found)}")
        return found[0]

    def lookup(self, ids: Sequence[str]) -> list[tuple[str, Path | MediaError]]:
        """``(id, file)`` for each id, or ``(id, error)`` when it has no file or several."""
        found: list[tuple[str, Path | MediaError]] = []
        for video_id in ids:
            try:
                found.append((video_id, self.path(video_id)))
            except MediaError as err:
                found.append((video_id, err))
        return found
