"""Problems found in a CSV, and the errors that carry a list of them.

A :class:`Problem` names where it is (CSV line number, column) and what is wrong. Errors built from
problems keep the full list in ``.problems`` and render a readable, capped list as ``str(error)``.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass

from emi_core.emotions import CSV_HEADER
from emi_core.errors import EMIError, one_line

MAX_LISTED_PROBLEMS = 50
"""How many problems ``str(error)`` lists before summarising the rest as a count."""

MAX_KEPT_PROBLEMS = 200
"""How many problems a validation keeps (the first ones in reading order); the others are only counted,
so that a file with millions of bad cells costs no more memory than one with 200."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a CSV file.

    ``line`` is the 1-based physical line of the file (the header is line 1) or ``None`` for a
    problem of the whole file; ``column`` is the header name concerned, or ``None``.
    """

    message: str
    line: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return one_line(f"{', '.join(where)}: {self.message}" if where else self.message)

    def to_dict(self) -> dict:
        """JSON-ready form: ``{"line": .., "column": .., "message": ..}``."""
        return {"line": self.line, "column": self.column, "message": self.message}


def reading_order(problem: Problem) -> tuple[int, int]:
    """Sort key of problems in reading order: the whole file first, then by line and column, missing ids last."""
    if problem.line is None:
        return (0 if problem.column is None else 2**62, 0)
    column = CSV_HEADER.index(problem.column) if problem.column in CSV_HEADER else -1
    return (problem.line, column)


class ProblemList:
    """Collects problems, keeping the first ``limit`` in reading order (whatever order they arrive in)
    and counting all of them in ``total``. Memory stays bounded by ``limit``."""

    def __init__(self, limit: int = MAX_KEPT_PROBLEMS):
        self.limit = limit
        self.total = 0
        self._heap: list[tuple[int, int, int, Problem]] = []  # negated keys: the worst kept one on top

    def add(self, problem: Problem) -> None:
        """Count ``problem`` and keep it if it is among the first ``limit`` in reading order."""
        line, column = reading_order(problem)
        item = (-line, -column, -self.total, problem)
        self.total += 1
        if len(self._heap) < self.limit:
            heapq.heappush(self._heap, item)
        elif item[:3] > self._heap[0][:3]:
            heapq.heapreplace(self._heap, item)

    def would_keep(self, line: int, column: str | None) -> bool:
        """Whether a problem at ``line`` / ``column`` added now would be kept (else :meth:`count` it:
        building its message would be wasted work)."""
        if len(self._heap) < self.limit:
            return True
        key = reading_order(Problem("", line, column))
        return (-key[0], -key[1]) > self._heap[0][:2]

    def count(self) -> None:
        """Count a problem that :meth:`would_keep` said would not be kept."""
        self.total += 1

    def extend(self, problems: Iterable[Problem]) -> None:
        """:meth:`add` each problem."""
        for problem in problems:
            self.add(problem)

    def kept(self) -> list[Problem]:
        """The kept problems in reading order (ties in the order they were added)."""
        return [item[3] for item in sorted(self._heap, key=lambda item: (-item[0], -item[1], -item[2]))]

    def __bool__(self) -> bool:
        return self.total > 0


def format_problems(problems: Iterable[Problem], limit: int = MAX_LISTED_PROBLEMS, total: int | None = None) -> str:
    """Return one problem per line (indented), at most ``limit`` of them plus a count of the rest.

    ``total`` is the number of problems found when ``problems`` holds only the first of them.
    """
    problems = list(problems)
    total = len(problems) if total is None else total
    lines = [f"  {problem}" for problem in problems[:limit]]
    if total > min(limit, len(problems)):
        lines.append(f"  ... and {total - min(limit, len(problems))} more problems")
    return "\n".join(lines)


class ProblemsError(EMIError):
    """A file has one or more problems; ``.problems`` holds the first ones (at most
    :data:`MAX_KEPT_PROBLEMS` when they come from a validation), ``.total`` counts all of them."""

    subject = "file"

    def __init__(self, problems: Iterable[Problem], total: int | None = None):
        self.problems: tuple[Problem, ...] = tuple(problems)
        if not self.problems:
            raise ValueError("an error needs at least one problem")
        self.total = max(len(self.problems), total or 0)
        super().__init__(self._render())

    def __str__(self) -> str:
        """The rendered list: one problem per line, each line free of control characters."""
        return Exception.__str__(self)

    def _render(self) -> str:
        if self.total == 1:
            return f"{self.subject} is invalid: {self.problems[0]}"
        return f"{self.subject} has {self.total:,} problems:\n{format_problems(self.problems, total=self.total)}"


class SubmissionError(ProblemsError):
    """A submission CSV is invalid; ``.problems`` lists every problem found."""

    subject = "submission"


class GroundTruthError(ProblemsError):
    """A ground-truth CSV is unusable. Its messages never quote ground-truth values or paths."""

    subject = "ground truth"
