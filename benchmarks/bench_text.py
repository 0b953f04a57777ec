"""Cost of the text channel: our ASR vs bare faster-whisper, the default model end to end with text,
and text feature extraction for the paper's pipeline with its projection to the full corpus.

Usage:
    python benchmarks/bench_text.py [--repeat 3] [--media DIR] [CLIP ...]

Per clip (default: the shipped talking clips), best of ``--repeat`` runs, seconds of compute per
second of audio / clip:

* ``asr``: :class:`emi_core.speech.Transcriber` (whole transcript, word times, VAD) on the clip's
  16 kHz audio; ``bare``: ``faster_whisper.WhisperModel.transcribe`` with the same model and the same
  settings, segments consumed, nothing else; ``ratio`` = asr / bare (goal ≤ 1.2);
* ``pipeline``: ``EMIPipeline`` (EMI prior, visual + audio + text) end to end (goal ≤ 0.25 s per s);
  ``no_text``: the same prior with its text channel off (``asr = None``), in the same run;
* ``text_extract``: the paper pipeline's text features of one video (decode audio, transcribe, embed
  word windows), in seconds per video; the projection multiplies the mean by 17,246 videos.

Run with ``taskset -c 0,1`` (or on a 2-core machine) to measure on 2 cores; on a shared machine rely on
the ratios.
"""

from __future__ import annotations

import argparse
import os
import platform
from pathlib import Path

from bench_media import DEFAULT_CLIPS, DEFAULT_MEDIA, best_time

from emi_core.features.extract import TextExtractor
from emi_core.features.text import load_text_encoder
from emi_core.media import AUDIO_SAMPLE_RATE, open_media, read_audio
from emi_core.models.prior import EMIPrior
from emi_core.pipeline import EMIPipeline
from emi_core.speech import load_transcriber

CORPUS_VIDEOS = 17_246
"""Hume-Vidmimic2: train + val + test videos (about 12 s each)."""


def bare(model, audio, settings) -> None:
    """faster-whisper alone, the settings our transcriber passes."""
    segments, _ = model.transcribe(
        audio, language=settings.language, beam_size=settings.beam_size, word_timestamps=True,
        vad_filter=settings.vad_filter, no_speech_threshold=settings.no_speech_threshold,
        log_prob_threshold=settings.log_prob_threshold, condition_on_previous_text=False,
    )  # fmt: skip
    list(segments)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clips", nargs="*", default=list(DEFAULT_CLIPS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--media", type=Path, default=DEFAULT_MEDIA)
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"{platform.processor() or platform.machine()}, {cores} cores usable; best of {args.repeat}")
    transcriber = load_transcriber()
    extractor = TextExtractor(transcriber, load_text_encoder())
    pipeline = EMIPipeline.from_pretrained()
    without = EMIPrior()
    without.asr = None
    no_text = EMIPipeline(without)
    pipeline(args.media / args.clips[0])  # warm up every model once
    no_text(args.media / args.clips[0])
    print(f"{'clip':<44}{'seconds':>8}{'asr':>8}{'bare':>8}{'ratio':>7}{'pipeline':>10}{'no_text':>9}"
          f"{'text_extract':>14}")  # fmt: skip
    totals = {"asr": 0.0, "bare": 0.0, "pipeline": 0.0, "no_text": 0.0, "seconds": 0.0, "extract": 0.0}
    for name in args.clips:
        path = args.media / name
        audio = read_audio(open_media(path))
        seconds = len(audio) / AUDIO_SAMPLE_RATE
        asr = best_time(lambda a=audio: transcriber(a), args.repeat)
        raw = best_time(lambda a=audio: bare(transcriber.model, a, transcriber.settings), args.repeat)
        whole = best_time(lambda p=path: pipeline(p), args.repeat)
        base = best_time(lambda p=path: no_text(p), args.repeat)
        extract = best_time(lambda p=path: extractor.from_source(open_media(p)), args.repeat)
        for key, value in (("asr", asr), ("bare", raw), ("pipeline", whole), ("no_text", base),
                           ("seconds", seconds), ("extract", extract)):  # fmt: skip
            totals[key] += value
        print(f"{name:<44}{seconds:>8.2f}{asr / seconds:>8.3f}{raw / seconds:>8.3f}{asr / raw:>7.2f}"
              f"{whole / seconds:>10.3f}{base / seconds:>9.3f}{extract:>13.2f}s")  # fmt: skip
    s = totals["seconds"]
    ratio = totals["asr"] / totals["bare"]
    print(f"{'all':<44}{s:>8.2f}{totals['asr'] / s:>8.3f}{totals['bare'] / s:>8.3f}{ratio:>7.2f}"
          f"{totals['pipeline'] / s:>10.3f}{totals['no_text'] / s:>9.3f}")  # fmt: skip
    per_video = totals["extract"] / len(args.clips)
    per_12s = totals["extract"] / s * 12.0
    print(f"text extraction: {per_video:.2f} s per video here ({per_12s:.2f} s per 12 s video); "
          f"{CORPUS_VIDEOS:,} videos x 12 s: {per_12s * CORPUS_VIDEOS / 3600:.1f} h on one worker")


if __name__ == "__main__":
    main()
