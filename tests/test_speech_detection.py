"""Speech detection (issue 13, defect 1): music, instrumentals, noise and tones are not speech.

The non-speech sounds are synthesised here (``tests/synthetic_audio.py``); the speech positive
control is Debian's espeak-ng, so the file needs nothing beside the repository.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
import torch
from scipy.io import wavfile
from scipy.signal import resample_poly

from emi_core.features.voice import analyse_voice, summarise
from emi_core.features.voice import vad as vad_module
from emi_core.pipeline import EMIPipeline
from tests.synthetic_audio import NONSPEECH, SAMPLE_RATE

SENTENCE = "Kids are talking by the door, and the dogs are sitting by the window."


@pytest.fixture(scope="module")
def sounds() -> dict[str, np.ndarray]:
    return {name: make() for name, make in NONSPEECH.items()}


@pytest.fixture(scope="module")
def spoken(tmp_path_factory) -> np.ndarray:
    """One English sentence from espeak-ng at 16 kHz, with 0.5 s of silence either side."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (Debian package espeak-ng; .ci/run installs it)")
    path = tmp_path_factory.mktemp("espeak") / "sentence.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(path), SENTENCE], check=True)
    rate, samples = wavfile.read(path)
    audio = resample_poly(samples.astype(np.float64) / 32768.0, SAMPLE_RATE, rate)
    pad = np.zeros(SAMPLE_RATE // 2)
    return np.concatenate([pad, audio, pad]).astype(np.float32)


@pytest.mark.parametrize("name", list(NONSPEECH))
def test_music_noise_and_tones_are_not_speech(sounds, name):
    frames = analyse_voice(sounds[name])
    assert frames.active.mean() > 0.3, "the sound must be audible for the test to mean anything"
    assert summarise(frames).speech_ratio < 0.02


def test_synthetic_speech_is_speech(spoken):
    """The positive control: espeak-ng's sentence is speech over most of its spoken part."""
    frames = analyse_voice(spoken)
    inside = (frames.times >= 0.5) & (frames.times < frames.duration_s - 0.5)
    assert frames.speech[inside].mean() > 0.6
    assert frames.speech[frames.times < 0.4].mean() == 0.0


def test_speech_over_music_is_found_and_the_music_alone_is_not(sounds, spoken):
    """Speech with the instrumental 12 dB under it; then the instrumental alone after it."""
    band = sounds["band (instrumental)"]
    bed = np.resize(band, len(spoken)) * 10 ** (-12 / 20)
    clip = np.concatenate([spoken + bed, band])
    frames = analyse_voice(clip)
    speech_part = frames.times < len(spoken) / SAMPLE_RATE - 0.5
    music_part = frames.times > len(spoken) / SAMPLE_RATE + 0.5
    assert frames.speech[speech_part & (frames.times > 0.5)].mean() > 0.5
    assert frames.speech[music_part].mean() < 0.02


@pytest.fixture(scope="module")
def pipeline():
    return EMIPipeline.from_pretrained("default")


@pytest.mark.parametrize("name", ["band (instrumental)", "piano chords", "vibrato melody", "organ tremolo",
                                  "plucked arpeggio", "drums", "pink noise", "sweep", "claps"])  # fmt: skip
def test_pipeline_gives_no_audio_intensities_for_non_speech(pipeline, sounds, tmp_path, name):
    """What the app shows for a music clip: speech ≈ 0 %, audio intensities 0, and a warning.

    (Tremolo and strummed or plucked notes have the rhythm and voicing of laughter: they must not
    pass for it.)
    """
    path = tmp_path / "sound.wav"
    wavfile.write(path, SAMPLE_RATE, (sounds[name] * 32767).astype(np.int16))
    result = pipeline(path)
    assert result.quality.speech_ratio < 0.02
    assert result.audio is not None and max(result.audio.values()) == 0.0
    assert any("no speech detected" in warning for warning in result.warnings)


def test_voice_analysis_leaves_torch_threads_alone(spoken):
    """silero-vad's package sets torch to 1 thread when imported: we read its weights without importing it."""
    before = torch.get_num_threads()
    analyse_voice(spoken[:SAMPLE_RATE])
    assert torch.get_num_threads() == before


def test_vad_weights_come_from_the_installed_package():
    path = vad_module.silero_model_path()
    assert path.name == "silero_vad.onnx" and path.parent.parent.name == "silero_vad" and path.stat().st_size > 1e6


def test_missing_vad_package_is_one_clear_error(monkeypatch):
    monkeypatch.setattr(vad_module.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(RuntimeError, match="silero-vad package"):
        vad_module.silero_model_path()


def test_vad_runs_at_other_sample_rates(spoken):
    """8 kHz and 44.1 kHz audio is resampled for the VAD: the same frames are heard as speech."""
    reference = analyse_voice(spoken).speech
    for rate in (8000, 44100):
        other = resample_poly(spoken, rate, SAMPLE_RATE).astype(np.float32)
        speech = analyse_voice(other, rate).speech
        size = min(len(speech), len(reference))
        assert np.mean(speech[:size] == reference[:size]) > 0.9


def test_the_synthetic_sounds_are_reproducible():
    first, second = NONSPEECH["band (instrumental)"](), NONSPEECH["band (instrumental)"]()
    assert np.array_equal(first, second) and first.dtype == np.float32 and np.abs(first).max() <= 1.0
