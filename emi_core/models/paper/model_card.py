"""The generated model card (``README.md``) of an :class:`~emi_core.models.paper.model.EMIModel` checkpoint.

Hugging Face format: YAML front matter (library, licence, tags, ``model-index`` with every validation
Pearson's r) and a Markdown body: what the model estimates, the backbones that made its features, the
training data and splits, the results per emotion and channel (the paper's table), usage and limits.
Everything comes from ``config.json`` (``config["info"]`` is filled in by ``emi train``).
"""

from __future__ import annotations

from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from emi_core.channels import CHANNELS
from emi_core.emotions import EMOTIONS
from emi_core.fusion import FusionWeights

PAPER = (
    "Yu, Zhu & Zhu (CVPRW 2024), *Efficient Feature Extraction and Late Fusion Strategy for Audiovisual "
    "Emotional Mimicry Intensity Estimation*"
)


def build_model_card(config: dict[str, Any]) -> ModelCard:
    """A :class:`huggingface_hub.ModelCard` for a checkpoint ``config`` (the ``config.json`` dict)."""
    info = config.get("info") or {}
    training = info.get("training") or {}
    metrics = (info.get("metrics") or {}).get("validation") or {}
    name = info.get("name") or "emi-paper-model"
    dataset = training.get("dataset") or "unspecified data"
    split = (training.get("val_split") or {}).get("file") or "validation"
    card_data = ModelCardData(
        model_name=name,
        library_name="emi-studio",
        license=info.get("license", "other"),
        license_name=info.get("license_name", "training-data-terms"),
        tags=["emotion-recognition", "affective-computing", "ABAW", "emotional-mimicry-intensity", "pytorch"],
        metrics=["pearsonr"],
        eval_results=_eval_results(metrics, dataset, split) or None,
    )
    body = "\n\n".join(
        [
            f"# {name}",
            _summary(config),
            "## Features and backbones\n\n" + _features(config),
            "## Training data and splits\n\n" + _training(training),
            f"## Results (Pearson's r on {split})\n\n" + _results(metrics, info.get("metrics") or {}),
            _USAGE,
            _LIMITS,
            _LICENCE,
        ]
    )
    return ModelCard(f"---\n{card_data.to_yaml()}\n---\n\n{body}\n")


def results_table(metrics: dict[str, dict[str, float | None]]) -> str:
    """The paper's table as Markdown: one row per channel, combination and the fused estimate, in the
    order recorded; six emotions + mean."""
    header = "| Channel | " + " | ".join(EMOTIONS) + " | Mean |"
    lines = [header, "|" + "---|" * (len(EMOTIONS) + 2)]
    for row in metrics:
        values = [metrics[row].get(e) for e in (*EMOTIONS, "mean")]
        lines.append(f"| {row.capitalize()} | " + " | ".join(_number(v) for v in values) + " |")
    return "\n".join(lines)


def _eval_results(metrics: dict, dataset: str, split: str) -> list[EvalResult]:
    results = []
    for row in metrics:
        for emotion in (*EMOTIONS, "mean"):
            value = (metrics.get(row) or {}).get(emotion)
            if value is None:
                continue
            results.append(
                EvalResult(
                    task_type="other",
                    task_name="Emotional Mimicry Intensity estimation",
                    dataset_type=dataset.lower().replace(" ", "-"),
                    dataset_name=dataset,
                    dataset_split=split,
                    metric_type="pearsonr",
                    metric_name=f"Pearson r, {row}, {emotion}",
                    metric_value=round(float(value), 4),
                    metric_config=f"{row}/{emotion}",
                )
            )
    return results


