"""Peak memory and time of validating adversarial 32 MB submission CSVs (the worst ``/score`` request).

Each file is validated in a fresh subprocess; the figure is the growth of its peak resident memory
(``VmHWM``) over the interpreter with ``emi_core.scoring`` imported, before the file is read: the
32 MB of the file itself are included. Run: ``python -m benchmarks.score_memory``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile

from emi_core.emotions import CSV_HEADER_LINE
from emi_core.scoring import DEFAULT_MAX_BYTES

CHILD = """
import json, sys, time
from emi_core.scoring import validate_submission

def peak_kb():  # VmHWM: this process's peak resident memory (ru_maxrss would include the parent's, from fork)
    return int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])

before = peak_kb()
raw = open(sys.argv[1], "rb").read()
start = time.perf_counter()
result = validate_submission(raw)
seconds = time.perf_counter() - start
after = peak_kb()
reply = json.dumps([p.to_dict() for p in result.problems])
print(json.dumps({"mb": (after - before) / 1024, "s": seconds, "problems": result.n_problems,
                  "kept": len(result.problems), "reply_kb": len(reply) / 1024}))
"""


ROW = "00001,0.1,0.2,0.3,0.4,0.5,0.6\n"


def _fill(line: str, size: int = DEFAULT_MAX_BYTES) -> bytes:
    head = (CSV_HEADER_LINE + "\n").encode()
    body = line.encode()
    return head + body * ((size - len(head)) // len(body))


def adversarial_files() -> dict[str, bytes]:
    """32 MB CSVs built to cost the most: every cell bad, tiny rows, long cells, wide text."""
    long_cell = "9" * 60
    return {
        "every cell bad (x)": _fill("x,x,x,x,x,x,x\n"),
        "rows of the wrong width": _fill("1\n"),
        "empty rows of 7 cells": _fill(",,,,,,\n"),
        "long bad numbers": _fill(",".join([long_cell] * 7) + "\n"),
        "one astral character, rest ASCII": _fill(ROW, DEFAULT_MAX_BYTES - 8) + "\U0001f600\n".encode(),
        "clean rows over the row limit": _fill(ROW),
        "plain numbers, under the row limit": _fill("00001," + ",".join(["0." + "1" * 30] * 6) + "\n"),
    }


def measure(raw: bytes) -> dict:
    """Validate ``raw`` in a fresh interpreter; return its memory growth (MB), time and problem counts."""
    with tempfile.NamedTemporaryFile(suffix=".csv", prefix="emi-bench-") as handle:
        handle.write(raw)
        handle.flush()
        out = subprocess.run([sys.executable, "-c", CHILD, handle.name], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    print(f"{'file (32 MB)':<36} {'peak +MB':>9} {'seconds':>8} {'problems':>10} {'kept':>5} {'reply kB':>9}")
    worst = 0.0
    for name, raw in adversarial_files().items():
        m = measure(raw)
        worst = max(worst, m["mb"])
        print(f"{name:<36} {m['mb']:>9.0f} {m['s']:>8.2f} {m['problems']:>10,} {m['kept']:>5} {m['reply_kb']:>9.1f}")
    print(f"worst peak memory growth: {worst:.0f} MB (file included) for a {DEFAULT_MAX_BYTES / 2**20:.0f} MiB file")


if __name__ == "__main__":
    main()
