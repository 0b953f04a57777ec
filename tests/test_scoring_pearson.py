"""Pearson's r and the score report: exact against scipy, independent of row order, defined edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import pearsonr

from emi_core.emotions import EMOTIONS
from emi_core.scoring import (
    GroundTruthError,
    ScoreReport,
    load_ground_truth,
    pearson,
    pearson_columns,
    score_arrays,
    score_submission,
    submission_text,
    validate_submission,
)


@pytest.mark.parametrize("n", [2, 3, 17, 500, 4586])
@pytest.mark.parametrize("seed", [0, 1])
def test_pearson_equals_scipy(n, seed):
    rng = np.random.default_rng(seed)
    truth = rng.random((n, 6))
    pred = truth * rng.random(6) + rng.normal(0, 0.3, (n, 6))
    r = pearson_columns(pred, truth)
    for column in range(6):
        assert abs(r[column] - pearsonr(pred[:, column], truth[:, column])[0]) <= 1e-12


def test_pearson_is_exact_for_shifted_and_scaled_data():
    rng = np.random.default_rng(5)
    x, y = rng.random(1000), rng.random(1000)
    expected = pearsonr(x, y)[0]
    assert abs(pearson(x * 3 + 10, y * 7 - 3) - expected) <= 1e-12
    assert pearson(x, 2 * x + 1) == pytest.approx(1.0, abs=1e-15)
    assert -1.0 <= pearson(x, -x) <= -1.0 + 1e-15


def test_constant_column_has_no_defined_r():
    assert math.isnan(pearson([0.5, 0.5, 0.5], [0.1, 0.2, 0.3]))
    with pytest.raises(ValueError, match="same shape"):
        pearson_columns(np.zeros((1, 6)), np.zeros((1, 6)))


def write_pair(rng, n=200):
    ids = [f"{i:05d}" for i in rng.permutation(100_000)[:n]]
    truth = rng.random((n, 6))
    pred = np.clip(truth + rng.normal(0, 0.25, (n, 6)), 0, 1)
    return ids, truth, pred


def test_score_matches_an_independent_computation_and_ignores_row_order():
    rng = np.random.default_rng(11)
    ids, truth, pred = write_pair(rng)
    truth_csv = submission_text(ids, truth).encode()
    report = score_submission(submission_text(ids, pred).encode(), truth_csv)
    expected = [pearsonr(pred[:, j], truth[:, j])[0] for j in range(6)]
    assert list(report.per_emotion) == list(EMOTIONS)
    assert np.allclose(list(report.per_emotion.values()), expected, rtol=0, atol=1e-12)
    assert report.mean_pearson == pytest.approx(np.mean(expected), abs=1e-12)
    assert report.n == len(ids) and report.warnings == ()
    order = rng.permutation(len(ids))
    shuffled = score_submission(submission_text([ids[i] for i in order], pred[order]).encode(), truth_csv)
    assert shuffled == report


def test_constant_prediction_column_scores_zero_with_a_warning():
    rng = np.random.default_rng(2)
    ids, truth, pred = write_pair(rng, 50)
    pred[:, EMOTIONS.index("Joy")] = 0.5
    report = score_submission(submission_text(ids, pred).encode(), submission_text(ids, truth).encode())
    assert report.per_emotion["Joy"] == 0.0
    assert report.warnings == ("predictions for 'Joy' are constant: Pearson's r is undefined and scored 0.0",)
    assert report.mean_pearson == pytest.approx(math.fsum(report.per_emotion.values()) / 6, abs=0)


def test_constant_ground_truth_is_an_error_of_the_ground_truth():
    truth = np.random.default_rng(0).random((5, 6))
    truth[:, 1] = 0.25
    with pytest.raises(GroundTruthError, match="column 'Amusement': all values are equal"):
        score_arrays(truth, truth)


def test_validation_result_must_match_the_ground_truth_it_was_checked_with():
    rng = np.random.default_rng(4)
    ids, truth, pred = write_pair(rng, 20)
    truth_a = load_ground_truth(submission_text(ids, truth).encode())
    truth_b = load_ground_truth(submission_text(ids, truth).encode())
    result = validate_submission(submission_text(ids, pred).encode(), truth_a)
    assert score_submission(result, truth_a).n == 20
    with pytest.raises(ValueError, match="not validated against this ground truth"):
        score_submission(result, truth_b)


def test_report_to_dict_is_the_json_shape():
    report = ScoreReport(0.25, dict.fromkeys(EMOTIONS, 0.25), 10, ("w",))
    assert report.to_dict() == {
        "mean_pearson": 0.25,
        "per_emotion": dict.fromkeys(EMOTIONS, 0.25),
        "n": 10,
        "warnings": ["w"],
    }
