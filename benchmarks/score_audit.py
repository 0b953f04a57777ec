"""Rerun the figures of the issue-12 audit on a synthetic hidden split, in one run.

1. Bad CSVs handled cleanly: N seeded random mutations of a valid submission (byte flips, inserted
   quotes / NULs / line ends / invalid UTF-8, deleted spans, repeated lines, renamed columns,
   huge numbers) are validated against a hidden ground truth; "clean" means no exception, every
   problem one line, at most 200 kept, no ground-truth id named.
2. Peak memory of the worst ``/score`` request: ``benchmarks/score_memory.py``'s 32 MB files.
3. Requests needed to learn anything about a hidden split's labels: the audit's one-hot probes
   against ``/score`` (anonymous), then against counted submissions of one team.

Run: ``python -m benchmarks.score_audit [N]`` (default 5000 files). The machine may be shared:
times are indicative, the counts are exact.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.score_memory import adversarial_files, measure
from demo.score import check_submission
from emi_core.emotions import EMOTIONS
from emi_core.leaderboard import DailyLimitReached, Leaderboard
from emi_core.leaderboard.partition import public_mask
from emi_core.scoring import submission_text, validate_submission, write_submission

N_VIDEOS = 150
IDS = [f"{i:05d}" for i in range(N_VIDEOS)]
_INSERTS = [
    *(b'"', b",", b"\n", b"\r", b"\r\n", b"\x00", b"\xff", b"\xc3", b" ", b"nan", b"1e999", b"-0"),
    *(b"\xef\xbb\xbf", "é".encode(), "\U0001f600".encode(), b"9" * 400, b";", b"\t", b"00042", b"Joy"),
]


def mutate(raw: bytes, rng: random.Random) -> bytes:
    """One to five random edits of ``raw``."""
    data = bytearray(raw)
    for _ in range(rng.randint(1, 5)):
        kind = rng.randrange(7)
        at = rng.randrange(len(data) + 1) if data else 0
        if kind == 0 and data:
            data[min(at, len(data) - 1)] = rng.randrange(256)
        elif kind == 1:
            data[at:at] = rng.choice(_INSERTS)
        elif kind == 2 and data:
            del data[at : at + rng.randint(1, 200)]
        elif kind == 3:
            lines = bytes(data).split(b"\n")
            line = rng.choice(lines)
            lines.insert(rng.randrange(len(lines) + 1), line)
            data = bytearray(b"\n".join(lines))
        elif kind == 4:
            renamed = rng.choice([b"joy", b"", b"Joy", b"X"])
            data = bytearray(bytes(data).replace(rng.choice(EMOTIONS).encode(), renamed, 1))
        elif kind == 5:
            data = data[: rng.randrange(len(data) + 1)]
        else:
            data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 30)))
    return bytes(data)


def handled_cleanly(raw: bytes, truth) -> bool:
    """Validation returns (never raises), problems are single lines, capped, and name no ground-truth id."""
    try:
        result = validate_submission(raw, truth, reveal_ids=False)
    except Exception:  # noqa: BLE001 - counting crashes is the point
        return False
    texts = [str(problem) for problem in result.problems]
    one_line = all("\n" not in text and "\r" not in text for text in texts)
    named = any(f"'{cell}'" in text and "missing" in text for text in texts for cell in IDS)
    return one_line and len(result.problems) <= 200 and result.n_problems >= len(result.problems) and not named


def fuzz(n: int, truth) -> tuple[int, int, float]:
    """``(clean, total, seconds)`` over ``n`` mutated files."""
    rng = random.Random(12)
    base = submission_text(IDS, np.random.default_rng(0).random((N_VIDEOS, 6))).encode()
    start = time.perf_counter()
    clean = sum(handled_cleanly(mutate(base, rng), truth) for _ in range(n))
    return clean, n, time.perf_counter() - start


def one_hot(k: int) -> bytes:
    values = np.zeros((N_VIDEOS, 6))
    values[k] = 1.0
    return submission_text(IDS, values).encode()


def oracle_figures(folder: Path) -> dict:
    """What the audit's attack learns now: anonymously, and with one team's counted submissions."""
    truth = np.random.default_rng(12).random((N_VIDEOS, 6))
    path = write_submission(folder / "test_truth.csv", IDS, truth)
    board = Leaderboard(folder / "store", ground_truth={"test": path}, hidden_splits=["test"], daily_limit=5)
    replies = {json.dumps(check_submission(board, one_hot(k), "test"), sort_keys=True) for k in range(N_VIDEOS)}
    member = board.member_for_token(board.add_team("Prober"))
    scored = refused = 0
    for k in range(N_VIDEOS):
        try:
            board.submit(member.team, "test", one_hot(k), account=member.account)
            scored += 1
        except DailyLimitReached:
            refused += 1
    n_public = int(public_mask(IDS).sum())
    return {
        "anonymous probes": N_VIDEOS,
        "distinct anonymous replies": len(replies),
        "scored probes of one team per day": scored,
        "refused probes": refused,
        "public videos": n_public,
        "private videos": N_VIDEOS - n_public,
    }


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with tempfile.TemporaryDirectory(prefix="emi-audit-") as folder:
        folder = Path(folder)
        truth_path = write_submission(folder / "truth.csv", IDS, np.random.default_rng(1).random((N_VIDEOS, 6)))
        from emi_core.scoring import load_ground_truth

        clean, total, seconds = fuzz(n, load_ground_truth(truth_path))
        print(f"bad CSVs handled cleanly: {clean}/{total} ({seconds:.1f} s, {1000 * seconds / total:.2f} ms each)")
        worst = max((measure(raw)["mb"], name) for name, raw in adversarial_files().items())
        print(f"peak memory of the worst /score request (32 MB file): +{worst[0]:.0f} MB ({worst[1]})")
        figures = oracle_figures(folder)
        print(f"one-hot probes to /score on the hidden split: {figures['anonymous probes']} requests, "
              f"{figures['distinct anonymous replies']} distinct reply (no number: nothing learnt)")
        print(f"as a team: {figures['scored probes of one team per day']} probes scored per UTC day, "
              f"{figures['refused probes']} refused; each shows the public part "
              f"({figures['public videos']} videos) only, never the {figures['private videos']} private ones")
        print(f"requests to learn anything about the private labels before close: none suffice; "
              f"to rebuild the public labels up to scale and offset: >= {figures['public videos'] - 1} counted "
              f"submissions (one linear measurement per emotion each) = "
              f"{(figures['public videos'] - 1) / 5:.0f} days at the default limit")


if __name__ == "__main__":
    main()
