"""Media decoding: probe a file, then decode frames and 16 kHz audio through ffmpeg, once."""

from emi_core.errors import MediaError
from emi_core.media.decode import (
    AUDIO_SAMPLE_RATE,
    SILENCE_DBFS,
    Clip,
    MediaLimits,
    MediaSource,
    is_silent,
    iter_frames,
    load_clip,
    open_media,
    read_audio,
    sampling_rate,
)
from emi_core.media.probe import AUDIO_EXTENSIONS, SUPPORTED_EXTENSIONS, VIDEO_EXTENSIONS, MediaInfo, probe

__all__ = [
    "AUDIO_EXTENSIONS",
    "AUDIO_SAMPLE_RATE",
    "SILENCE_DBFS",
    "SUPPORTED_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "Clip",
    "MediaError",
    "MediaInfo",
    "MediaLimits",
    "MediaSource",
    "is_silent",
    "iter_frames",
    "load_clip",
    "open_media",
    "probe",
    "read_audio",
    "sampling_rate",
]
