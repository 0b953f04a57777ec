"""The fast path for clean challenge CSVs: a few vectorised byte checks, then pandas' C parser.

:func:`read_clean` returns ids and values only for a file in which the general reader
(:mod:`emi_core.scoring.table`) would find nothing to report, and ``None`` for anything else, which
the general reader then examines cell by cell. It accepts exactly the files the general reader
accepts, with the same float64 values (``tests/test_scoring_fastpath.py`` checks this).
"""

from __future__ import annotations

import io

import numpy as np

from emi_core.emotions import CSV_HEADER, EMOTIONS, FILENAME_COLUMN
from emi_core.scoring.cells import ids_are_clean

_BODY_BYTES = np.zeros(256, dtype=bool)
_BODY_BYTES[list(b"0123456789.eE+-,\r\n")] = True
"""Bytes a clean data row can hold: ids, plain numbers, commas, line ends (no quotes, spaces, letters)."""
FAST_PATH_MAX_BYTES = 4 * 1024 * 1024
"""Larger files take the general (streaming) reader: pandas' parser needs about 8 bytes of memory per
byte of input, the general reader a bounded amount (a challenge file of 4,586 rows is about 250 kB)."""
_NEWLINE, _CARRIAGE_RETURN, _COMMA = ord("\n"), ord("\r"), ord(",")
_DTYPES = {FILENAME_COLUMN: str, **{emotion: np.float64 for emotion in EMOTIONS}}


def read_clean(raw: bytes, header_line: str, max_rows: int) -> tuple[tuple[str, ...], np.ndarray] | None:
    """``(ids, values)`` of a clean file (``values`` in EMOTIONS order), or ``None``.

    ``raw`` is the file's bytes (valid UTF-8) and ``header_line`` its decoded first line with its line
    end (byte-order mark removed).
    """
    if len(raw) > FAST_PATH_MAX_BYTES:
        return None
    header_line, newline, _ = header_line.partition("\n")
    header = header_line.removesuffix("\r").split(",")
    if not newline or len(header) != len(CSV_HEADER) or set(header) != set(CSV_HEADER):
        return None
    start = raw.index(b"\n") + 1
    if raw.count(b"\n", start) > max_rows + 1:  # before any array the size of the file's rows
        return None
    n_rows = _count_plain_rows(np.frombuffer(raw, dtype=np.uint8)[start:])
    if n_rows is None or n_rows > max_rows:
        return None
    import pandas as pd  # imported here: the command line starts without it

    body = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    try:
        frame = pd.read_csv(io.BytesIO(body), dtype=_DTYPES, na_filter=False, engine="c")
    except (ValueError, pd.errors.ParserError):
        return None
    values = np.ascontiguousarray(frame[list(EMOTIONS)].to_numpy(dtype=np.float64))
    ids = tuple(frame[FILENAME_COLUMN].tolist())
    if len(ids) != n_rows or not np.all((values >= 0.0) & (values <= 1.0)) or not ids_are_clean(ids):
        return None
    return ids, values


def _count_plain_rows(body: np.ndarray) -> int | None:
    """Number of data rows when every row has exactly the header's commas and only plain bytes.

    ``None`` when the body is empty or holds anything else: quotes, spaces, letters other than
    exponents, blank lines, lone carriage returns or rows of another width.
    """
    if body.size == 0 or not _BODY_BYTES[body].all():
        return None
    line_ends = np.flatnonzero(body == _NEWLINE)
    returns = np.flatnonzero(body == _CARRIAGE_RETURN)
    if returns.size and (returns[-1] + 1 >= body.size or not np.all(body[returns + 1] == _NEWLINE)):
        return None
    if body[-1] != _NEWLINE:
        line_ends = np.append(line_ends, body.size)
    starts = np.concatenate(([0], line_ends[:-1] + 1))
    commas = np.add.reduceat((body == _COMMA).astype(np.int64), starts)
    if not np.all(commas == len(CSV_HEADER) - 1):
        return None
    return int(starts.size)
