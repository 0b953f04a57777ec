"""Bootstrap statistics: fixed-seed resampling of videos, CI of the mean, paired p-values."""

from __future__ import annotations

import numpy as np
import pytest

from emi_core.leaderboard.bootstrap import (
    BOOTSTRAP_RESAMPLES,
    bootstrap_means,
    confidence_interval,
    paired_p_value,
    resample_indices,
)
from emi_core.scoring import pearson_columns


def data(n, noise, seed=0):
    rng = np.random.default_rng(seed)
    truth = rng.random((n, 6))
    return np.clip(truth + rng.normal(0, noise, truth.shape), 0, 1), truth


def explicit_mean_r(pred, truth):
    return np.nan_to_num(pearson_columns(pred, truth), nan=0.0).mean()


def test_at_least_1000_resamples_with_a_fixed_seed():
    pred, truth = data(400, 0.3)
    first = bootstrap_means(pred, truth)
    assert BOOTSTRAP_RESAMPLES >= 1000 and first.shape == (BOOTSTRAP_RESAMPLES,)
    np.testing.assert_array_equal(first, bootstrap_means(pred, truth))
    assert not np.array_equal(first, bootstrap_means(pred, truth, seed=1))


@pytest.mark.parametrize("n", [5, 400, 3000])
def test_weighted_moments_equal_pearson_on_resampled_rows(n):
    pred, truth = data(n, 0.3, seed=n)
    pred[:, 2] = 0.5  # a constant column counts as r = 0, as in scoring
    replicates = bootstrap_means(pred, truth)
    rows = np.concatenate(list(resample_indices(n)))
    assert rows.shape == (BOOTSTRAP_RESAMPLES, n)
    for b in range(0, BOOTSTRAP_RESAMPLES, 97):
        assert replicates[b] == pytest.approx(explicit_mean_r(pred[rows[b]], truth[rows[b]]), abs=1e-12)


def test_confidence_interval_covers_the_mean_and_narrows_with_more_videos():
    small = bootstrap_means(*data(200, 0.3))
    large = bootstrap_means(*data(4000, 0.3))
    low, high = confidence_interval(large)
    assert low < explicit_mean_r(*data(4000, 0.3)) < high
    assert np.subtract(*confidence_interval(small)[::-1]) > high - low
    assert confidence_interval(np.arange(1001.0)) == pytest.approx((25.0, 975.0))


def test_paired_p_value():
    pred, truth = data(500, 0.3)
    leader = bootstrap_means(pred, truth)
    assert paired_p_value(leader, leader) == 1.0
    far_worse = bootstrap_means(np.clip(pred + np.random.default_rng(9).normal(0, 0.5, pred.shape), 0, 1), truth)
    assert paired_p_value(leader, far_worse) == pytest.approx(1 / (BOOTSTRAP_RESAMPLES + 1))
    nearly = bootstrap_means(np.clip(pred + np.random.default_rng(9).normal(0, 0.01, pred.shape), 0, 1), truth)
    assert paired_p_value(leader, nearly) > 0.05
    with pytest.raises(ValueError, match="same resamples"):
        paired_p_value(leader, leader[:10])
