"""Thousands of mutated submission CSVs are all handled cleanly: no exception, one-line problems,
a capped list, no ground-truth id named (the generator is ``benchmarks/score_audit.py``'s)."""

from __future__ import annotations

import random

import numpy as np

from benchmarks.score_audit import IDS, handled_cleanly, mutate
from emi_core.scoring import load_ground_truth, submission_text


def test_two_thousand_mutated_csvs_are_handled_cleanly():
    truth = load_ground_truth(submission_text(IDS, np.random.default_rng(1).random((len(IDS), 6))).encode())
    base = submission_text(IDS, np.random.default_rng(0).random((len(IDS), 6))).encode()
    rng = random.Random(2024)
    bad = [raw for raw in (mutate(base, rng) for _ in range(2000)) if not handled_cleanly(raw, truth)]
    assert bad == []
