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


def _read_general(raw: bytes, reveal_values: bool, max_rows: int) -> Table:
    """Read any CSV with the csv module, checking every header name, id and value."""
    rows = _split(raw, max_rows)
    table = Table(rows.problems, n_rows=rows.n_rows, lines=rows.lines)
    if not rows.usable:
        return table
    if table.n_rows == 0:
        table.problems.add(Problem("no data rows after the header"))
    elif table.n_rows > max_rows:
        table.problems.add(Problem(f"has more than {max_rows:,} data rows, the limit (the rest was not read)"))
    positions = _check_header(rows.header, rows.header_line, table.problems)
    ids = rows.columns[positions[FILENAME_COLUMN]] if FILENAME_COLUMN in positions else None
    if ids is not None:
        check_ids(ids, rows.lines, table.problems)
    columns = []
    for emotion in EMOTIONS:
        if emotion in positions:
            cells = rows.columns[positions[emotion]]
            columns.append(parse_values(cells, emotion, rows.lines, table.problems, reveal=reveal_values))
    table.ids = ids
    if not table.problems:
        table.values = np.column_stack(columns)
    return table


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


@dataclass
class _Rows:
    """The CSV split into cells: ``columns[j]`` holds column ``j`` of every kept row of the header's width."""

    header: list[str]
    header_line: int = 1
    columns: list[tuple[str, ...]] = field(default_factory=list)
    lines: LineNumbers = None
    n_rows: int = 0
    problems: ProblemList = field(default_factory=ProblemList)
    usable: bool = True


def _split(raw: bytes, max_rows: int) -> _Rows:
    """Split UTF-8 bytes into header and columns with the csv module (quoting), reading as a stream.

    Blank lines are skipped and rows of the wrong width reported; reading stops at row ``max_rows + 1``
    (``n_rows`` is then ``max_rows + 1``), so that the work per file is bounded by the row limit.
    """
    stream = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8-sig", newline="")
    reader = csv.reader(stream, strict=True)
    parsed: _Rows | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    line = 1
    try:
        for record in reader:
            if record and parsed is None:
                parsed = _Rows(record, header_line=line)
                problem = _not_a_header(record)
                if problem is not None:
                    return _Rows(record, line, problems=_problem_list([problem]), usable=False)
            elif record:
                parsed.n_rows += 1
                if parsed.n_rows > max_rows:
                    break
                if len(record) != len(parsed.header):
                    message = f"has {len(record)} fields, expected {len(parsed.header)} like the header"
                    parsed.problems.add(Problem(message, line))
                else:
                    rows.append(record)
                    lines.append(line)
            line = reader.line_num + 1
    except csv.Error as err:
        problems = _problem_list([Problem(f"malformed CSV: {err}", line)])
        return _Rows(parsed.header if parsed else [], problems=problems, usable=False)
    if parsed is None:
        return _Rows([], problems=_problem_list([Problem("file is empty")]), usable=False)
    parsed.columns = [tuple(row[column] for row in rows) for column in range(len(parsed.header))]
    parsed.lines = lines
    return parsed


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