def _summary(config: dict) -> str:
    channels = [c for c in CHANNELS if config.get(c)]
    fusion = FusionWeights.from_dict(config.get("fusion"))
    lines = [
        "Estimates the six *Emotional Mimicry Intensities* of a video (ABAW EMI task), each in [0, 1]: "
        + ", ".join(EMOTIONS)
        + f". An implementation of {PAPER} in EMI studio (`emi_core`).",
        "",
        "| Channel | Input per frame | Regressor |",
        "|---|---|---|",
    ]
    for channel in channels:
        model = config[channel]["model"]
        lines.append(
            f"| {channel} | `{config[channel]['features']['name']}`, {model['input_dim']}-d | "
            f"TCN (kernel {model['kernel_size']}, dilations {model['dilations']}) → Transformer encoder "
            f"({model['layers']} layers, {model['heads']} heads, d={model['d_model']}) → mean pooling → 6 sigmoids; "
            f"windows of ≤ {model['max_len']} frames |"
        )
    fitted = " (fitted on the validation split)" if fusion.method != "mean" else ""
    lines += ["", f"Late fusion: {fusion.describe()}{fitted}."]
    return "\n".join(lines)


def _features(config: dict) -> str:
    lines = []
    for channel in CHANNELS:
        if not config.get(channel):
            continue
        features = config[channel]["features"]
        backbone = features["config"].get("backbone", "not recorded")
        lines.append(f"- **{channel}**: extractor `{features['name']}` ({features['dim']}-d), backbone `{backbone}`")
        for key, value in sorted(features["config"].items()):
            if key != "backbone":
                lines.append(f"  - {key}: `{value}`")
    lines.append(
        "\nServing this model needs the same backbones: features from another backbone, layer or frame "
        "rate are not what it was trained on."
    )
    return "\n".join(lines)


def _training(training: dict) -> str:
    if not training:
        return "Not recorded (this checkpoint was not written by `emi train`)."
    lines = [f"- Data: {training.get('dataset', 'not recorded')}"]
    for key, label in (("train_split", "Training split"), ("val_split", "Validation split")):
        split = training.get(key)
        if split:
            used = ", ".join(f"{c} {n}" for c, n in (split.get("used") or {}).items())
            lines.append(
                f"- {label}: `{split['file']}` ({split['videos']} videos; with features: {used}; "
                f"sha256 `{split['sha256'][:16]}…`)"
            )
    settings = (
        "loss",
        "epochs",
        "saved_after_epoch",
        "best_epoch",
        "batch_size",
        "lr",
        "weight_decay",
        "patience",
        "seed",
    )
    lines += [f"- {key.replace('_', ' ')}: `{training[key]}`" for key in settings if key in training]
    return "\n".join(lines)


def _results(metrics: dict, all_metrics: dict) -> str:
    if not metrics:
        return "No validation results recorded."
    counts = all_metrics.get("validation_videos") or {}
    note = ", ".join(f"{row} {n}" for row, n in counts.items())
    return results_table(metrics) + (f"\n\nVideos scored per row: {note}." if note else "")


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:.4f}"


_USAGE = """## Usage

```bash
emi evaluate --model THIS_FOLDER --cache FEATURE_CACHE --split val.csv   # the table above
EMI_MODEL=THIS_FOLDER python app.py                                      # serve it in the app
```

```python
from emi_core.models.paper import EMIModel
model = EMIModel.from_pretrained("THIS_FOLDER_OR_HUB_ID")
out = model.predict(visual=[visual_features], audio=[audio_features])   # out["fused"]: (1, 6)
```"""

_LIMITS = """## Limits

- Trained and validated on one dataset's splits; the figures above are validation figures on that data
  (with `weighted` fusion the weights were fitted on the same validation split, so the fused row is optimistic).
- Estimates how strongly a person *mimics* six emotions of a seed clip, as rated by annotators; it is not a
  measure of what anyone feels, and must not be used to make decisions about people.
- The visual channel needs a visible face (frames without one are dropped); the audio channel needs audio.
  With one channel missing, the other is used alone.
- Performance differs with recording conditions, languages and demographics under-represented in the
  training data; it has not been audited for such differences."""

_LICENCE = """## Licence

The EMI studio code is MIT-licensed. These weights are derived from the training data named above and
inherit its terms (for Hume-Vidmimic2: the ABAW challenge end-user licence, research use); check them
before redistributing the checkpoint."""
