"""Live mode's analyser: the pipeline's pieces frame by frame, bounded memory, clean stop."""

from __future__ import annotations

import numpy as np
import pytest

from emi_core.emotions import EMOTIONS
from emi_core.live import HISTORY_S, STALE_S, VISUAL_WINDOW_S, LiveAnalyser
from emi_core.media import AUDIO_SAMPLE_RATE, iter_frames, open_media, read_audio
from emi_core.models.prior import EMIPrior
from emi_core.pipeline import EMIPipeline


@pytest.fixture(scope="module")
def prior():
    return EMIPrior()


def test_live_visual_is_the_pipelines_on_the_same_frames(prior, media):
    """A clip shorter than the live window, fed frame by frame: the last live value is the clip's last."""
    clip = media("cremad_1001_talk_happy_m.mp4")
    result = EMIPipeline(prior, fps=10)(clip)
    assert result.quality.duration_s < VISUAL_WINDOW_S
    with LiveAnalyser(prior) as live:
        updates = [live.add_frame(frame, t) for t, frame in iter_frames(open_media(clip), 10)]
    assert all(update.face_found for update in updates)
    np.testing.assert_allclose(updates[-1].visual, result.visual_timeline.values[-1], atol=1e-6)
    assert updates[-1].audio is None
    np.testing.assert_array_equal(updates[-1].fused, updates[-1].visual)
    assert len(updates[-1].history.times) == len(updates)


def test_live_audio_is_the_pipelines_on_the_same_samples(prior, media):
    clip = media("cremad_1002_sad_f.wav")
    result = EMIPipeline(prior)(clip)
    waveform = read_audio(open_media(clip))
    assert len(waveform) <= 3 * AUDIO_SAMPLE_RATE
    chunk = AUDIO_SAMPLE_RATE // 4
    with LiveAnalyser(prior) as live:
        for start in range(0, len(waveform), chunk):
            update = live.add_audio(waveform[start : start + chunk], AUDIO_SAMPLE_RATE, start / AUDIO_SAMPLE_RATE)
    np.testing.assert_allclose(update.audio, result.audio_timeline.values[-1], atol=1e-6)
    assert update.visual is None and update.face_found is None  # no frame yet
    # a browser's 48 kHz int16 stereo: resampled, scaled, still the same voice
    pcm = (np.repeat(np.interp(np.arange(len(waveform) * 3) / 3, np.arange(len(waveform)), waveform), 1) * 32767)
    stereo = np.stack([pcm, pcm], axis=1).astype(np.int16)
    with LiveAnalyser(prior) as live:
        browser = live.add_audio(stereo, 48_000, 0.0)
    np.testing.assert_allclose(browser.audio, result.audio_timeline.values[-1], atol=0.1)


def test_silence_and_no_face_give_no_input(prior):
    with LiveAnalyser(prior) as live:
        update = live.add_frame(np.zeros((240, 320, 3), np.uint8), 0.0)
        assert update.face_found is False and update.visual is None and update.fused is None
        update = live.add_audio(np.zeros(8000, np.int16), 16_000, 0.1)
        assert update.audio is None and update.fused is None
        assert len(update.history.times) == 0


def test_memory_stays_bounded_and_values_go_stale(prior, media):
    frames = [frame for _, frame in iter_frames(open_media(media("cremad_1001_talk_happy_m.mp4")), 10)][:5]
    with LiveAnalyser(prior) as live:
        for i in range(100):  # 100 s of input, a frame and 1 s of audio every second
            t = float(i)
            live.add_frame(frames[i % len(frames)], t)
            update = live.add_audio(np.full(16_000, 0.2 * np.sin(i), np.float32), 16_000, t)
            assert len(live._frames) <= VISUAL_WINDOW_S + 1
            assert sum(len(c) for c in live._audio) <= 3 * 16_000 + 16_000
        assert update.history.times[0] >= t - HISTORY_S and len(update.history.times) <= 2 * (HISTORY_S + 1)
        assert update.visual is not None
        later = live.add_frame(np.zeros((240, 320, 3), np.uint8), t + STALE_S + 0.1)
        assert later.visual is None, "a face that left the picture no longer counts"
        assert live.updates == 201
    assert not live._frames and not live._history and not live._audio  # close() forgets everything


def test_frames_are_downscaled_to_the_media_limit(prior, media):
    frame = next(iter_frames(open_media(media("cremad_1001_talk_happy_m.mp4")), 10))[1]
    big = np.repeat(np.repeat(frame, 3, axis=0), 3, axis=1)  # 1440 × 1080
    with LiveAnalyser(prior) as live:
        update = live.add_frame(big, 0.0)
    assert update.face_found and update.visual.shape == (len(EMOTIONS),)


def test_hostile_audio_is_bounded_or_refused(prior):
    from emi_core.errors import MediaError

    with LiveAnalyser(prior) as live:
        live.add_audio(np.zeros(16_000 * 600, np.float32), 16_000, 0.0)  # ten minutes in one chunk
        assert sum(len(c) for c in live._audio) == 3 * 16_000
        for rate in (0, -1, 10**9):
            with pytest.raises(MediaError, match="sample rate"):
                live.add_audio(np.zeros(100, np.int16), rate, 1.0)
