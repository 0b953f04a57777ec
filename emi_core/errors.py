"""Typed errors with one-line, human-readable messages.

Every error a user can cause (a bad file, a malformed CSV, a missing model) is an
:class:`EMIError`; its subclass names the cause, so callers can catch one condition without
matching message text. The CLI prints ``str(error)`` on stderr and exits with code 2; the app shows
it as a message. Anything else is a bug and keeps its traceback.

Errors of one sub-package live beside it and derive from these: ``CacheError``
(``features.cache``), ``SubmissionError`` / ``GroundTruthError`` (``scoring.problems``),
``CodalabError`` (``scoring.codalab``), ``LeaderboardError`` (``leaderboard.errors``).
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def one_line(text: str) -> str:
    """``text`` with line breaks and other control characters escaped (``\\n``), so it stays one line."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class EMIError(Exception):
    """Base class of user-facing errors: ``str(err)`` is a complete one-line explanation.

    Control characters in the message (a newline in a file name, say) are escaped, so no message can
    be split into several lines or carry terminal escapes.
    """

    def __str__(self) -> str:
        return one_line(super().__str__())


class ConfigError(EMIError):
    """A setting is invalid or cannot be met: an unknown device, no GPU, an empty channel list, a bad rate."""


class MediaError(EMIError):
    """A clip could not be read: missing, empty, corrupt, unsupported or over a limit."""


class DatasetError(EMIError):
    """A split CSV or a video folder cannot be used (unreadable, no ids, repeated ids, no labels)."""


class ModelError(EMIError):
    """A model or backbone cannot be used: not found, wrong format, hub unreachable, or random weights
    where predictions are asked for."""


class ExtractionError(EMIError):
    """A batch feature extraction failed as a whole (a worker process died); finished videos are kept."""


class TrainingError(EMIError):
    """A training run cannot start or resume: too few videos with features, an unusable checkpoint."""


class RenderError(EMIError):
    """An annotated video cannot be drawn: the result has no timeline for the channel asked for."""
