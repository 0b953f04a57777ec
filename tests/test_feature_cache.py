"""The feature cache: keys, float16 storage, atomic writes, manifests and store lookup."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emi_core.errors import EMIError
from emi_core.features import cache as cache_module
from emi_core.features.cache import (
    AUDIO_EXTRACTOR,
    VISUAL_EXTRACTOR,
    CacheError,
    ExtractorSpec,
    FeatureCache,
)

VISUAL = ExtractorSpec(VISUAL_EXTRACTOR, {"backbone": "resnet18.pth", "fps": 30, "au_names": ["AU01", "AU12"]}, 514)
AUDIO = ExtractorSpec(AUDIO_EXTRACTOR, {"backbone": "facebook/wav2vec2-base-960h", "layer": 12}, 768)


def test_key_is_name_plus_hash_of_canonical_config():
    reordered = ExtractorSpec(
        VISUAL_EXTRACTOR, {"au_names": ["AU01", "AU12"], "fps": 30, "backbone": "resnet18.pth"}, 514
    )
    changed = ExtractorSpec(
        VISUAL_EXTRACTOR, {"backbone": "resnet18.pth", "fps": 10, "au_names": ["AU01", "AU12"]}, 514
    )
    assert VISUAL.key == reordered.key
    assert VISUAL.key != changed.key
    assert VISUAL.key.startswith("visual-dual-") and len(VISUAL.config_hash) == 12
    assert (VISUAL.channel, AUDIO.channel) == ("visual", "audio")
    assert ExtractorSpec.from_dict(json.loads(json.dumps(VISUAL.to_dict()))) == VISUAL


@pytest.mark.parametrize("name", ["resnet", "Visual-dual", "video-x", "audio-"])
def test_extractor_names_start_with_their_channel(name):
    with pytest.raises(ValueError, match="must start with"):
        ExtractorSpec(name, {}, 4)


def test_write_read_round_trip_in_float16(tmp_path):
    store = FeatureCache(tmp_path).store(AUDIO)
    rng = np.random.default_rng(0)
    features = rng.normal(size=(40, 768)).astype(np.float32) * 3
    times = np.arange(40, dtype=np.float32) * 0.02
    path = store.write("00042", features, times)

    assert path == tmp_path / AUDIO.key / "00042.npz"
    with np.load(path) as raw:
        assert raw["features"].dtype == np.float16 and raw["times"].dtype == np.float32
    got, got_times = store.read("00042")
    assert got.dtype == np.float32 and got.shape == (40, 768)
    np.testing.assert_allclose(got, features, rtol=2**-10, atol=1e-4)
    np.testing.assert_array_equal(got_times, times)
    assert store.has("00042") and not store.has("00043")
    assert store.ids() == ["00042"] and store.length("00042") == 40


def test_manifest_records_the_extractor(tmp_path):
    FeatureCache(tmp_path).store(VISUAL)
    manifest = json.loads((tmp_path / VISUAL.key / "extractor.json").read_text())
    assert manifest["name"] == "visual-dual" and manifest["dim"] == 514 and manifest["channel"] == "visual"
    assert manifest["config"] == VISUAL.config and manifest["key"] == VISUAL.key
    assert manifest["format_version"] == cache_module.FORMAT_VERSION and manifest["dtype"] == "float16"


def test_empty_sequence_is_stored(tmp_path):
    store = FeatureCache(tmp_path).store(VISUAL)
    store.write("00007", np.zeros((0, 514)), np.zeros(0))
    features, times = store.read("00007")
    assert features.shape == (0, 514) and times.shape == (0,) and store.length("00007") == 0


def test_interrupted_write_keeps_the_previous_file(tmp_path, monkeypatch):
    store = FeatureCache(tmp_path).store(AUDIO)
    old = np.ones((3, 768), np.float32)
    store.write("00001", old, np.arange(3))

    def crash(handle, **arrays):
        handle.write(b"PK\x03\x04 half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(cache_module.np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        store.write("00001", np.zeros((5, 768)), np.arange(5))
    with pytest.raises(KeyboardInterrupt):
        store.write("00002", np.zeros((5, 768)), np.arange(5))
    np.testing.assert_array_equal(store.read("00001")[0], old)
    assert store.ids() == ["00001"]
    assert sorted(p.name for p in store.path.iterdir()) == ["00001.npz", "extractor.json"]


@pytest.mark.parametrize(
    "features, times, match",
    [
        (np.zeros((4, 3)), np.arange(4), "shape"),
        (np.zeros((4, 768)), np.arange(5), "times must have shape"),
        (np.full((4, 768), np.nan), np.arange(4), "finite"),
        (np.full((4, 768), 1e6), np.arange(4), "float16|within"),
        (np.zeros((4, 768)), np.array([0.0, 2.0, 1.0, 3.0]), "non-decreasing"),
    ],
)
def test_write_rejects_bad_arrays(tmp_path, features, times, match):
    store = FeatureCache(tmp_path).store(AUDIO)
    with pytest.raises(ValueError, match=match):
        store.write("00001", features, times)
    assert store.ids() == []


@pytest.mark.parametrize("video_id", ["", "../x", "a/b", ".hidden"])
def test_ids_must_be_plain_file_names(tmp_path, video_id):
    with pytest.raises(CacheError, match="invalid video id"):
        FeatureCache(tmp_path).store(AUDIO).has(video_id)


def test_corrupt_or_missing_file_is_a_cache_error(tmp_path):
    store = FeatureCache(tmp_path).store(AUDIO)
    (store.path / "00003.npz").write_bytes(b"not a zip")
    with pytest.raises(CacheError, match="unreadable features file"):
        store.read("00003")
    with pytest.raises(CacheError, match="no features for video '00004'"):
        store.read("00004")
    assert isinstance(CacheError("x"), EMIError)


def test_reopening_checks_the_manifest(tmp_path):
    cache = FeatureCache(tmp_path)
    cache.store(AUDIO).write("00001", np.zeros((2, 768)), np.arange(2))
    assert cache.store(AUDIO).ids() == ["00001"]
    other_dim = ExtractorSpec(AUDIO.name, AUDIO.config, 1024)
    with pytest.raises(CacheError, match="describes"):
        cache.store(other_dim)


def test_store_lookup_by_channel_and_key(tmp_path):
    cache = FeatureCache(tmp_path)
    with pytest.raises(CacheError, match=r"has no visual features; it has: nothing"):
        cache.store_for("visual")
    cache.store(VISUAL)
    cache.store(AUDIO).write("00001", np.zeros((2, 768)), np.arange(2))
    assert [s.key for s in cache.stores()] == sorted([VISUAL.key, AUDIO.key])
    assert cache.store_for("visual").spec == VISUAL and cache.store_for("audio").dim == 768
    assert cache.open(AUDIO.key).spec == AUDIO and cache.open(AUDIO).ids() == ["00001"]

    cache.store(ExtractorSpec(VISUAL_EXTRACTOR, {**VISUAL.config, "fps": 10}, 514))
    with pytest.raises(CacheError, match="has 2 visual feature sets") as err:
        cache.store_for("visual")
    assert VISUAL.key in str(err.value)
    with pytest.raises(CacheError, match=rf"no features from extractor audio-x; it has: .*{AUDIO.key} \(1 videos\)"):
        cache.open("audio-x")


def test_missing_cache_folder_is_reported(tmp_path):
    with pytest.raises(CacheError, match="missing folder"):
        FeatureCache(tmp_path / "nope").store_for("audio")
