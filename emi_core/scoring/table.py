"""Read a challenge CSV (``Filename`` + six emotions) into ids and a float64 matrix, collecting problems.

Reading never stops at the first problem: every problem that can be found is reported with its
line and column. Only a file that cannot be read as comma-separated UTF-8 text stops early.
``Filename`` ids always stay text (``00042`` is never turned into ``42``).
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emi_core.emotions import CSV_HEADER, CSV_HEADER_LINE, EMOTIONS, FILENAME_COLUMN
from emi_core.scoring.cells import LineNumbers, check_ids, parse_values
from emi_core.scoring.fastpath import read_clean
from emi_core.scoring.problems import Problem, ProblemList

DEFAULT_MAX_BYTES = 32 * 1024 * 1024
"""Largest CSV accepted, in bytes (a 4,586-row test file is about 250 kB)."""

DEFAULT_MAX_ROWS = 200_000
"""Most data rows accepted in one CSV."""

Source = str | os.PathLike | bytes
"""A CSV given as a file path or as its raw bytes (a ``str`` is always a path)."""

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


@dataclass
class Table:
    """What was read from a CSV.

    ``ids`` holds the ``Filename`` cells of the rows of the right width whenever that column
    exists; ``values`` is set only when no problem at all was found.
    """

    problems: ProblemList = field(default_factory=ProblemList)
    n_rows: int = 0
    ids: tuple[str, ...] | None = None
    values: np.ndarray | None = field(default=None, repr=False)
    lines: LineNumbers = None


def read_source(source: Source, max_bytes: int, *, name_paths: bool) -> tuple[bytes | None, list[Problem]]:
    """Return the bytes of ``source`` or a problem (missing file, directory, over ``max_bytes``).

    With ``name_paths=False`` messages do not contain the path (used for ground truth).
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        raw = bytes(source)
        if len(raw) > max_bytes:
            return None, [Problem(_size_message(len(raw), max_bytes))]
        return raw, []
    path = Path(source)
    shown = f" {str(path)!r}" if name_paths else ""
    if not path.exists():
        return None, [Problem(f"file{shown} not found")]
    if not path.is_file():
        return None, [Problem(f"{shown.strip() or 'path'} is not a file")]
    size = path.stat().st_size
    if size > max_bytes:
        return None, [Problem(_size_message(size, max_bytes))]
    return path.read_bytes(), []


def _size_message(size: int, limit: int) -> str:
    return f"file is {_size(size)}, over the limit of {_size(limit)}"


def _size(count: int) -> str:
    return f"{count / 1e6:.1f} MB" if count >= 1e6 else f"{count:,} bytes"


def read_table(raw: bytes, *, reveal_values: bool, max_rows: int = DEFAULT_MAX_ROWS, fast: bool = True) -> Table:
    """Parse and check a challenge CSV given as bytes.

    A clean file takes the fast path (:mod:`emi_core.scoring.fastpath`); any other is read cell by
    cell, as a stream, to name its problems (the first :data:`~emi_core.scoring.problems.MAX_KEPT_PROBLEMS`
    in reading order are kept, all are counted). ``values`` has its columns in
    :data:`~emi_core.emotions.EMOTIONS` order. With ``reveal_values=False`` messages never quote a
    value cell. ``fast=False`` skips the fast path (to check that both paths agree).

    Memory is bounded whatever the bytes: the text is decoded in chunks and never held whole, and at
    most ``max_rows`` rows are kept (``benchmarks/score_memory.py`` measures it).
    """
    problem = _decode_problem(raw)
    if problem is not None:
        return Table(_problem_list([problem]))
    clean = read_clean(raw, _first_line(raw), max_rows) if fast else None
    if clean is not None:
        return Table(n_rows=len(clean[0]), ids=clean[0], values=clean[1])
    return _read_general(raw, reveal_values, max_rows)


def _problem_list(problems: list[Problem]) -> ProblemList:
    found = ProblemList()
    found.extend(problems)
    return found


_CHUNK_ROWS = 4096
"""Rows whose cells are held at once: values are parsed chunk by chunk, only ids are kept for all rows."""


class _Unusable(Exception):
    """The file cannot be read as a CSV table; ``problem`` says why (it is the only one reported)."""

    def __init__(self, problem: Problem):
        self.problem = problem


def _read_general(raw: bytes, reveal_values: bool, max_rows: int) -> Table:
    """Read any CSV with the csv module as a stream, checking every header name, id and value."""
    problems = ProblemList()
    try:
        records = _records(raw)
        header, header_line = next(records, (None, 1))
        if header is None:
            raise _Unusable(Problem("file is empty"))
        positions = _check_header(header, header_line, problems)
        ids: list[str] = []
        lines: list[int] = []
        chunks: dict[str, list[np.ndarray | None]] = {emotion: [] for emotion in EMOTIONS if emotion in positions}
        n_rows = 0
        rows: list[list[str]] = []
        for record, line in records:
            n_rows += 1
            if n_rows > max_rows:
                break
            if len(record) != len(header):
                problems.add(Problem(f"has {len(record)} fields, expected {len(header)} like the header", line))
                continue
            rows.append(record)
            lines.append(line)
            if len(rows) == _CHUNK_ROWS:
                _take_chunk(rows, lines[-len(rows) :], positions, ids, chunks, problems, reveal_values)
                rows = []
        if rows:
            _take_chunk(rows, lines[-len(rows) :], positions, ids, chunks, problems, reveal_values)
    except _Unusable as unusable:
        return Table(_problem_list([unusable.problem]))
    if n_rows == 0:
        problems.add(Problem("no data rows after the header"))
    elif n_rows > max_rows:
        problems.add(Problem(f"has more than {max_rows:,} data rows, the limit (the rest was not read)"))
    kept_ids = tuple(ids) if FILENAME_COLUMN in positions else None
    if kept_ids is not None:
        check_ids(kept_ids, lines, problems)
    table = Table(problems, n_rows=min(n_rows, max_rows + 1), ids=kept_ids, lines=lines)
    if not problems:
        table.values = np.column_stack([np.concatenate(chunks[emotion]) for emotion in EMOTIONS])
    return table


