"""Validation of submission CSVs: every problem found at once, each named by line and column."""

from __future__ import annotations

import numpy as np
import pytest

from emi_core.emotions import CSV_HEADER_LINE
from emi_core.scoring import (
    GroundTruthError,
    Problem,
    SubmissionError,
    load_ground_truth,
    submission_text,
    validate_submission,
)

ROW = "0.1,0.2,0.3,0.4,0.5,0.6"


def csv_bytes(*rows: str, header: str = CSV_HEADER_LINE) -> bytes:
    return ("\n".join((header, *rows)) + "\n").encode()


def problems(data: bytes, truth=None, **limits) -> list[str]:
    return [str(problem) for problem in validate_submission(data, truth, **limits).problems]


@pytest.fixture(scope="module")
def truth():
    ids = [f"{i:05d}" for i in range(1, 4)]
    return load_ground_truth(submission_text(ids, np.random.default_rng(3).random((3, 6))).encode())


def test_valid_file_keeps_ids_as_text_and_values_exact():
    result = validate_submission(csv_bytes(f"00042,{ROW}", f"00007,{ROW}", f"10000,{ROW}"))
    assert result.ok and result.problems == ()
    assert result.ids == ("00042", "00007", "10000")
    assert result.values.dtype == np.float64
    np.testing.assert_array_equal(result.values[0], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6])


def test_column_order_may_differ():
    header = "Joy,Excitement,Empathic Pain,Determination,Amusement,Admiration,Filename"
    result = validate_submission(csv_bytes("0.6,0.5,0.4,0.3,0.2,0.1,00042", header=header))
    assert result.ok
    np.testing.assert_array_equal(result.values[0], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    assert result.ids == ("00042",)


@pytest.mark.parametrize(
    "data",
    [
        b"\xef\xbb\xbf" + csv_bytes(f"00001,{ROW}"),  # UTF-8 byte-order mark
        csv_bytes(f"00001,{ROW}").replace(b"\n", b"\r\n"),  # Windows line ends
        csv_bytes(f"00001,{ROW}").rstrip(b"\n"),  # no final newline
        csv_bytes(f"00001,{ROW}") + b"\n\n",  # trailing blank lines
        csv_bytes(f'"00001",{ROW}'),  # quoted cells
    ],
    ids=["bom", "crlf", "no-final-newline", "blank-lines", "quoted"],
)
def test_harmless_variations_are_valid(data):
    result = validate_submission(data)
    assert result.ok, result.problems
    assert result.ids == ("00001",)


def test_blank_and_multi_line_records_keep_physical_line_numbers():
    data = csv_bytes(f"00001,{ROW}", "", f'"00002",{ROW}', f"00003,{ROW[:-3]}x")
    assert problems(data) == ["line 5, column 'Joy': 'x' is not a number"]
    quoted = (CSV_HEADER_LINE + '\n"0000\n1",' + ROW + "\n00002,0.1,0.2,0.3,0.4,0.5,7\n").encode()
    assert problems(quoted) == [
        "line 2, column 'Filename': id '0000\\n1' is not a 5-digit id such as '00042'",
        "line 4, column 'Joy': '7' is outside [0, 1]",
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "file is empty"),
        (b"  \n\n", "file is empty"),
        (CSV_HEADER_LINE.encode() + b"\n", "no data rows after the header"),
        ("Filename,Joy\n1,2\n".encode("utf-16"), "file is encoded as UTF-16"),
        ("Filename,Joy\n".encode("utf-16-le"), "line 1: file contains NUL bytes (UTF-16 or not a text file)"),
        (
            csv_bytes(f"00001,{ROW}", f"00002,{ROW}").replace(b"00002", "é0002".encode("latin-1")),
            "line 3: not valid UTF-8 (byte 0xE9",
        ),
        (
            csv_bytes(f"00001;{ROW}".replace(",", ";"), header=CSV_HEADER_LINE.replace(",", ";")),
            "line 1: not comma-separated: the header is separated by semicolons; use commas",
        ),
        (
            csv_bytes(f"00001\t{ROW}".replace(",", "\t"), header=CSV_HEADER_LINE.replace(",", "\t")),
            "line 1: not comma-separated: the header is separated by tabs; use commas",
        ),
        (csv_bytes(f"00002,{ROW}", header=f"00001,{ROW}"), "line 1: first line is not a header; it must be Filename,"),
        (
            CSV_HEADER_LINE.encode() + b'\n"00001,' + ROW.encode() + b"\n",
            "line 2: malformed CSV: unexpected end of data",
        ),
    ],
)
def test_unreadable_files_get_one_clear_problem(data, expected):
    found = problems(data)
    assert len(found) == 1 and found[0].startswith(expected), found


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Filename,Admiration,Amusement,Determination,Empathic Pain,Excitement", ["line 1: column 'Joy' is missing"]),
        (CSV_HEADER_LINE + ",Confidence", ["line 1: unexpected column 'Confidence'"]),
        (
            CSV_HEADER_LINE.replace("Joy", "joy"),
            ["line 1: unknown column 'joy': did you mean 'Joy'? (names are exact)"],
        ),
        (
            CSV_HEADER_LINE.replace("Empathic Pain", "Empathic_Pain"),
            ["line 1: unknown column 'Empathic_Pain': did you mean 'Empathic Pain'? (names are exact)"],
        ),
        (
            CSV_HEADER_LINE.replace("Joy", " Joy"),
            ["line 1: unknown column ' Joy': did you mean 'Joy'? (names are exact)"],
        ),
        (CSV_HEADER_LINE + ",", ["line 1: empty column name (a trailing comma?)"]),
        (CSV_HEADER_LINE + ",Joy", ["line 1: column 'Joy' appears more than once"]),
    ],
)
def test_header_problems_name_the_column(header, expected):
    width = header.count(",") + 1
    row = ",".join(["00001", *ROW.split(","), "0.5", "0.5"][:width])
    assert problems(csv_bytes(row, header=header)) == expected


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (f"42,{ROW}", "line 2, column 'Filename': id '42' is not a 5-digit id (keep the leading zeros: '00042')"),
        (f"000042,{ROW}", "line 2, column 'Filename': id '000042' is not a 5-digit id such as '00042'"),
        (f"abcde,{ROW}", "line 2, column 'Filename': id 'abcde' is not a 5-digit id such as '00042'"),
        (f"0004２,{ROW}", "line 2, column 'Filename': id '0004２' is not a 5-digit id such as '00042'"),
        (f",{ROW}", "line 2, column 'Filename': empty id"),
        ("00001,0.1,0.2,0.3,0.4,0.5,", "line 2, column 'Joy': empty value"),
        ("00001,0.1,0.2,0.3,0.4,0.5,abc", "line 2, column 'Joy': 'abc' is not a number"),
        ("00001,0.1,0.2,0.3,0.4,0.5,0_5", "line 2, column 'Joy': '0_5' is not a number"),
        ("00001,0.1,0.2,0.3,0.4,0.5,٠.٥", "line 2, column 'Joy': '٠.٥' is not a number"),
        ("00001,0.1,0.2,0.3,0.4,0.5,0x1", "line 2, column 'Joy': '0x1' is not a number"),
        ("00001,0.1,0.2,0.3,0.4,0.5,0,5", "line 2: has 8 fields, expected 7 like the header"),
        ("00001,0.1,0.2,0.3,0.4,0.5, 0.5", "line 2, column 'Joy': ' 0.5' has spaces around the number"),
        ("00001,0.1,0.2,0.3,0.4,0.5,NaN", "line 2, column 'Joy': value is NaN"),
        ("00001,0.1,0.2,0.3,0.4,0.5,-inf", "line 2, column 'Joy': value is infinite"),
        ("00001,0.1,0.2,0.3,0.4,0.5,1e999", "line 2, column 'Joy': value is infinite (too large for float64)"),
        ("00001,0.1,0.2,0.3,0.4,0.5,1.5", "line 2, column 'Joy': '1.5' is outside [0, 1]"),
        ("00001,-0.1,0.2,0.3,0.4,0.5,0.6", "line 2, column 'Admiration': '-0.1' is outside [0, 1]"),
        ("00001,0.1,0.2,0.3", "line 2: has 4 fields, expected 7 like the header"),
    ],
)
def test_cell_problems_name_line_and_column(row, expected):
    assert problems(csv_bytes(f"00009,{ROW}", row)) == [expected.replace("line 2", "line 3")]


