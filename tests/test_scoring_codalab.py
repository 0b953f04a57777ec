"""Challenge-server mode: the CodaLab / Codabench scoring-program layout."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emi_core.scoring import CodalabError, SubmissionError, run_codalab, score_submission, write_submission


@pytest.fixture()
def layout(tmp_path):
    rng = np.random.default_rng(8)
    ids = [f"{i:05d}" for i in range(40)]
    truth = rng.random((40, 6))
    (tmp_path / "input" / "res").mkdir(parents=True)
    (tmp_path / "input" / "ref").mkdir()
    write_submission(tmp_path / "input" / "ref" / "val_truth.csv", ids, truth)
    write_submission(
        tmp_path / "input" / "res" / "predictions.csv", ids, np.clip(truth + rng.normal(0, 0.3, truth.shape), 0, 1)
    )
    return tmp_path


def test_writes_scores_txt_and_json(layout):
    report = run_codalab(layout / "input", layout / "output")
    expected = score_submission(
        layout / "input" / "res" / "predictions.csv", layout / "input" / "ref" / "val_truth.csv"
    )
    assert report == expected
    lines = (layout / "output" / "scores.txt").read_text().splitlines()
    keys = dict(line.split(": ") for line in lines)
    assert list(keys) == [
        "mean_pearson",
        "admiration",
        "amusement",
        "determination",
        "empathic_pain",
        "excitement",
        "joy",
    ]
    assert float(keys["mean_pearson"]) == report.mean_pearson
    assert float(keys["empathic_pain"]) == report.per_emotion["Empathic Pain"]
    assert json.loads((layout / "output" / "scores.json").read_text()) == {k: float(v) for k, v in keys.items()}


def test_submission_zipped_inside_a_folder_is_found(layout):
    nested = layout / "input" / "res" / "my_team"
    nested.mkdir()
    (layout / "input" / "res" / "predictions.csv").rename(nested / "predictions.csv")
    (layout / "input" / "res" / "__MACOSX").mkdir()
    (layout / "input" / "res" / "__MACOSX" / "._predictions.csv").write_bytes(b"\x00\x05")
    assert run_codalab(layout / "input", layout / "output").n == 40


def test_layout_errors(layout):
    (layout / "input" / "res" / "second.csv").write_text("x")
    with pytest.raises(CodalabError, match=r"exactly one CSV file in the submission folder 'res/', found 2"):
        run_codalab(layout / "input", layout / "output")
    (layout / "input" / "res" / "second.csv").unlink()
    (layout / "input" / "ref" / "val_truth.csv").unlink()
    (layout / "input" / "ref").rmdir()
    with pytest.raises(CodalabError, match=r"the reference folder 'ref/' is missing"):
        run_codalab(layout / "input", layout / "output")


def test_invalid_submission_is_reported_and_no_scores_written(layout):
    (layout / "input" / "res" / "predictions.csv").write_text("Filename,Joy\n00001,2\n")
    with pytest.raises(SubmissionError, match="line 1: column 'Admiration' is missing"):
        run_codalab(layout / "input", layout / "output")
    assert not (layout / "output" / "scores.txt").exists()


def test_symbolic_links_in_res_are_refused(layout, tmp_path):
    res = layout / "input" / "res"
    (res / "predictions.csv").unlink()
    (res / "predictions.csv").symlink_to(layout / "input" / "ref" / "val_truth.csv")
    with pytest.raises(CodalabError, match=r"symbolic link \('predictions.csv'\)"):
        run_codalab(layout / "input", layout / "output")
    (res / "predictions.csv").unlink()
    (res / "deep").mkdir()
    (res / "deep" / "x.csv").symlink_to("/etc/passwd")
    with pytest.raises(CodalabError) as caught:
        run_codalab(layout / "input", layout / "output")
    assert "deep/x.csv" in str(caught.value) and "root" not in str(caught.value)
    (res / "deep" / "x.csv").unlink()
    (res / "deep").rmdir()
    res.rmdir()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    write_submission(outside / "p.csv", ["00000", "00001"], np.full((2, 6), 0.5))
    res.symlink_to(outside)
    with pytest.raises(CodalabError, match="is a symbolic link"):
        run_codalab(layout / "input", layout / "output")
    assert not (layout / "output").exists()


def test_a_copy_of_the_reference_is_refused(layout):
    res = layout / "input" / "res" / "predictions.csv"
    lines = (layout / "input" / "ref" / "val_truth.csv").read_text().splitlines()
    res.write_text("\n".join([lines[0], *reversed(lines[1:])]) + "\n")  # reordered: other bytes, same labels
    with pytest.raises(CodalabError, match="copy of the reference"):
        run_codalab(layout / "input", layout / "output")