def _take_chunk(
    rows: list[list[str]],
    lines: list[int],
    positions: dict[str, int],
    ids: list[str],
    chunks: dict[str, list[np.ndarray | None]],
    problems: ProblemList,
    reveal_values: bool,
) -> None:
    """Keep the ids of a chunk of rows and parse its value columns (their cells are then dropped)."""
    if FILENAME_COLUMN in positions:
        ids.extend(row[positions[FILENAME_COLUMN]] for row in rows)
    for emotion, parsed in chunks.items():
        cells = [row[positions[emotion]] for row in rows]
        parsed.append(parse_values(cells, emotion, lines, problems, reveal=reveal_values))


def _records(raw: bytes):
    """Yield ``(header, line)`` then each non-blank record with its physical line; raise :class:`_Unusable`
    for a first line that is clearly not a header, and for malformed CSV."""
    stream = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8-sig", newline="")
    reader = csv.reader(stream, strict=True)
    line = 1
    header_seen = False
    try:
        for record in reader:
            if record:
                if not header_seen:
                    problem = _not_a_header(record)
                    if problem is not None:
                        raise _Unusable(problem)
                    header_seen = True
                yield record, line
            line = reader.line_num + 1
    except csv.Error as err:
        raise _Unusable(Problem(f"malformed CSV: {err}", line)) from None


_DECODE_CHUNK = 1 << 20


def _decode_problem(raw: bytes) -> Problem | None:
    """Why the bytes are not UTF-8 text (an optional BOM is allowed), or ``None``; decoded in chunks,
    so that no copy of the whole text is ever made."""
    if not raw.strip():
        return Problem("file is empty")
    if raw.startswith(_UTF16_BOMS):
        return Problem("file is encoded as UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8")
    if b"\x00" in raw:
        line = raw.count(b"\n", 0, raw.index(b"\x00")) + 1
        return Problem("file contains NUL bytes (UTF-16 or not a text file); save it as UTF-8 text", line)
    decoder = codecs.getincrementaldecoder("utf-8")()
    for start in range(0, len(raw), _DECODE_CHUNK):
        end = start + _DECODE_CHUNK
        try:
            decoder.decode(raw[start:end], final=end >= len(raw))
        except UnicodeDecodeError:
            position = _first_bad_byte(raw, start, end)
            line = raw.count(b"\n", 0, position) + 1
            byte = raw[position]
            message = f"not valid UTF-8 (byte 0x{byte:02X}; Latin-1 or Windows encoding?); save the file as UTF-8"
            return Problem(message, line)
    return None


def _first_bad_byte(raw: bytes, start: int, end: int) -> int:
    """Index of the first invalid byte of ``raw``, known to lie in the chunk ``[start, end)`` (or in the
    up to 3 bytes of a sequence begun just before it)."""
    low = start
    while low > max(0, start - 3) and 0x80 <= raw[low] <= 0xBF:
        low -= 1
    try:
        raw[low:end].decode("utf-8")
    except UnicodeDecodeError as err:
        return low + err.start
    return min(end, len(raw)) - 1  # pragma: no cover - the chunk did fail to decode


def _first_line(raw: bytes) -> str:
    """The first line of valid UTF-8 ``raw`` with its line end, byte-order mark removed."""
    end = raw.find(b"\n")
    return raw[: len(raw) if end < 0 else end + 1].decode("utf-8-sig")


def _not_a_header(header: list[str]) -> Problem | None:
    """A problem when the first line is clearly not a comma-separated challenge header."""
    if len(header) == 1:
        for separator, name in ((";", "semicolons"), ("\t", "tabs")):
            if separator in header[0]:
                return Problem(f"not comma-separated: the header is separated by {name}; use commas", 1)
    if header and header[0].strip().isdigit():
        return Problem(f"first line is not a header; it must be {CSV_HEADER_LINE}", 1)
    return None


def _check_header(header: list[str], line: int, problems: ProblemList) -> dict[str, int]:
    """Map each expected column to its position; report missing, extra, misspelled or repeated names."""
    positions: dict[str, int] = {}
    unknown: list[str] = []
    for position, name in enumerate(header):
        if name in positions:
            problems.add(Problem(f"column {name!r} appears more than once", line))
        elif name in CSV_HEADER:
            positions[name] = position
        else:
            unknown.append(name)
    missing = [name for name in CSV_HEADER if name not in positions]
    for name in unknown:
        guess = _closest(name, missing)
        if not name.strip():
            problems.add(Problem("empty column name (a trailing comma?)", line))
        elif guess is not None:
            missing.remove(guess)
            problems.add(Problem(f"unknown column {name!r}: did you mean {guess!r}? (names are exact)", line))
        else:
            problems.add(Problem(f"unexpected column {name!r}", line))
    problems.extend(Problem(f"column {name!r} is missing", line) for name in missing)
    return positions


def _closest(name: str, candidates: list[str]) -> str | None:
    """The expected column a misspelled ``name`` most likely means, if any."""
    for candidate in candidates:
        if candidate.casefold() == name.strip().casefold():
            return candidate
    matches = difflib.get_close_matches(name, candidates, n=1, cutoff=0.75)
    return matches[0] if matches else None