def test_boundaries_and_number_forms_are_valid():
    result = validate_submission(csv_bytes("00001,0,1,0.0,1.0,1e-3,.5", "00002,+0.5,-0,5E-1,1.,0.00,1e0"))
    assert result.ok, result.problems
    np.testing.assert_array_equal(result.values, [[0, 1, 0, 1, 1e-3, 0.5], [0.5, 0, 0.5, 1, 0, 1]])


def test_repeated_ids_are_reported_with_the_first_line():
    found = problems(csv_bytes(f"00001,{ROW}", f"00002,{ROW}", f"00001,{ROW}"))
    assert found == ["line 4, column 'Filename': id '00001' appears more than once (first on line 2)"]


def test_every_problem_is_reported_at_once_in_reading_order():
    data = csv_bytes(
        "42,0.1,0.2,0.3,0.4,0.5,abc",
        "00002,1.5,0.2,0.3,0.4,0.5,0.6",
        "00003,0.1,0.2",
        header=CSV_HEADER_LINE.replace("Amusement", "Amusment"),
    )
    assert problems(data) == [
        "line 1: unknown column 'Amusment': did you mean 'Amusement'? (names are exact)",
        "line 2, column 'Filename': id '42' is not a 5-digit id (keep the leading zeros: '00042')",
        "line 2, column 'Joy': 'abc' is not a number",
        "line 3, column 'Admiration': '1.5' is outside [0, 1]",
        "line 4: has 3 fields, expected 7 like the header",
    ]


