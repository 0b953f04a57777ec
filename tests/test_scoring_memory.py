"""A 32 MB adversarial CSV costs bounded memory and a bounded reply (issue 12, defect 4).

Bound: validating any file up to the 32 MB size limit raises the process's peak memory by less than
128 MB (the file's own 32 MB included; measured: at most about 70 MB) and keeps at most 200
problems, however many there are.
"""

from __future__ import annotations

import pytest

from benchmarks.score_memory import adversarial_files, measure
from emi_core.scoring import DEFAULT_MAX_BYTES
from emi_core.scoring.problems import MAX_KEPT_PROBLEMS

MEMORY_BOUND_MB = 128

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", list(adversarial_files()))
def test_a_32_mb_adversarial_csv_stays_under_the_memory_bound(name):
    raw = adversarial_files()[name]
    assert DEFAULT_MAX_BYTES - 1024 <= len(raw) <= DEFAULT_MAX_BYTES
    measured = measure(raw)
    assert measured["mb"] < MEMORY_BOUND_MB, measured
    assert measured["kept"] <= MAX_KEPT_PROBLEMS and measured["reply_kb"] < 64
    assert measured["problems"] >= measured["kept"] > 0
