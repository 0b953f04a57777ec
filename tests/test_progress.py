"""Progress: a bar on a terminal, plain lines (never carriage returns) in a log."""

from __future__ import annotations

import io

from emi_core.progress import LogLines, progress
from tests.cli_tools import run_emi


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_a_plain_line_every_tenth():
    log = io.StringIO()
    assert list(progress(range(1000), desc="clips", unit="clip", file=log)) == list(range(1000))
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue() and len(lines) == 10
    assert lines[0].startswith("clips: 100/1000 clip (10%) in ")
    assert lines[-1].startswith("clips: 1000/1000 clip (100%)")


def test_updates_with_postfix_and_a_partial_end():
    log = io.StringIO()
    with progress(total=7, desc="extracting", unit="video", file=log, step=0.5) as bar:
        assert isinstance(bar, LogLines)
        for _ in range(5):
            bar.update(1)
        bar.set_postfix(failed=1)
    lines = log.getvalue().splitlines()
    assert [line.split(" in ")[0] for line in lines] == ["extracting: 4/7 video (57%)", "extracting: 5/7 video (71%)"]
    assert lines[-1].endswith(", failed=1")


def test_unknown_total_writes_one_line_at_the_end():
    log = io.StringIO()
    list(progress(iter(range(3)), desc="batches", file=log))
    assert log.getvalue().startswith("batches: 3 it in ") and log.getvalue().count("\n") == 1


def test_hidden_progress_writes_nothing():
    log = io.StringIO()
    assert list(progress(range(5), desc="x", file=log, show=False)) == list(range(5))
    assert log.getvalue() == ""


def test_a_terminal_gets_a_tqdm_bar():
    screen = Terminal()
    list(progress(range(50), desc="clips", file=screen))
    assert "\r" in screen.getvalue() and "50/50" in screen.getvalue()


def test_emi_predict_with_stderr_to_a_file_logs_lines(media, tmp_path):
    clips = [media("cremad_1002_sad_f.wav"), media("cremad_1002_happy_f.wav")]
    proc = run_emi("predict", *clips, "--json")
    assert proc.returncode == 0, proc.stderr
    assert "\r" not in proc.stderr
    assert [line.split(" in ")[0] for line in proc.stderr.splitlines() if line.startswith("clips:")] == [
        "clips: 1/2 clip (50%)",
        "clips: 2/2 clip (100%)",
    ]
