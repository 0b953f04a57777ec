"""Checks of single columns of a challenge CSV: the ``Filename`` ids and the emotion values.

Each check has a vectorised fast path for well-formed columns and a cell-by-cell path that names
every bad cell by its line. Both paths accept exactly the same cells.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import numpy as np

from emi_core.emotions import FILENAME_COLUMN
from emi_core.scoring.problems import Problem, ProblemList

ID_LENGTH = 5
_ID = re.compile(r"[0-9]{5}")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NOT_NUMBER_CHAR = re.compile(r"[^0-9.eE+-]")
_NAN_WORDS = frozenset({"nan", "+nan", "-nan"})
_INF_WORDS = frozenset({"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"})
_MAX_QUOTED = 30
_MAX_MISSING_SHOWN = 10

LineNumbers = Sequence[int] | None
"""Physical line of each data row, or ``None`` when row ``i`` is on line ``i + 2``."""


def line_of(lines: LineNumbers, row: int) -> int:
    """Return the CSV line number of data row ``row`` (0-based)."""
    return row + 2 if lines is None else lines[row]


def quote(cell: str) -> str:
    """``repr`` of a cell for a message, shortened when long."""
    return repr(cell if len(cell) <= _MAX_QUOTED else cell[:_MAX_QUOTED] + "...")


def check_ids(ids: Sequence[str], lines: LineNumbers, sink: ProblemList) -> None:
    """Add a problem to ``sink`` for each id that is not a 5-digit string and for each repeated id."""
    joined = "".join(ids)
    well_formed = set(map(len, ids)) <= {ID_LENGTH} and joined.isascii() and (not ids or joined.isdigit())
    if not well_formed:
        for row, cell in enumerate(ids):
            if not _ID.fullmatch(cell):
                line = line_of(lines, row)
                if sink.would_keep(line, FILENAME_COLUMN):
                    sink.add(Problem(_id_message(cell), line, FILENAME_COLUMN))
                else:
                    sink.count()
    if len(set(ids)) != len(ids):
        first_line: dict[str, int] = {}
        for row, cell in enumerate(ids):
            line = line_of(lines, row)
            if cell not in first_line:
                first_line[cell] = line
            elif sink.would_keep(line, FILENAME_COLUMN):
                message = f"id {quote(cell)} appears more than once (first on line {first_line[cell]})"
                sink.add(Problem(message, line, FILENAME_COLUMN))
            else:
                sink.count()


def ids_are_clean(ids: Sequence[str]) -> bool:
    """Whether every id is a 5-digit string and none repeats (what :func:`check_ids` accepts silently)."""
    probe = ProblemList(limit=1)
    check_ids(ids, None, probe)
    return not probe


def _id_message(cell: str) -> str:
    if not cell.strip():
        return "empty id"
    if cell.isascii() and cell.isdigit() and len(cell) < ID_LENGTH:
        return f"id {quote(cell)} is not a 5-digit id (keep the leading zeros: {cell.zfill(ID_LENGTH)!r})"
    return f"id {quote(cell)} is not a 5-digit id such as '00042'"


def match_ids(
    ids: Sequence[str],
    lines: LineNumbers,
    truth_index: Mapping[str, int],
    sink: ProblemList,
    *,
    report_missing: bool = True,
    reveal_ids: bool = True,
) -> np.ndarray | None:
    """Map each id to its ground-truth row; report unknown ids and (optionally) ground-truth ids left out.

    Returns the rows, or ``None`` unless every ground-truth id appears exactly once. Malformed or
    repeated ids are not reported here (:func:`check_ids` does). With ``reveal_ids=False`` (a hidden
    split) unknown and missing ids are only counted: no message names an id or the line it is on.
    """
    try:
        rows = np.array(list(map(truth_index.__getitem__, ids)), dtype=np.intp)
    except KeyError:
        rows = None
    if rows is not None and len(ids) == len(truth_index) and len(set(ids)) == len(ids):
        return rows
    unknown = [(row, cell) for row, cell in enumerate(ids) if cell not in truth_index and _ID.fullmatch(cell)]
    if reveal_ids:
        for row, cell in unknown:
            sink.add(Problem(f"id {quote(cell)} is not in the ground truth", line_of(lines, row), FILENAME_COLUMN))
    elif unknown:
        count = len(unknown)
        sink.add(Problem(f"{count} {'id is' if count == 1 else 'ids are'} not in this split", None, FILENAME_COLUMN))
    if report_missing:
        present = set(ids)
        missing = [cell for cell in truth_index if cell not in present]
        if missing:
            sink.add(Problem(_missing_message(missing, reveal_ids), None, FILENAME_COLUMN))
    return None


def _missing_message(missing: Sequence[str], reveal_ids: bool) -> str:
    count = f"{len(missing)} ground-truth {'id is' if len(missing) == 1 else 'ids are'} missing"
    if not reveal_ids:
        return count
    shown = ", ".join(map(repr, missing[:_MAX_MISSING_SHOWN]))
    more = f" and {len(missing) - _MAX_MISSING_SHOWN} more" if len(missing) > _MAX_MISSING_SHOWN else ""
    return f"{count}: {shown}{more}"


def parse_values(
    cells: Sequence[str], column: str, lines: LineNumbers, sink: ProblemList, *, reveal: bool
) -> np.ndarray | None:
    """Parse one emotion column as float64 values in [0, 1].

    Returns the values, or ``None`` after adding one problem per bad cell to ``sink``. With
    ``reveal=False`` (ground truth) messages never quote the cell.
    """
    if not _NOT_NUMBER_CHAR.search("".join(cells)):
        try:
            values = np.fromiter(map(float, cells), dtype=np.float64, count=len(cells))
        except ValueError:
            values = None
        if values is not None and bool(np.all((values >= 0.0) & (values <= 1.0))):
            return values
    found = sink.total
    for row, cell in enumerate(cells):
        line = line_of(lines, row)
        if not sink.would_keep(line, column):
            if not is_value(cell):
                sink.count()
            continue
        message = value_problem(cell, reveal=reveal)
        if message is not None:
            sink.add(Problem(message, line, column))
    if sink.total == found:  # pragma: no cover - both paths accept the same cells
        raise AssertionError(f"column {column!r} rejected by the fast path but not cell by cell")
    return None


def is_value(cell: str) -> bool:
    """Whether a value cell is a plain number in [0, 1] (what :func:`value_problem` accepts)."""
    return _NUMBER.fullmatch(cell) is not None and 0.0 <= float(cell) <= 1.0


def value_problem(cell: str, *, reveal: bool) -> str | None:
    """Return what is wrong with one value cell, or ``None`` when it is a number in [0, 1]."""
    subject = quote(cell) if reveal else "value"
    stripped = cell.strip()
    if not stripped:
        return "empty value"
    if not _NUMBER.fullmatch(cell):
        word = stripped.lower()
        if word in _NAN_WORDS:
            return "value is NaN"
        if word in _INF_WORDS:
            return "value is infinite"
        if _NUMBER.fullmatch(stripped):
            return f"{subject} has spaces around the number"
        return f"{subject} is not a number"
    value = float(cell)
    if not math.isfinite(value):
        return "value is infinite (too large for float64)"
    if not 0.0 <= value <= 1.0:
        return f"{subject} is outside [0, 1]"
    return None
