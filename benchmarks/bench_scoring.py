"""Benchmark: validate + score a submission CSV against its lower bounds.

For a 4,586-row (test-sized) and a 100,000-row file, times

* ``ours``: :func:`emi_core.scoring.validate_submission` (full validation, from the file) + scoring,
  against a ground truth already loaded;
* ``pandas``: the bare computation with no validation: ``pandas.read_csv`` of the same file,
  aligning rows to the already-parsed ground truth by ``Filename`` and a numpy Pearson per column;
* ``numpy``: the numpy Pearson alone on already-parsed, aligned arrays (no parsing at all).

Prints the best of several runs and the ratios ours/pandas (target <= 3) and ours/numpy, and the
absolute time (target < 0.3 s for 4,586 rows). Run: ``python benchmarks/bench_scoring.py``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from emi_core.emotions import EMOTIONS, FILENAME_COLUMN
from emi_core.scoring import load_ground_truth, score_arrays, validate_submission, write_submission


def best_time(function, repeats: int) -> float:
    """The fastest of ``repeats`` calls, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def numpy_pearson(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """The bare per-column Pearson's r (no checks)."""
    x = pred - pred.mean(axis=0)
    y = truth - truth.mean(axis=0)
    return (x * y).sum(axis=0) / np.sqrt((x * x).sum(axis=0) * (y * y).sum(axis=0))


def make_files(folder: Path, rows: int, seed: int = 0) -> tuple[Path, Path]:
    """Write a ground truth and a shuffled, noisy prediction file of ``rows`` rows."""
    rng = np.random.default_rng(seed)
    ids = [f"{i:05d}" for i in rng.permutation(100_000)[:rows]]  # 100,000 rows use every 5-digit id
    truth = rng.random((rows, len(EMOTIONS)))
    pred = np.clip(truth + rng.normal(0.0, 0.3, truth.shape), 0.0, 1.0)
    order = rng.permutation(rows)
    truth_path = write_submission(folder / f"truth_{rows}.csv", ids, truth)
    pred_path = write_submission(folder / f"pred_{rows}.csv", [ids[i] for i in order], pred[order])
    return truth_path, pred_path


def bench(rows: int, repeats: int, folder: Path) -> None:
    """Time the three variants on a ``rows``-row file and print the figures."""
    truth_path, pred_path = make_files(folder, rows)
    truth = load_ground_truth(truth_path)
    truth_frame = pd.read_csv(truth_path, dtype={FILENAME_COLUMN: str}).set_index(FILENAME_COLUMN)

    def ours():
        result = validate_submission(pred_path, truth)
        return score_arrays(result.aligned_values(), truth.values)

    def bare_pandas():
        frame = pd.read_csv(pred_path, dtype={FILENAME_COLUMN: str}).set_index(FILENAME_COLUMN)
        aligned = frame.loc[truth_frame.index, list(EMOTIONS)].to_numpy()
        return numpy_pearson(aligned, truth_frame[list(EMOTIONS)].to_numpy())

    aligned = validate_submission(pred_path, truth).aligned_values()
    truth_values = np.array(truth.values)

    report = ours()
    reference = bare_pandas()
    assert np.allclose(list(report.per_emotion.values()), reference, atol=1e-12), "implementations disagree"

    t_ours = best_time(ours, repeats)
    t_pandas = best_time(bare_pandas, repeats)
    t_numpy = best_time(lambda: numpy_pearson(aligned, truth_values), repeats * 5)
    print(
        f"{rows:>7,} rows: ours {t_ours * 1e3:8.2f} ms | bare pandas+numpy {t_pandas * 1e3:7.2f} ms "
        f"| numpy Pearson only {t_numpy * 1e3:6.3f} ms"
    )
    print(
        f"          ratio ours/pandas = {t_ours / t_pandas:5.2f} (target <= 3) | ours/numpy-only = "
        f"{t_ours / t_numpy:6.1f} | absolute {t_ours:.4f} s" + (" (target < 0.3 s)" if rows == 4586 else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for rows in (4586, 100_000):
            bench(rows, args.repeats if rows < 100_000 else max(3, args.repeats // 5), Path(tmp))


if __name__ == "__main__":
    main()
