"""Problems found in a CSV, and the errors that carry a list of them.

A :class:`Problem` names where it is (CSV line number, column) and what is wrong. Errors built from
problems keep the full list in ``.problems`` and render a readable, capped list as ``str(error)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from emi_core.errors import EMIError

MAX_LISTED_PROBLEMS = 50
"""How many problems ``str(error)`` lists before summarising the rest as a count."""


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
        return f"{', '.join(where)}: {self.message}" if where else self.message

    def to_dict(self) -> dict:
        """JSON-ready form: ``{"line": .., "column": .., "message": ..}``."""
        return {"line": self.line, "column": self.column, "message": self.message}


def format_problems(problems: Iterable[Problem], limit: int = MAX_LISTED_PROBLEMS) -> str:
    """Return one problem per line (indented), at most ``limit`` of them plus a count of the rest."""
    problems = list(problems)
    lines = [f"  {problem}" for problem in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"  ... and {len(problems) - limit} more problems")
    return "\n".join(lines)


class ProblemsError(EMIError):
    """A file has one or more problems; ``.problems`` holds all of them."""

    subject = "file"

    def __init__(self, problems: Iterable[Problem]):
        self.problems: tuple[Problem, ...] = tuple(problems)
        if not self.problems:
            raise ValueError("an error needs at least one problem")
        super().__init__(self._render())

    def _render(self) -> str:
        count = len(self.problems)
        if count == 1:
            return f"{self.subject} is invalid: {self.problems[0]}"
        return f"{self.subject} has {count} problems:\n{format_problems(self.problems)}"


class SubmissionError(ProblemsError):
    """A submission CSV is invalid; ``.problems`` lists every problem found."""

    subject = "submission"


class GroundTruthError(ProblemsError):
    """A ground-truth CSV is unusable. Its messages never quote ground-truth values or paths."""

    subject = "ground truth"
