"""Typed errors with one-line, human-readable messages.

Every error a user can cause (a bad file, a malformed CSV, a missing model) is an
:class:`EMIError`. The CLI prints ``str(error)`` on stderr and exits with code 2; the app shows
it as a message. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class EMIError(Exception):
    """Base class of user-facing errors: ``str(err)`` is a complete one-line explanation."""


class MediaError(EMIError):
    """A clip could not be read: missing, empty, corrupt, unsupported or over a limit."""


class ModelError(EMIError):
    """A model or backbone could not be loaded (not found, wrong format, hub unreachable)."""
