"""Transcript → text features with the shipped all-MiniLM-L6-v2 (offline): meaning, word windows, any folder."""

import shutil

import numpy as np
import pytest

from emi_core.errors import ModelError
from emi_core.features.text import (
    DEFAULT_TEXT_SOURCE,
    WINDOW_S,
    default_text_encoder_dir,
    load_text_encoder,
    word_windows,
)
from emi_core.speech import Segment, Transcript, Word


@pytest.fixture(scope="module")
def encoder():
    return load_text_encoder()


def transcript_of(words: list[tuple[str, float, float]], duration: float = 10.0) -> Transcript:
    segment = Segment(" ".join(w for w, _, _ in words), words[0][1] if words else 0.0, duration, 0.01, -0.2,
                      tuple(Word(w, s, e, 0.9) for w, s, e in words))  # fmt: skip
    return Transcript((segment,) if words else (), "en", 1.0, duration, "test")


def test_the_shipped_encoder_loads_offline(encoder):
    assert encoder.dim == 384 and encoder.source == DEFAULT_TEXT_SOURCE
    assert (default_text_encoder_dir() / "model.safetensors").is_file()
    vectors = encoder.encode(["hello there", "good morning"])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert encoder.encode([]).shape == (0, 384)


def test_similar_sentences_embed_closer_than_unrelated_ones(encoder):
    a, b, c, d = encoder.encode([
        "What a beautiful performance, I really admire her talent.",
        "Her talent is wonderful; I admire how beautifully she performed.",
        "The train to the airport leaves at nine from platform four.",
        "That joke was hilarious, I could not stop laughing.",
    ])  # fmt: skip
    assert a @ b > 0.6 and a @ b > a @ c + 0.4 and a @ b > a @ d
    assert encoder.clip(transcript_of([])) is None
    assert encoder.clip(transcript_of([("hi", 0.0, 0.3)])).shape == (384,)


def test_word_windows_give_the_text_channel_a_timeline(encoder):
    words = [("one", 0.1, 0.4), ("two", 0.6, 0.9), ("three", 4.0, 4.4), ("four", 8.5, 8.9)]
    transcript = transcript_of(words)
    windows = word_windows(transcript)
    assert len(windows.texts) == len(windows.times) > 0
    assert (np.diff(windows.times) > 0).all() and windows.times.min() >= WINDOW_S / 2 - 1e-9
    assert windows.times.max() <= transcript.duration_s
    assert windows.texts[0] == "one two"
    for text, t in zip(windows.texts, windows.times, strict=True):  # each window holds the words around its time
        inside = [w for w, s, e in words if abs((s + e) / 2 - t) <= WINDOW_S / 2]
        assert text == " ".join(inside)
    assert not any(t for t in windows.times if 5.5 < t < 7.0)  # silence between words: no window
    features, times = encoder.timeline(transcript)
    assert features.shape == (len(windows.texts), 384) and np.array_equal(times, windows.times)
    empty_features, empty_times = encoder.timeline(transcript_of([]))
    assert empty_features.shape == (0, 384) and empty_times.shape == (0,)


def test_any_transformers_folder_works_with_mean_pooling(tmp_path):
    from transformers import BertConfig, BertModel

    folder = tmp_path / "tiny-bert"
    config = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64)  # fmt: skip
    BertModel(config).save_pretrained(folder)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(default_text_encoder_dir() / name, folder / name)
    encoder = load_text_encoder(str(folder))
    assert encoder.dim == 32 and encoder.source == str(folder.resolve())
    assert encoder.encode(["a sentence", "another one"]).shape == (2, 32)


def test_unusable_encoders_are_clear_errors(tmp_path, monkeypatch):
    with pytest.raises(ModelError, match="no such folder"):
        load_text_encoder(str(tmp_path / "missing"))
    with pytest.raises(ModelError, match="no config.json"):
        load_text_encoder(str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="Alibaba-NLP/gte-en-mlm-base: cannot load it"):
        load_text_encoder("Alibaba-NLP/gte-en-mlm-base")