def test_limits_on_rows_and_bytes(tmp_path):
    data = csv_bytes(*(f"{i:05d},{ROW}" for i in range(4)))
    assert problems(data, max_rows=3) == ["has more than 3 data rows, the limit (the rest was not read)"]
    assert problems(data, max_bytes=100) == [f"file is {len(data)} bytes, over the limit of 100 bytes"]
    path = tmp_path / "big.csv"
    path.write_bytes(data)
    assert validate_submission(path, max_bytes=len(data)).ok
    assert "over the limit" in problems(path, max_bytes=len(data) - 1)[0]


def test_missing_file_and_directory_are_problems(tmp_path):
    assert problems(tmp_path / "nope.csv") == [f"file {str(tmp_path / 'nope.csv')!r} not found"]
    assert problems(tmp_path) == [f"{str(tmp_path)!r} is not a file"]


def test_ids_are_matched_against_the_ground_truth(truth):
    ok = validate_submission(csv_bytes(f"00003,{ROW}", f"00001,{ROW}", f"00002,{ROW}"), truth)
    assert ok.ok
    assert ok.truth_rows.tolist() == [2, 0, 1]
    np.testing.assert_array_equal(ok.aligned_values()[2], ok.values[0])
    found = problems(csv_bytes(f"00001,{ROW}", f"00099,{ROW}", f"00001,{ROW}"), truth)
    assert found == [
        "line 3, column 'Filename': id '00099' is not in the ground truth",
        "line 4, column 'Filename': id '00001' appears more than once (first on line 2)",
        "column 'Filename': 2 ground-truth ids are missing: '00002', '00003'",
    ]


def test_many_missing_ids_are_summarised():
    truth = load_ground_truth(
        submission_text([f"{i:05d}" for i in range(30)], np.random.default_rng(0).random((30, 6))).encode()
    )
    found = problems(csv_bytes(f"00000,{ROW}"), truth)
    assert found == [
        "column 'Filename': 29 ground-truth ids are missing: "
        + ", ".join(f"'{i:05d}'" for i in range(1, 11))
        + " and 19 more"
    ]


def test_submission_error_lists_all_problems_but_prints_a_capped_list():
    data = csv_bytes(*(f"{i:05d},0.1,0.2,0.3,0.4,0.5,9" for i in range(60)))
    result = validate_submission(data)
    with pytest.raises(SubmissionError) as caught:
        result.raise_for_problems()
    error = caught.value
    assert len(error.problems) == 60
    text = str(error)
    assert text.startswith("submission has 60 problems:\n  line 2, column 'Joy': '9' is outside [0, 1]")
    assert "line 51, column 'Joy'" in text and "line 52, column 'Joy'" not in text
    assert text.endswith("... and 10 more problems")
    single = SubmissionError([Problem("file is empty")])
    assert str(single) == "submission is invalid: file is empty"
    assert Problem("x", 3, "Joy").to_dict() == {"line": 3, "column": "Joy", "message": "x"}


def test_aligned_values_need_a_ground_truth():
    result = validate_submission(csv_bytes(f"00001,{ROW}"))
    with pytest.raises(ValueError, match="validated against a ground truth"):
        result.aligned_values()
    assert repr(result) == "ValidationResult(n_rows=1, problems=0)"


def test_ground_truth_problems_never_quote_values_or_the_path(tmp_path):
    bad = csv_bytes("00001,0.1,0.2,0.3,0.4,0.5,0.123456789", "00002,0.1,0.2,0.3,0.4,0.5,1.987654321")
    with pytest.raises(GroundTruthError) as caught:
        load_ground_truth(bad)
    assert str(caught.value) == "ground truth is invalid: line 3, column 'Joy': value is outside [0, 1]"
    with pytest.raises(GroundTruthError, match="value is not a number"):
        load_ground_truth(csv_bytes("00001,0.1,0.2,0.3,0.4,0.5,x0.75391", "00002,0.1,0.2,0.3,0.4,0.5,0.6"))
    secret = tmp_path / "secret_truth_folder" / "truth.csv"
    with pytest.raises(GroundTruthError) as caught:
        load_ground_truth(secret)
    assert str(caught.value) == "ground truth is invalid: file not found"


def test_ground_truth_must_vary_and_have_two_rows():
    with pytest.raises(GroundTruthError, match="needs at least 2 rows"):
        load_ground_truth(csv_bytes(f"00001,{ROW}"))
    with pytest.raises(GroundTruthError) as caught:
        load_ground_truth(csv_bytes(f"00001,{ROW}", "00002,0.9,0.2,0.9,0.4,0.9,0.6"))
    assert [problem.column for problem in caught.value.problems] == ["Amusement", "Empathic Pain", "Joy"]
    assert "all values are equal" in str(caught.value)


def test_ground_truth_repr_hides_values():
    truth = load_ground_truth(csv_bytes("00001,0.11,0.2,0.3,0.4,0.5,0.6", "00002,0.31,0.4,0.5,0.6,0.7,0.8"))
    assert repr(truth) == "GroundTruth(n=2)" and len(truth) == 2
    assert truth.index == {"00001": 0, "00002": 1}
    assert not truth.values.flags.writeable
