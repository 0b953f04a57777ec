"""Batch feature extraction into a :class:`~emi_core.features.cache.FeatureCache` (``emi extract``).

One :class:`ExtractionRun` says how a run goes (workers, device, limits, where backbones are, and
a :class:`RayCluster` to run on instead of this machine);
:func:`extract_split` and :func:`extract_videos` are the entry points; failures go to
``{cache}/failures.csv`` (:func:`read_failures`).
"""

from emi_core.features.batch.cluster import RayCluster
from emi_core.features.batch.failures import FAILURES_FILE, Failure, read_failures
from emi_core.features.batch.run import ExtractionResult, ExtractionRun, VideoItem, extract_split, extract_videos

__all__ = [
    "FAILURES_FILE",
    "ExtractionResult",
    "ExtractionRun",
    "Failure",
    "RayCluster",
    "VideoItem",
    "extract_split",
    "extract_videos",
    "read_failures",
]
