"""EMI studio: Emotional Mimicry Intensity estimation for the ABAW EMI challenge."""

from emi_core.emotions import CSV_HEADER, EMOTIONS

__version__ = "0.1.0"

__all__ = ["CSV_HEADER", "EMOTIONS", "__version__"]
