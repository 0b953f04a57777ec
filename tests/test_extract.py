"""``emi extract``: the challenge layout, one features file per video and extractor, resume, failures, workers."""

from __future__ import annotations

import contextlib
import csv
import io
import shutil
from pathlib import Path

import numpy as np
import pytest

from emi_core.cli import main
from emi_core.dataset import DatasetError, VideoFolder, read_ids
from emi_core.emotions import CSV_HEADER_LINE
from emi_core.errors import MediaError, ModelError
from emi_core.features.au import AU_NAMES
from emi_core.features.batch import FAILURES_FILE, read_failures
from emi_core.features.cache import FeatureCache
from emi_core.features.extract import Extractors
from tests.media_tools import video_folder
from tests.test_backbones import save_resnet18_pth, save_tiny_wav2vec2

FPS = 5
CLIPS = {
    "00001": "cremad_1001_talk_happy_m.mp4",  # face + speech
    "00002": "synthetic_noface.mp4",  # no face, a tone
    "00003": "cremad_1002_sad_f.wav",  # audio only
    "00004": "grid_s1_bbaf2n_silent_track.mp4",  # face, digitally silent audio track
}
CORRUPT, ABSENT = "00005", "00006"


@pytest.fixture(scope="module")
def backbones(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("backbones")
    return {"visual": save_resnet18_pth(root / "resnet18.pth"), "audio": save_tiny_wav2vec2(root / "wav2vec2-tiny")}


@pytest.fixture()
def dataset(media, tmp_path) -> Path:
    """videos/ with four real clips and a corrupt one, split.csv also listing an id with no file."""
    video_folder(tmp_path / "videos", CLIPS, media, CORRUPT)
    ids = [*CLIPS, CORRUPT, ABSENT]
    (tmp_path / "split.csv").write_text(CSV_HEADER_LINE + "\n" + "".join(f"{i},,,,,,\n" for i in ids))
    return tmp_path


def extract(dataset: Path, backbones: dict[str, Path], *extra: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    args = ["extract", "--videos", str(dataset / "videos"), "--split", str(dataset / "split.csv"),
            "--cache", str(dataset / "cache"), "--visual-backbone", str(backbones["visual"]),
            "--audio-backbone", str(backbones["audio"]), "--fps", str(FPS), "--device", "cpu", *extra]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.slow
def test_extract_resume_and_failures(dataset, backbones):
    code, out, err = extract(dataset, backbones)
    assert code == 2, (out, err)
    assert "skipped 0 already extracted; 6 to extract" in out
    assert "done: extracted 4 video(s), skipped 0 already extracted, 2 failed" in out
    assert f"failed {CORRUPT}:" in err and f"failed {ABSENT}: no media file named {ABSENT}.*" in err
    failures = {f.id: f for f in read_failures(dataset / "cache" / FAILURES_FILE)}
    assert set(failures) == {CORRUPT, ABSENT}
    assert failures[CORRUPT].path.endswith(f"{CORRUPT}.mp4") and failures[ABSENT].path == ""

    cache = FeatureCache(dataset / "cache")
    visual, audio = cache.store_for("visual"), cache.store_for("audio")
    assert visual.dim == 512 + len(AU_NAMES) and audio.dim == 32
    assert visual.ids() == audio.ids() == sorted(CLIPS)
    features, times = visual.read("00001")
    assert 5 <= len(features) <= 10 and np.isfinite(features).all()  # 1.9 s at 5 fps, frames with a face
    np.testing.assert_allclose(times * FPS, np.round(times * FPS), atol=1e-4)  # on the 5 fps grid
    assert ((features[:, 512:] >= 0) & (features[:, 512:] <= 1)).all()  # AU intensities
    assert visual.length("00002") == 0 and visual.length("00003") == 0  # no face / no video
    assert audio.length("00004") == 0  # digital silence
    for video_id, seconds in (("00001", 1.91), ("00002", 5.0), ("00003", 2.4)):
        _, steps = audio.read(video_id)
        assert abs(len(steps) - 50 * seconds) < 3 and np.allclose(np.diff(steps), 0.02, atol=1e-4)

    config = visual.spec.config
    assert config["fps"] == FPS and config["au_names"] == list(AU_NAMES) and config["code_version"] == 1
    assert config["backbone"] == str(backbones["visual"].resolve()) and len(config["weights_sha256"]) == 64
    assert audio.spec.config["layer"] == 2 and audio.spec.config["peak_dbfs"] == -3.0

    before = {i: visual.file(i).stat().st_mtime_ns for i in visual.ids()}
    code, out, _ = extract(dataset, backbones)
    assert code == 2 and "skipped 4 already extracted; 2 to extract" in out
    assert {i: visual.file(i).stat().st_mtime_ns for i in visual.ids()} == before  # nothing redone

    shutil.copy(dataset / "videos" / "00001.mp4", dataset / "videos" / f"{CORRUPT}.mp4")  # fixed
    (dataset / "split.csv").write_text("\n".join((dataset / "split.csv").read_text().splitlines()[:-1]) + "\n")
    code, out, err = extract(dataset, backbones)
    assert code == 0, err
    assert "skipped 4 already extracted; 1 to extract" in out and "done: extracted 1 video(s)" in out
    assert [f.id for f in read_failures(dataset / "cache" / FAILURES_FILE)] == [ABSENT]  # not in this run: kept
    (dataset / "videos" / f"{ABSENT}.mp4").write_bytes((dataset / "videos" / "00001.mp4").read_bytes())
    (dataset / "split.csv").write_text(f"Filename\n{ABSENT}\n")
    assert extract(dataset, backbones)[0] == 0
    assert not (dataset / "cache" / FAILURES_FILE).exists()


@pytest.mark.slow
def test_a_new_channel_or_frame_rate_gets_its_own_store(dataset, backbones):
    code, _, _ = extract(dataset, backbones, "--channels", "audio")
    assert code == 2
    cache = FeatureCache(dataset / "cache")
    assert [s.channel for s in cache.stores()] == ["audio"]
    code, out, _ = extract(dataset, backbones, "--channels", "audio")
    assert "skipped 4 already extracted" in out
    extract(dataset, backbones, "--channels", "visual", "--fps", "2")
    extract(dataset, backbones, "--channels", "visual", "--fps", "3")
    assert sorted(s.spec.config["fps"] for s in cache.stores() if s.channel == "visual") == [2.0, 3.0]


def test_missing_visual_backbone_is_one_clear_error(dataset, capsys):
    code = main(["extract", "--videos", str(dataset / "videos"), "--split", str(dataset / "split.csv"),
                 "--cache", str(dataset / "cache"), "--channels", "visual"])
    assert code == 2
    assert "pass --visual-backbone PATH_OR_HUB_ID" in capsys.readouterr().err


@pytest.mark.slow
def test_workers_write_the_same_features(dataset, backbones, tmp_path):
    """Two spawned workers (each loading the models once) give what one process gives."""
    extract(dataset, backbones, "--channels", "visual,audio")
    other = tmp_path / "other"
    shutil.copytree(dataset, other, ignore=shutil.ignore_patterns("cache"))
    code, out, _ = extract(other, backbones, "--workers", "2")
    assert code == 2 and "done: extracted 4 video(s)" in out
    one, two = FeatureCache(dataset / "cache"), FeatureCache(other / "cache")
    for channel in ("visual", "audio"):
        assert one.store_for(channel).key == two.store_for(channel).key
        for video_id in CLIPS:
            a, ta = one.store_for(channel).read(video_id)
            b, tb = two.store_for(channel).read(video_id)
            np.testing.assert_array_equal(ta, tb)
            np.testing.assert_allclose(a, b, rtol=4e-3, atol=4e-3)  # float16 storage, other thread counts


def test_extractors_rebuilt_from_their_specs(backbones, tmp_path):
    """A recorded spec brings back the same extractor; a copy of the weights elsewhere keeps the recorded name."""
    made = Extractors.from_options(
        visual_backbone=str(backbones["visual"]), audio_backbone=str(backbones["audio"]), fps=FPS
    )
    copy = tmp_path / "elsewhere.pth"
    shutil.copy(backbones["visual"], copy)
    rebuilt = Extractors.from_specs(made.specs, backbones={"visual": str(copy)})
    assert rebuilt.specs == made.specs
    other = save_resnet18_pth(tmp_path / "other.pth", seed=5)
    with pytest.raises(ModelError, match="weights differ"):
        Extractors.from_specs(made.specs, backbones={"visual": str(other)})
    spec = made.specs["visual"]
    foreign = type(spec)(spec.name, {**spec.config, "code_version": 0}, spec.dim)
    with pytest.raises(ModelError, match="cannot be recomputed .*code_version"):
        Extractors.from_specs({"visual": foreign})
    bare = type(spec)(spec.name, {"backbone": "x.pth", "fps": 10}, spec.dim)
    with pytest.raises(ModelError, match="not made by emi extract"):
        Extractors.from_specs({"visual": bare})


def test_ids_stay_text_and_splits_are_checked(tmp_path):
    split = tmp_path / "ids.csv"
    split.write_text("Filename\n00042\n\n00007\n")
    assert read_ids(split) == ("00042", "00007")
    split.write_text(CSV_HEADER_LINE + "\n00042,0.1,0.2,0.3,0.4,0.5,0.6\n00042,0.1,0.2,0.3,0.4,0.5,0.6\n")
    with pytest.raises(DatasetError, match="'00042' appears twice"):
        read_ids(split)
    split.write_text("id,Joy\n1,0.5\n")
    with pytest.raises(DatasetError, match="'Filename' column"):
        read_ids(split)
    split.write_text("Filename\n../x\n")
    with pytest.raises(DatasetError, match="not a video id"):
        read_ids(split)


def test_video_folder_finds_files_by_id(tmp_path):
    for name in ("00001.mp4", "00002.webm", "00003.mp4", "00003.mov", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    folder = VideoFolder(tmp_path)
    assert folder.path("00002").name == "00002.webm"
    found = dict(folder.lookup(["00001", "00003", "00009"]))
    assert found["00001"].name == "00001.mp4"
    assert isinstance(found["00003"], MediaError) and "several files" in str(found["00003"])
    assert isinstance(found["00009"], MediaError)
    with pytest.raises(DatasetError, match="does not exist"):
        VideoFolder(tmp_path / "nope")


def test_failures_csv_keeps_other_ids(dataset, backbones):
    """A run over other ids leaves earlier failures of ids it did not attempt in failures.csv."""
    extract(dataset, backbones, "--channels", "audio")
    (dataset / "other.csv").write_text("Filename\n00001\n")
    code = main(["extract", "--videos", str(dataset / "videos"), "--split", str(dataset / "other.csv"),
                 "--cache", str(dataset / "cache"), "--channels", "audio", "--audio-backbone", str(backbones["audio"])])
    assert code == 0
    with open(dataset / "cache" / FAILURES_FILE, newline="") as handle:
        assert sorted(row["id"] for row in csv.DictReader(handle)) == [CORRUPT, ABSENT]


@pytest.mark.slow
def test_serving_a_checkpoint_uses_the_recorded_backbones(backbones, media, tmp_path):
    """PaperBackend: same features from the app's face input as from extraction; moved backbones are found."""
    from emi_core.faces import track_faces
    from emi_core.features.au import estimate_aus
    from emi_core.media import iter_frames, open_media
    from emi_core.models.backend import FaceInput
    from emi_core.models.paper import EMIModel, channel_config
    from emi_core.models.paper.serving import PaperBackend
    from emi_core.models.temporal_config import TemporalConfig
    from emi_core.result import ActionUnits

    resnet = tmp_path / "resnet18.pth"
    shutil.copy(backbones["visual"], resnet)
    made = Extractors.from_options(visual_backbone=str(resnet), audio_backbone=str(backbones["audio"]), fps=FPS)
    tiny = {"d_model": 16, "heads": 2, "ff_dim": 32, "layers": 1, "max_len": 24}
    model = EMIModel(**{c: channel_config(s, TemporalConfig(s.dim, **tiny)) for c, s in made.specs.items()})
    checkpoint = tmp_path / "checkpoint"
    model.save_pretrained(checkpoint)

    backend = PaperBackend.from_pretrained(checkpoint, device="cpu")
    assert backend.info.kind == "trained" and backend.analysis_fps == FPS and backend.crop_size == 112
    clip = media("cremad_1001_talk_happy_m.mp4")
    track = track_faces(iter_frames(open_media(clip), FPS), crop_size=112)
    faces = FaceInput(track.crops_array(), track.times[track.found], track.found,
                      ActionUnits(AU_NAMES, track.times, estimate_aus(track.landmarks_array())))
    served = backend.extractors.by_channel["visual"].from_faces(
        faces.crops, faces.action_units.values[faces.found], faces.times
    )
    extracted = dict(made.extract(clip, channels=["visual"]))["visual"]
    np.testing.assert_allclose(served[0], extracted[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(served[1], extracted[1])
    output = backend.predict_visual(faces)
    assert output.clip.shape == (6,) and len(output.timeline.times) == len(served[1])

    resnet.rename(tmp_path / "gone.pth")
    with pytest.raises(ModelError, match="visual backbone .* is needed: .*no such file.*backbones/ folder"):
        PaperBackend.from_pretrained(checkpoint, device="cpu")
    (checkpoint / "backbones").mkdir()
    shutil.copy(tmp_path / "gone.pth", checkpoint / "backbones" / "resnet18.pth")
    assert PaperBackend.from_pretrained(checkpoint, device="cpu").info.kind == "trained"


@pytest.mark.slow
def test_extract_split_fills_the_cache_from_python(dataset, backbones):
    """The library entry point does what ``emi extract`` does, with one run object; loaded extractors stay open."""
    from emi_core.features.batch import ExtractionRun, extract_split

    extractors = Extractors.from_options(["audio"], audio_backbone=str(backbones["audio"]), fps=FPS)
    lines: list[str] = []
    run = ExtractionRun(progress=False, log=lines.append)
    result = extract_split(dataset / "videos", dataset / "split.csv", dataset / "cache", extractors, run)
    assert (result.extracted, result.skipped) == (4, 0) and {f.id for f in result.failures} == {CORRUPT, ABSENT}
    assert lines[0].startswith("6 videos listed; 5 media files in") and "audio features:" in lines[1]
    assert result.stores["audio"].ids() == sorted(CLIPS)
    again = extract_split(dataset / "videos", [dataset / "split.csv"], FeatureCache(dataset / "cache"),
                          extractors.specs, run)
    assert (again.extracted, again.skipped, len(again.failures)) == (0, 4, 2)


@pytest.mark.parametrize("workers", [0, -1, 1.5, True])
def test_a_run_needs_at_least_one_worker(workers):
    from emi_core.errors import ConfigError
    from emi_core.features.batch import ExtractionRun

    with pytest.raises(ConfigError, match="at least 1"):
        ExtractionRun(workers=workers)
