"""``emi score`` and ``emi leaderboard``: output formats, exit codes, messages (no tracebacks)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import pearsonr

from emi_core.cli import main
from emi_core.emotions import CSV_HEADER_LINE, EMOTIONS
from emi_core.scoring import load_ground_truth, write_submission
from tests.cli_tools import run_emi

N = 120


@pytest.fixture()
def pair(tmp_path):
    """(truth path, prediction path, truth values, prediction values); predictions shuffled."""
    rng = np.random.default_rng(13)
    ids = [f"{i:05d}" for i in rng.permutation(100_000)[:N]]
    truth = rng.random((N, 6))
    pred = np.clip(truth + rng.normal(0, 0.3, truth.shape), 0, 1)
    order = rng.permutation(N)
    truth_path = write_submission(tmp_path / "truth.csv", ids, truth)
    pred_path = write_submission(tmp_path / "pred.csv", [ids[i] for i in order], pred[order])
    return truth_path, pred_path, truth, pred


def emi(capsys, *args) -> tuple[int, str, str]:
    code = main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_score_json_agrees_with_an_independent_pearson(pair):
    truth_path, pred_path, truth, pred = pair
    proc = run_emi("score", "--pred", pred_path, "--truth", truth_path, "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)  # exactly one JSON document on stdout
    assert set(report) == {"mean_pearson", "per_emotion", "n", "warnings"}
    expected = [pearsonr(pred[:, j], truth[:, j])[0] for j in range(6)]
    assert list(report["per_emotion"]) == list(EMOTIONS)
    assert np.allclose(list(report["per_emotion"].values()), expected, rtol=0, atol=1e-9)
    assert abs(report["mean_pearson"] - np.mean(expected)) <= 1e-9
    assert report["n"] == N and report["warnings"] == []


def test_invalid_submission_exits_2_with_the_problems_on_stderr(pair, tmp_path):
    truth_path = pair[0]
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{CSV_HEADER_LINE}\n00001,0.1,0.2,0.3,0.4,0.5,0.6\n00002,0.1,0.2,0.3,0.4,0.5,high\n")
    proc = run_emi("score", "--pred", bad, "--truth", truth_path, "--json")
    assert proc.returncode == 2
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    assert "line 3, column 'Joy': 'high' is not a number" in proc.stderr
    assert proc.stderr.startswith("error: submission has")


def test_table_output(pair, capsys):
    truth_path, pred_path, _, _ = pair
    code, out, err = emi(capsys, "score", "--pred", pred_path, "--truth", truth_path)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["emotion", "pearson_r"]
    assert [line.split()[0] for line in lines[1:4]] == ["Admiration", "Amusement", "Determination"]
    assert lines[-2].startswith("mean") and lines[-1] == f"n = {N} videos"


MALFORMED = [
    ("Filename;Joy\n00001;0.5\n", "line 1: not comma-separated"),
    (CSV_HEADER_LINE.replace("Joy", "Joyy") + "\n00001,0,0,0,0,0,0\n", "line 1: unknown column 'Joyy'"),
    (CSV_HEADER_LINE + "\n1,0,0,0,0,0,0\n", "line 2, column 'Filename': id '1' is not a 5-digit id"),
    (CSV_HEADER_LINE + "\n00001,0,0,0,0,0,nan\n", "line 2, column 'Joy': value is NaN"),
    (CSV_HEADER_LINE + "\n00001,0,0,0,0,0,2\n", "line 2, column 'Joy': '2' is outside [0, 1]"),
    (CSV_HEADER_LINE + "\n00001,0,0,0,0,0\n", "line 2: has 6 fields, expected 7"),
    (CSV_HEADER_LINE + "\n00001,0,0,0,0,0,\n", "line 2, column 'Joy': empty value"),
]


@pytest.mark.parametrize(("content", "message"), MALFORMED)
def test_every_malformed_file_exits_2_naming_line_and_problem(content, message, tmp_path, pair, capsys):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    for args in (["--validate", path], ["--pred", path, "--truth", pair[0], "--json"]):
        code, out, err = emi(capsys, "score", *args)
        assert code == 2 and out == ""
        assert message in err


def test_validate_reports_a_valid_file(pair, capsys):
    code, out, _ = emi(capsys, "score", "--validate", pair[1])
    assert code == 0 and out == f"{pair[1]}: valid challenge CSV with {N} rows\n"


def test_pred_needs_truth(pair, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["score", "--pred", str(pair[1])])
    assert caught.value.code == 2
    assert "--pred needs --truth" in capsys.readouterr().err


def test_constant_column_warns_on_stderr_and_in_json(pair, tmp_path, capsys):
    truth_path, _, truth, pred = pair
    pred = pred.copy()
    pred[:, 0] = 0.25
    path = write_submission(tmp_path / "constant.csv", load_ground_truth(truth_path).ids, pred)
    code, out, err = emi(capsys, "score", "--pred", path, "--truth", truth_path, "--json")
    assert code == 0
    warning = "predictions for 'Admiration' are constant: Pearson's r is undefined and scored 0.0"
    assert json.loads(out)["warnings"] == [warning] and err == f"warning: {warning}\n"
    assert json.loads(out)["per_emotion"]["Admiration"] == 0.0


def test_codalab_mode(pair, tmp_path, capsys):
    truth_path, pred_path, _, _ = pair
    (tmp_path / "in" / "res").mkdir(parents=True)
    (tmp_path / "in" / "ref").mkdir()
    (tmp_path / "in" / "res" / "p.csv").write_bytes(pred_path.read_bytes())
    (tmp_path / "in" / "ref" / "t.csv").write_bytes(truth_path.read_bytes())
    code, out, _ = emi(capsys, "score", "--codalab", tmp_path / "in", tmp_path / "out")
    assert code == 0 and out == ""
    scores = json.loads((tmp_path / "out" / "scores.json").read_text())
    assert (tmp_path / "out" / "scores.txt").read_text().startswith(f"mean_pearson: {scores['mean_pearson']!r}\n")


@pytest.fixture()
def store_env(pair, tmp_path, monkeypatch):
    monkeypatch.setenv("EMI_SUBMISSIONS_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("EMI_GROUND_TRUTH_VAL", str(pair[0]))
    monkeypatch.delenv("EMI_GROUND_TRUTH_TEST", raising=False)
    monkeypatch.delenv("EMI_DAILY_LIMIT", raising=False)
    return tmp_path / "store"


def submit(*args) -> list:
    """``emi leaderboard submit --team 'Team A' ARGS`` as an argument list."""
    return ["leaderboard", "submit", "--team", "Team A", *args]


def test_leaderboard_submit_show_export(pair, store_env, tmp_path, capsys):
    code, out, err = emi(capsys, *submit("--split", "val", "--pred", pair[1], "--description", "baseline"))
    assert code == 0 and err == ""
    entry = json.loads(out)
    assert entry["status"] == "scored" and entry["team"] == "Team A" and entry["description"] == "baseline"
    assert entry["id"] == 1 and len(entry["ci95"]) == 2 and set(entry["per_emotion"]) == set(EMOTIONS)
    code, out, _ = emi(capsys, "leaderboard", "show")
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:3] == ["rank", "team", "mean_r"]
    assert lines[1].split()[:3] == ["1", "Team", "A"] and f"{entry['mean_pearson']:.4f}" in lines[1]
    code, out, _ = emi(capsys, "leaderboard", "show", "--split", "val", "--all", "--json")
    ranking = json.loads(out)
    assert [(row["rank"], row["id"], row["p_value_vs_leader"]) for row in ranking] == [(1, 1, None)]
    code, out, _ = emi(capsys, "leaderboard", "show", "--split", "test")
    assert out == "no scored submissions for 'test' yet\n"
    code, out, _ = emi(capsys, "leaderboard", "export", tmp_path / "all.csv")
    assert code == 0 and out == f"wrote 1 submissions to {tmp_path / 'all.csv'}\n"
    assert (tmp_path / "all.csv").read_text(encoding="utf-8-sig").startswith("id,split,team,")


def test_leaderboard_rejection_exits_2_with_reasons(store_env, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text(CSV_HEADER_LINE + "\n00001,0,0,0,0,0,2\n")
    code, out, err = emi(capsys, *submit("--split", "val", "--pred", bad))
    assert code == 2
    assert json.loads(out)["status"] == "rejected"
    assert "line 2, column 'Joy': '2' is outside [0, 1]" in err and "Traceback" not in err


def test_leaderboard_refusals_are_one_line_errors(pair, store_env, capsys):
    code, out, err = emi(capsys, *submit("--split", "test", "--pred", pair[1]))
    assert (code, out) == (2, "")
    assert err == "error: no ground truth is configured for split 'test' (set EMI_GROUND_TRUTH_TEST)\n"
    code, _, err = emi(capsys, *submit("--split", "test", "--pred", pair[1], "--truth", pair[0], "--store", store_env))
    assert code == 0, err
    code, _, err = emi(capsys, "leaderboard", "submit", "--team", "<b>", "--split", "val", "--pred", pair[1])
    assert code == 2 and err.startswith("error: team name '<b>' is invalid: '<' is not allowed")


def test_leaderboard_submit_in_a_subprocess(pair, store_env):
    proc = run_emi("leaderboard", "submit", "--team", "Team Z", "--split", "val", "--pred", pair[1])
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["team"] == "Team Z"
    assert (store_env / "leaderboard.sqlite3").is_file()
