"""The public/private partition of a hidden split: fixed, seeded and documented.

During the phase a hidden split is scored on its *public* part only; the *private* part is scored
too but kept until the organiser closes the phase (``emi leaderboard close --split test``), when the
final ranking is made on it. Whatever is shown during the phase depends on the public videos only,
so no number of submissions can rebuild the private labels from it.

A video belongs to the public part when the first 8 bytes of
``SHA-256("emi-studio-partition-v1:" + id)``, read as a big-endian integer, are below
``PUBLIC_FRACTION × 2**64``. The rule depends on the id alone, so the partition never changes when
the ground truth is re-read, and anyone can recompute it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

PARTITION_SEED = "emi-studio-partition-v1"
PUBLIC_FRACTION = 0.5
"""Share of a hidden split's videos in the public part."""


def is_public(video_id: str, seed: str = PARTITION_SEED, fraction: float = PUBLIC_FRACTION) -> bool:
    """Whether ``video_id`` is in the public part of its hidden split."""
    digest = hashlib.sha256(f"{seed}:{video_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") < fraction * 2**64


def public_mask(ids: Sequence[str], seed: str = PARTITION_SEED, fraction: float = PUBLIC_FRACTION) -> np.ndarray:
    """Boolean mask of the public videos among ``ids``."""
    return np.fromiter((is_public(cell, seed, fraction) for cell in ids), dtype=bool, count=len(ids))
