"""The input channels of EMI studio, defined once: every list of channels in the code reads this one.

A channel is one kind of evidence about a clip, with its own features and its own estimate; the
*fused* estimate combines the channels that have input (see :mod:`emi_core.fusion`). Adding a channel
means adding its name here and its extractor / model, nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import combinations

CHANNELS: tuple[str, ...] = ("visual", "audio", "text")
"""Every input channel, in the order used everywhere (tables, JSON, checkpoints, plots): the face,
the voice, and what was said (the transcript)."""

PAPER_CHANNELS: tuple[str, ...] = ("visual", "audio")
"""The seed paper's two channels: what ``emi extract`` and ``emi train`` use unless told otherwise."""

FUSED = "fused"
"""Name of the fused estimate (the row / trace / key beside the channels)."""

ROWS: tuple[str, ...] = (*CHANNELS, FUSED)
"""The channels followed by the fused estimate: the rows of a result, table or plot."""


def ordered(channels: Iterable[str]) -> tuple[str, ...]:
    """``channels`` in :data:`CHANNELS` order; :class:`ValueError` naming the unknown or missing ones."""
    given = tuple(channels)
    unknown = [c for c in given if c not in CHANNELS]
    if unknown or not given:
        raise ValueError(f"channels must be some of {', '.join(CHANNELS)}, got {', '.join(given) or 'none'}")
    return tuple(c for c in CHANNELS if c in given)


def combination_name(channels: Iterable[str]) -> str:
    """The row name of a combination of channels, e.g. ``"visual+audio"``."""
    return "+".join(ordered(channels))


def combinations_of(channels: Iterable[str]) -> tuple[tuple[str, ...], ...]:
    """Every combination of two or more of ``channels`` (in order, smallest first, the full set last)."""
    present = ordered(channels)
    return tuple(combo for size in range(2, len(present) + 1) for combo in combinations(present, size))
