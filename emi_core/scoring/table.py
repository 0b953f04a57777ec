"""Read a challenge CSV (``Filename`` + six emotions) into ids and a float64 matrix, collecting problems.

Reading never stops at the first problem: every problem that can be found is reported with its
line and column. Only a file that cannot be read as comma-separated UTF-8 text stops early.
``Filename`` ids always stay text (``00042`` is never turned into ``42``).
"""

from __future__ import annotations

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
from emi_core.scoring.problems import Problem

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

    problems: list[Problem] = field(default_factory=list)
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
    cell to name every problem. ``values`` has its columns in :data:`~emi_core.emotions.EMOTIONS`
    order. With ``reveal_values=False`` messages never quote a value cell. ``fast=False`` skips the
    fast path (to check that both paths agree).
    """
    text, problems = _decode(raw)
    if text is None:
        return Table(problems)
    clean = read_clean(raw, text, max_rows) if fast else None
    if clean is not None:
        return Table(n_rows=len(clean[0]), ids=clean[0], values=clean[1])
    return _read_general(text, reveal_values, max_rows)


def _read_general(text: str, reveal_values: bool, max_rows: int) -> Table:
    """Read any CSV with the csv module, checking every header name, id and value."""
    rows = _split(text)
    table = Table(rows.problems, n_rows=rows.n_rows, lines=rows.lines)
    if not rows.usable:
        return table
    if table.n_rows == 0:
        table.problems.append(Problem("no data rows after the header"))
    elif table.n_rows > max_rows:
        table.problems.append(Problem(f"has {table.n_rows:,} data rows, more than the limit of {max_rows:,}"))
    positions, header_problems = _check_header(rows.header, rows.header_line)
    table.problems.extend(header_problems)
    ids = rows.columns[positions[FILENAME_COLUMN]] if FILENAME_COLUMN in positions else None
    if ids is not None:
        table.problems.extend(check_ids(ids, rows.lines))
    columns = []
    for emotion in EMOTIONS:
        if emotion in positions:
            cells = rows.columns[positions[emotion]]
            values, value_problems = parse_values(cells, emotion, rows.lines, reveal=reveal_values)
            table.problems.extend(value_problems)
            columns.append(values)
    table.ids = ids
    table.problems = sort_problems(table.problems)
    if not table.problems:
        table.values = np.column_stack(columns)
    return table


def sort_problems(problems: list[Problem]) -> list[Problem]:
    """Problems in reading order: the whole file first, then by line and column, missing ids last."""
    return sorted(problems, key=_reading_order)


def _reading_order(problem: Problem) -> tuple[int, int]:
    if problem.line is None:
        return (0 if problem.column is None else 2**62, 0)
    column = CSV_HEADER.index(problem.column) if problem.column in CSV_HEADER else -1
    return (problem.line, column)


def _decode(raw: bytes) -> tuple[str | None, list[Problem]]:
    """Decode UTF-8 (an optional BOM is dropped) or say why the bytes are not UTF-8 text."""
    if not raw.strip():
        return None, [Problem("file is empty")]
    if raw.startswith(_UTF16_BOMS):
        return None, [Problem("file is encoded as UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8")]
    if b"\x00" in raw:
        line = raw.count(b"\n", 0, raw.index(b"\x00")) + 1
        return None, [Problem("file contains NUL bytes (UTF-16 or not a text file); save it as UTF-8 text", line)]
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        byte = raw[err.start]
        message = f"not valid UTF-8 (byte 0x{byte:02X}; Latin-1 or Windows encoding?); save the file as UTF-8"
        return None, [Problem(message, line)]


@dataclass
class _Rows:
    """The CSV split into cells: ``columns[j]`` holds column ``j`` of every row of the header's width."""

    header: list[str]
    header_line: int = 1
    columns: list[tuple[str, ...]] = field(default_factory=list)
    lines: LineNumbers = None
    n_rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    usable: bool = True


def _split(text: str) -> _Rows:
    """Split text into header and columns with the csv module (quoting); blank lines are skipped and rows
    of the wrong width reported."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
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
                    return _Rows(record, line, problems=[problem], usable=False)
            elif record:
                parsed.n_rows += 1
                if len(record) == len(parsed.header):
                    rows.append(record)
                    lines.append(line)
                else:
                    message = f"has {len(record)} fields, expected {len(parsed.header)} like the header"
                    parsed.problems.append(Problem(message, line))
            line = reader.line_num + 1
    except csv.Error as err:
        return _Rows(parsed.header if parsed else [], problems=[Problem(f"malformed CSV: {err}", line)], usable=False)
    if parsed is None:
        return _Rows([], problems=[Problem("file is empty")], usable=False)
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


def _check_header(header: list[str], line: int) -> tuple[dict[str, int], list[Problem]]:
    """Map each expected column to its position; report missing, extra, misspelled or repeated names."""
    positions: dict[str, int] = {}
    problems: list[Problem] = []
    unknown: list[str] = []
    for position, name in enumerate(header):
        if name in positions:
            problems.append(Problem(f"column {name!r} appears more than once", line))
        elif name in CSV_HEADER:
            positions[name] = position
        else:
            unknown.append(name)
    missing = [name for name in CSV_HEADER if name not in positions]
    for name in unknown:
        guess = _closest(name, missing)
        if not name.strip():
            problems.append(Problem("empty column name (a trailing comma?)", line))
        elif guess is not None:
            missing.remove(guess)
            problems.append(Problem(f"unknown column {name!r}: did you mean {guess!r}? (names are exact)", line))
        else:
            problems.append(Problem(f"unexpected column {name!r}", line))
    problems.extend(Problem(f"column {name!r} is missing", line) for name in missing)
    return positions, problems


def _closest(name: str, candidates: list[str]) -> str | None:
    """The expected column a misspelled ``name`` most likely means, if any."""
    for candidate in candidates:
        if candidate.casefold() == name.strip().casefold():
            return candidate
    matches = difflib.get_close_matches(name, candidates, n=1, cutoff=0.75)
    return matches[0] if matches else None
