"""Speech → transcript with the shipped Whisper tiny.en (offline): whole transcripts, word times, no
words from silence, tones or music, clear errors for unusable models."""

import numpy as np
import pytest

from emi_core.errors import ConfigError, ModelError
from emi_core.media import AUDIO_SAMPLE_RATE, open_media, read_audio
from emi_core.speech import ASRSettings, Transcript, default_whisper_dir, load_transcriber
from emi_core.speech.asr import resolve_whisper
from emi_core.speech.weights import DEFAULT_WHISPER_SOURCE


@pytest.fixture(scope="module")
def transcriber():
    return load_transcriber()


def audio_of(path) -> np.ndarray:
    return read_audio(open_media(path))


def test_the_shipped_weights_are_found_and_recorded():
    folder = default_whisper_dir()
    assert (folder / "model.bin").stat().st_size > 30_000_000
    assert resolve_whisper(None) == (str(folder), DEFAULT_WHISPER_SOURCE) == resolve_whisper("tiny.en")


@pytest.mark.parametrize(
    "clip, said", [("grid_brbk7n_talk_neutral_f.mp4", {"by", "now"}), ("grid_s1_bbaf2n_talk_neutral_m.mp4", {"now"})]
)
def test_a_grid_clip_says_its_command_words_with_times_inside_the_clip(transcriber, media, clip, said):
    audio = audio_of(media(clip))
    transcript = transcriber(audio)
    words = [w.text.lower().strip(".,!?") for w in transcript.words]
    assert said <= set(words), transcript.text
    assert transcript.language == "en" and transcript.model == DEFAULT_WHISPER_SOURCE
    duration = len(audio) / AUDIO_SAMPLE_RATE
    starts = [w.start for w in transcript.words]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    for word in transcript.words:
        assert 0 <= word.start <= word.end <= duration and 0 <= word.probability <= 1
    assert 0 <= transcript.no_speech_prob < 0.5


def test_the_whole_transcript_every_segment(transcriber, media):
    transcript = transcriber(audio_of(media("obama_weekly_address_talk_neutral_12s.mp4")))
    assert len(transcript.segments) >= 2
    text = transcript.text.lower()
    assert "oil spill" in text and "deepwater" in text  # from the first and from the last segment
    assert transcript.words[-1].end > 9.0
    assert Transcript.from_dict(transcript.to_dict()).to_dict() == transcript.to_dict()
    middle = transcript.words_between(4.0, 8.0)
    assert middle and all(4.0 <= (w.start + w.end) / 2 < 8.0 for w in middle)


def _music(seconds: float = 6.0) -> np.ndarray:
    """Chords with a beat: four triads, each note with harmonics, plus a kick drum every half second."""
    t = np.arange(int(seconds * AUDIO_SAMPLE_RATE)) / AUDIO_SAMPLE_RATE
    chords = [(261.6, 329.6, 392.0), (220.0, 261.6, 329.6), (174.6, 220.0, 261.6), (196.0, 246.9, 293.7)]
    index = (t // 1.5).astype(int) % len(chords)
    signal = np.zeros_like(t)
    for c, chord in enumerate(chords):
        tone = sum(np.sin(2 * np.pi * f * h * t) / h for f in chord for h in (1, 2, 3))
        signal += np.where(index == c, tone, 0.0)
    beat = np.exp(-30 * (t % 0.5)) * np.sin(2 * np.pi * 60 * t)
    return (0.1 * signal / np.abs(signal).max() + 0.3 * beat).astype(np.float32)


def test_silence_tone_and_music_give_an_empty_transcript(transcriber, media):
    tone = audio_of(media("synthetic_noface.mp4"))
    rng = np.random.default_rng(0)
    for name, audio in {
        "tone": tone,
        "silence": np.zeros(3 * AUDIO_SAMPLE_RATE, np.float32),
        "noise": (0.05 * rng.standard_normal(3 * AUDIO_SAMPLE_RATE)).astype(np.float32),
        "music": _music(),
        "nothing": np.zeros(0, np.float32),
    }.items():
        transcript = transcriber(audio)
        assert transcript.is_empty and transcript.words == () and transcript.text == "", (name, transcript.text)


def test_unusable_models_and_settings_are_clear_errors(tmp_path, monkeypatch):
    with pytest.raises(ModelError, match="no such folder"):
        load_transcriber(str(tmp_path / "missing"))
    with pytest.raises(ModelError, match="not a CTranslate2 Whisper folder"):
        load_transcriber(str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="large-v3: cannot load it"):
        load_transcriber("large-v3")
    with pytest.raises(ConfigError, match="beam size"):
        ASRSettings(beam_size=0)
    with pytest.raises(ConfigError, match="16000 Hz"):
        load_transcriber()(np.zeros(100, np.float32), sample_rate=44100)
