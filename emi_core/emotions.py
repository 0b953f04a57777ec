"""The six EMI emotions and the challenge CSV layout, defined once for the whole project."""

from __future__ import annotations

EMOTIONS: tuple[str, ...] = (
    "Admiration",
    "Amusement",
    "Determination",
    "Empathic Pain",
    "Excitement",
    "Joy",
)
"""Emotion names in the order of the ABAW EMI challenge files."""

FILENAME_COLUMN = "Filename"
"""Name of the id column; ids are 5-digit zero-padded strings such as ``00042``."""

CSV_HEADER: tuple[str, ...] = (FILENAME_COLUMN, *EMOTIONS)
"""The exact header of a challenge CSV."""

CSV_HEADER_LINE = ",".join(CSV_HEADER)
"""The header as it appears on the first line of a challenge CSV."""


def as_mapping(values) -> dict[str, float]:
    """Return ``{emotion: float(value)}`` for six values given in challenge order."""
    values = list(values)
    if len(values) != len(EMOTIONS):
        raise ValueError(f"expected {len(EMOTIONS)} values, got {len(values)}")
    return {name: float(v) for name, v in zip(EMOTIONS, values, strict=True)}
