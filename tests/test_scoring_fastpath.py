"""The fast path for clean files accepts exactly what the cell-by-cell reader accepts, with the same values."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from emi_core.emotions import CSV_HEADER_LINE
from emi_core.scoring import submission_text
from emi_core.scoring.fastpath import read_clean
from emi_core.scoring.table import read_table

PLAIN_ROW = "00001,0.1,0.2,0.3,0.4,0.5,0.6"


def both_paths(text: str):
    raw = text.encode()
    fast = read_clean(raw, text.removeprefix("\ufeff"), 100_000)
    general = read_table(raw, reveal_values=True, fast=False)
    return fast, general


def assert_fast_agrees(text: str) -> bool:
    """When the fast path accepts, the general reader finds no problem and the same ids and values."""
    fast, general = both_paths(text)
    if fast is not None:
        assert not general.problems, (text, general.problems.kept())
        assert fast[0] == general.ids
        np.testing.assert_array_equal(fast[1], general.values)
    return fast is not None


def test_every_short_cell_over_the_number_alphabet_is_judged_the_same():
    cells = ["".join(chars) for size in range(1, 5) for chars in itertools.product("01.eE+-", repeat=size)]
    accepted = sum(assert_fast_agrees(f"{CSV_HEADER_LINE}\n00001,0.1,0.2,0.3,0.4,0.5,{cell}\n") for cell in cells)
    valid = sum(
        not read_table(f"{CSV_HEADER_LINE}\n00001,0,0,0,0,0,{cell}\n".encode(), reveal_values=True, fast=False).problems
        for cell in cells
    )
    assert accepted == valid > 100


@pytest.mark.parametrize("digits", [None, 6, 3])
def test_values_are_bitwise_those_of_python_float(digits):
    rng = np.random.default_rng(digits or 0)
    values = rng.random((3000, 6)) ** 3
    if digits:
        values = np.round(values, digits)
    ids = [f"{i:05d}" for i in range(3000)]
    text = submission_text(ids, values)
    fast, _ = both_paths(text)
    assert fast is not None
    np.testing.assert_array_equal(fast[1], values)
    assert assert_fast_agrees(text)


@pytest.mark.parametrize(
    "text",
    [
        f"\ufeff{CSV_HEADER_LINE}\n{PLAIN_ROW}\n",
        f"{CSV_HEADER_LINE}\r\n{PLAIN_ROW}\r\n00002,1,1,1,1,1,0\r\n",
        f"{CSV_HEADER_LINE}\n{PLAIN_ROW}",
        "Joy,Filename,Admiration,Amusement,Determination,Empathic Pain,Excitement\n0.6,00001,0.1,0.2,0.3,0.4,0.5\n",
    ],
    ids=["bom", "crlf", "no-final-newline", "other-column-order"],
)
def test_common_clean_layouts_take_the_fast_path(text):
    assert assert_fast_agrees(text)


@pytest.mark.parametrize(
    "text",
    [
        f"{CSV_HEADER_LINE}\n00001,0.1,0.2,0.3,0.4,0.5,0.6,00002\n0.1,0.2,0.3,0.4,0.5,0.6\n",  # widths compensate
        f"{CSV_HEADER_LINE}\n{PLAIN_ROW}\n\n00002,0.1,0.2,0.3,0.4,0.5,0.6\n",  # blank line
        f"{CSV_HEADER_LINE}\n{PLAIN_ROW}\r00002,0.1,0.2,0.3,0.4,0.5,0.6\r",  # old Mac line ends
        f'{CSV_HEADER_LINE}\n"00001",0.1,0.2,0.3,0.4,0.5,0.6\n',  # quotes
        f"{CSV_HEADER_LINE}\n{PLAIN_ROW}\n{PLAIN_ROW}\n",  # repeated id
        f"{CSV_HEADER_LINE}\n00001,0.1,0.2,0.3,0.4,0.5,1e999\n",  # overflow
        f"{CSV_HEADER_LINE}\n1,0.1,0.2,0.3,0.4,0.5,0.6\n",  # short id
        f"{CSV_HEADER_LINE},x\n{PLAIN_ROW},1\n",  # extra column
        f"{CSV_HEADER_LINE}\n",  # no rows
    ],
)
def test_anything_unusual_goes_to_the_general_reader(text):
    fast, _ = both_paths(text)
    assert fast is None


def test_row_limit_applies_to_the_fast_path():
    text = f"{CSV_HEADER_LINE}\n{PLAIN_ROW}\n00002,0.1,0.2,0.3,0.4,0.5,0.6\n"
    assert read_clean(text.encode(), text, 1) is None
    assert read_clean(text.encode(), text, 2) is not None
