"""Progress of long loops: a tqdm bar on a terminal, plain lines in a log.

A bar redraws itself with carriage returns, which is right on a terminal and wrong in a file
(``emi predict ... 2> log`` would hold thousands of frames). :func:`progress` gives a tqdm bar when
the stream is a terminal and otherwise a :class:`LogLines`, which writes one ordinary line each time
another ``step`` of the total is done (10 % by default) and a last one at the end. Every command
that shows progress goes through here.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Iterable, Iterator
from typing import IO, Any

LOG_STEP = 0.1
"""Fraction of the total between two lines of a progress log."""


class LogLines:
    """The part of tqdm's interface the library uses, written as plain lines (no ``\\r``)."""

    def __init__(
        self,
        iterable: Iterable | None = None,
        *,
        total: int | None = None,
        desc: str = "",
        unit: str = "it",
        file: IO[str] | None = None,
        step: float = LOG_STEP,
    ):
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)
        self.iterable, self.total, self.desc, self.unit = iterable, total, desc, unit
        self.file = file if file is not None else sys.stderr
        self.step = step
        self.n, self.postfix, self.start = 0, "", time.monotonic()
        self._printed_n: int | None = None
        self._next = step

    def __iter__(self) -> Iterator:
        try:
            for item in self.iterable or ():
                yield item
                self.update(1)
        finally:
            self.close()

    def __enter__(self) -> LogLines:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        """Count ``n`` more done; write a line when another ``step`` of the total is reached."""
        self.n += n
        if self.total and self.n / self.total >= self._next - 1e-9:
            self._next = (math.floor(self.n / self.total / self.step + 1e-9) + 1) * self.step
            self._write()

    def set_postfix(self, **values: Any) -> None:
        """Shown at the end of the next lines, as ``key=value``."""
        self.postfix = ", ".join(f"{key}={value}" for key, value in values.items())

    def close(self) -> None:
        """Write the last line (unless the last update already did)."""
        if self._printed_n != self.n:
            self._write()

    def _write(self) -> None:
        done = f"{self.n}/{self.total} {self.unit}" if self.total else f"{self.n} {self.unit}"
        percent = f" ({100 * self.n / self.total:.0f}%)" if self.total else ""
        extra = f", {self.postfix}" if self.postfix else ""
        line = f"{self.desc}: {done}{percent} in {time.monotonic() - self.start:.0f} s{extra}\n"
        self.file.write(line)
        self.file.flush()
        self._printed_n = self.n


def progress(
    iterable: Iterable | None = None,
    *,
    total: int | None = None,
    desc: str,
    unit: str = "it",
    show: bool | None = True,
    transient: bool = False,
    file: IO[str] | None = None,
    step: float = LOG_STEP,
) -> Any:
    """A progress display over ``iterable`` (or ``total`` steps advanced with ``update``) on ``file``.

    ``show=False`` shows nothing (``None`` is the same as ``True``: a bar on a terminal, lines in a
    log). ``transient`` bars disappear from a terminal when done (their log lines stay).
    """
    from tqdm import tqdm

    file = file if file is not None else sys.stderr
    if show is False:
        return tqdm(iterable, total=total, disable=True)
    if _is_terminal(file):
        return tqdm(iterable, total=total, desc=desc, unit=unit, file=file, leave=not transient)
    return LogLines(iterable, total=total, desc=desc, unit=unit, file=file, step=step)


def _is_terminal(file: IO[str]) -> bool:
    try:
        return file.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
