"""The training loop behind ``emi train``: seeded, early-stopped per channel, resumable.

Each channel (``visual``, ``audio``) is **its own regressor with its own loss, AdamW optimiser and
cosine learning-rate schedule**, trained on the videos that have its features, as in the paper;
``--channels visual,audio`` simply trains both in one run, one after the other within each epoch.
After every epoch each channel is scored on the validation split (mean Pearson's r over the six
emotions); a channel whose score has not improved for ``patience`` epochs stops, and the run ends
when all have stopped or after ``epochs`` epochs.

The output folder ``out`` holds:

* the **best checkpoint** (``config.json``, ``model.safetensors``, ``README.md``): every channel at its
  own best epoch, with validation metrics recorded in the config and the card; rewritten whenever a
  channel improves, so ``out`` is always a servable model;
* ``metrics.csv``: one row per epoch (train loss and learning rate per channel, validation r per
  channel and emotion, the fused r of the current channels — a stopped channel contributes its best);
* ``last.pt``: everything needed to continue (weights, optimiser and scheduler states, best scores,
  patience counters, history). A rerun of the same command continues after the last finished epoch;
  the data order, crops and dropout of an epoch depend only on ``(seed, epoch, channel)``, so on the
  CPU the resumed run ends with exactly the weights of an uninterrupted one (GPU kernels may differ
  in the last bits).
"""

from __future__ import annotations

import copy
import csv
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from emi_core import __version__
from emi_core.atomic import atomic_path
from emi_core.channels import CHANNELS, FUSED
from emi_core.emotions import EMOTIONS
from emi_core.errors import TrainingError
from emi_core.features.cache import CacheError, FeatureCache, FeatureStore
from emi_core.fusion import FusionWeights
from emi_core.models.paper import EMIModel, channel_config
from emi_core.models.paper.model import predict_store
from emi_core.models.temporal_config import TemporalConfig
from emi_core.progress import progress as progress_bar
from emi_core.training.config import TrainConfig
from emi_core.training.data import ChannelData, CropDataset, Split, collate, epoch_batches, join, read_split
from emi_core.training.evaluate import Evaluation, evaluate_predictions, with_combinations
from emi_core.training.fusion import fit_fusion
from emi_core.training.losses import make_loss

LAST_CHECKPOINT = "last.pt"
METRICS_FILE = "metrics.csv"
CHECKPOINT_VERSION = 1
GRAD_CLIP = 1.0


@dataclass(frozen=True)
class EpochRecord:
    """What happened in one epoch (passed to ``on_epoch`` and written to ``metrics.csv``)."""

    epoch: int
    seconds: float
    train_loss: dict[str, float]
    lr: dict[str, float]
    validation: Evaluation
    improved: tuple[str, ...]
    stopped: tuple[str, ...]

    def row(self, channels: tuple[str, ...]) -> dict[str, Any]:
        """The ``metrics.csv`` row (empty cells for channels that did not train this epoch)."""
        row: dict[str, Any] = {"epoch": self.epoch, "seconds": round(self.seconds, 3)}
        for channel in channels:
            row[f"{channel}_train_loss"] = _cell(self.train_loss.get(channel))
            row[f"{channel}_lr"] = _cell(self.lr.get(channel))
        for name in (*channels, FUSED):
            scores = self.validation.pearson.get(name, {}) if name in self.train_loss or name == FUSED else {}
            row[f"{name}_val_mean"] = _cell(scores.get("mean"))
            for emotion in EMOTIONS:
                row[f"{name}_val_{emotion}"] = _cell(scores.get(emotion))
        row["improved"] = "+".join(self.improved)
        return row

    def summary(self) -> str:
        """One line, e.g. ``epoch 3: visual loss 0.1021 r 0.6120*  audio … fused r 0.6500``."""
        parts = [f"epoch {self.epoch}:"]
        for channel, loss in self.train_loss.items():
            star = "*" if channel in self.improved else ""
            parts.append(f"{channel} loss {loss:.4f} r {self.validation.mean(channel):.4f}{star}")
        parts.append(f"fused r {self.validation.mean('fused'):.4f}")
        if self.stopped:
            parts.append(f"(stopped: {', '.join(self.stopped)})")
        return "  ".join(parts)


@dataclass
class TrainResult:
    """Outcome of :func:`train`: the best checkpoint folder and its validation evaluation."""

    out: Path
    evaluation: Evaluation
    best_epoch: dict[str, int]
    epochs_run: int
    resumed_from: int


@dataclass
class _ChannelRun:
    """Training state of one channel."""

    data: ChannelData
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    best_score: float = -math.inf
    best_epoch: int = 0
    bad_epochs: int = 0
    stopped: bool = False
    best_pred: np.ndarray | None = None
    current_pred: np.ndarray | None = None


def train(
    config: TrainConfig,
    cache: FeatureCache,
    train_csv: str | Path,
    val_csv: str | Path,
    out: str | Path,
    *,
    device: str | torch.device = "cpu",
    stores: dict[str, str] | None = None,
    workers: int = 0,
    log: Callable[[str], None] = print,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    progress: bool | None = None,
) -> TrainResult:
    """Train (or resume) a run into ``out``; see the module docstring for what ``out`` holds.

    ``stores`` optionally names the feature store per channel by key (needed when the cache holds
    several of one channel). ``progress=False`` hides the progress (else a bar on a terminal, a line
    every quarter epoch in a log).
    Raises :class:`~emi_core.errors.TrainingError` for too little data, an unusable checkpoint or a
    different run in ``out``; :class:`~emi_core.features.cache.CacheError` for a store of another channel.
    """
    out, device = Path(out), torch.device(device)
    data = _load_data(config, cache, train_csv, val_csv, stores or {}, log)
    torch.manual_seed(config.seed)
    model = EMIModel(
        **{c: channel_config(s.spec, TemporalConfig(input_dim=s.dim, **config.model)) for c, s in data.stores.items()}
    ).to(device)
    best_model = copy.deepcopy(model).cpu()
    runs = {}
    for channel in config.channels:
        params = model.regressor(channel).parameters()
        optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)
        runs[channel] = _ChannelRun(data.train[channel], optimizer, scheduler)

    fingerprint = json.loads(json.dumps(data.fingerprint(config)))  # the form it has after a save and load
    history: list[dict[str, Any]] = []
    start, finished = 0, False
    last_path = out / LAST_CHECKPOINT
    if last_path.is_file():
        start, finished, history = _load_last(last_path, fingerprint, model, best_model, runs, device)
        log(f"resuming {out} after epoch {start}" if not finished else f"{out}: training already finished")
    out.mkdir(parents=True, exist_ok=True)

    loss_fn = make_loss(config.loss)
    done = start
    for epoch in range(start + 1, config.epochs + 1) if not finished else ():
        began = time.perf_counter()
        losses, rates, improved = {}, {}, []
        active = [c for c in config.channels if not runs[c].stopped]
        for channel in active:
            rates[channel] = runs[channel].optimizer.param_groups[0]["lr"]
            losses[channel] = _train_epoch(
                model, channel, runs[channel], config, loss_fn, epoch, device, workers, progress
            )
            if _validate(model, best_model, channel, runs[channel], data, config, epoch):
                improved.append(channel)
        current = {c: runs[c].current_pred if c in active else runs[c].best_pred for c in config.channels}
        finished = epoch == config.epochs or all(r.stopped for r in runs.values())
        record = EpochRecord(
            epoch=epoch,
            seconds=time.perf_counter() - began,
            train_loss=losses,
            lr=rates,
            validation=evaluate_predictions(with_combinations(current, model.fuse), data.val_split.labels),
            improved=tuple(improved),
            stopped=tuple(c for c in active if runs[c].stopped),
        )
        history.append(record.row(config.channels))
        if improved:
            _save_best(best_model, runs, config, data, out, epoch)
        _save_last(last_path, fingerprint, epoch, finished, model, best_model, runs, history)
        _write_metrics(out / METRICS_FILE, history)
        done = epoch
        if on_epoch is not None:
            on_epoch(record)
        if finished:
            break

    best = {c: runs[c].best_pred for c in config.channels}
    return TrainResult(
        out=out,
        evaluation=evaluate_predictions(with_combinations(best, best_model.fuse), data.val_split.labels),
        best_epoch={c: runs[c].best_epoch for c in config.channels},
        epochs_run=done,
        resumed_from=start,
    )


@dataclass(frozen=True)
class _Data:
    """The splits and, per channel, the chosen feature store and the videos usable from it."""

    train_split: Split
    val_split: Split
    stores: dict[str, FeatureStore]
    train: dict[str, ChannelData]
    val: dict[str, ChannelData]

    def fingerprint(self, config: TrainConfig) -> dict[str, Any]:
        """What must not change between an interrupted run and its resumption."""
        return {
            "config": config.to_dict(),
            "train_sha256": self.train_split.sha256,
            "val_sha256": self.val_split.sha256,
            "stores": {c: s.key for c, s in self.stores.items()},
        }


def _load_data(
    config: TrainConfig,
    cache: FeatureCache,
    train_csv: str | Path,
    val_csv: str | Path,
    keys: dict[str, str],
    log: Callable[[str], None],
) -> _Data:
    train_split, val_split = read_split(train_csv), read_split(val_csv)
    stores = {c: _choose_store(cache, c, keys.get(c)) for c in config.channels}
    data = _Data(
        train_split,
        val_split,
        stores,
        train={c: join(train_split, s) for c, s in stores.items()},
        val={c: join(val_split, s) for c, s in stores.items()},
    )
    for channel in config.channels:
        for part, name in ((data.train[channel], "train"), (data.val[channel], "validation")):
            log(part.summary(name))
            if len(part.ids) < 2:
                raise TrainingError(
                    f"{channel}: only {len(part.ids)} {name} video(s) have features in {part.store.path}"
                )
    return data


def _choose_store(cache: FeatureCache, channel: str, key: str | None) -> FeatureStore:
    if key is None:
        return cache.store_for(channel)
    store = cache.open(key)
    if store.channel != channel:
        raise CacheError(f"feature store {key} holds {store.channel} features, not {channel}")
    return store


def _train_epoch(
    model: EMIModel,
    channel: str,
    run: _ChannelRun,
    config: TrainConfig,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    epoch: int,
    device: torch.device,
    workers: int,
    progress: bool | None,
) -> float:
    """One pass over the channel's training videos, then a scheduler step; returns the mean loss."""
    stream = CHANNELS.index(channel)
    torch.manual_seed(_seed(config.seed, epoch, stream))
    regressor = model.regressor(channel).train()
    batches = epoch_batches(len(run.data.ids), config.batch_size, config.seed, epoch, stream)
    dataset = CropDataset(run.data, regressor.config.max_len)
    loader = DataLoader(dataset, batch_sampler=batches, collate_fn=collate, num_workers=workers)
    total, count = 0.0, 0
    bar = progress_bar(loader, desc=f"epoch {epoch} {channel}", unit="batch", show=progress, transient=True, step=0.25)
    for x, mask, y in bar:
        x, mask, y = x.to(device), mask.to(device), y.to(device)
        loss = loss_fn(torch.sigmoid(regressor(x, mask)), y)
        run.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(regressor.parameters(), GRAD_CLIP)
        run.optimizer.step()
        total += float(loss.detach()) * len(y)
        count += len(y)
        bar.set_postfix(loss=f"{total / count:.4f}")
    run.scheduler.step()
    regressor.eval()
    return total / count


def _validate(
    model: EMIModel, best_model: EMIModel, channel: str, run: _ChannelRun, data: _Data, config: TrainConfig, epoch: int
) -> bool:
    """Score the channel on the validation split; keep it in ``best_model`` if it improved (returned)."""
    run.current_pred = predict_store(
        model.regressor(channel), data.stores[channel], data.val_split.ids, config.batch_size
    )
    score = evaluate_predictions({channel: run.current_pred}, data.val_split.labels).mean(channel)
    if score > run.best_score:
        run.best_score, run.best_epoch, run.bad_epochs, run.best_pred = score, epoch, 0, run.current_pred
        best_model.regressor(channel).load_state_dict(model.regressor(channel).state_dict())
        return True
    run.bad_epochs += 1
    run.stopped = run.bad_epochs >= config.patience
    return False


def _seed(seed: int, epoch: int, stream: int) -> int:
    return int(np.random.default_rng([seed, epoch, stream, 7]).integers(2**62))


def _save_best(
    best_model: EMIModel, runs: dict[str, _ChannelRun], config: TrainConfig, data: _Data, out: Path, epoch: int
) -> None:
    """Write the best-so-far checkpoint (each channel at its best epoch) with its metrics and card."""
    best = {c: runs[c].best_pred for c in config.channels}
    labels = data.val_split.labels
    fitted = len(config.channels) > 1 and all(best[c] is not None for c in config.channels)
    best_model.fusion = fit_fusion(config.fusion, best, labels) if fitted else FusionWeights()
    evaluation = evaluate_predictions(with_combinations(best, best_model.fuse), labels)
    best_model.info = {
        "name": out.resolve().name,
        "training": {
            "dataset": config.dataset,
            "train_split": {**data.train_split.describe(), "used": {c: len(d.ids) for c, d in data.train.items()}},
            "val_split": {**data.val_split.describe(), "used": {c: len(d.ids) for c, d in data.val.items()}},
            "loss": config.loss,
            "epochs": config.epochs,
            "saved_after_epoch": epoch,
            "best_epoch": {c: runs[c].best_epoch for c in config.channels},
            "batch_size": config.batch_size,
            "lr": config.lr,
            "weight_decay": config.weight_decay,
            "patience": config.patience,
            "seed": config.seed,
            "emi_version": __version__,
        },
        "metrics": {"validation": evaluation.pearson, "validation_videos": evaluation.videos},
    }
    best_model.save_pretrained(out)


def _save_last(
    path: Path,
    fingerprint: dict,
    epoch: int,
    finished: bool,
    model: EMIModel,
    best_model: EMIModel,
    runs: dict[str, _ChannelRun],
    history: list[dict[str, Any]],
) -> None:
    state = {
        "version": CHECKPOINT_VERSION,
        "fingerprint": fingerprint,
        "epoch": epoch,
        "finished": finished,
        "model": model.state_dict(),
        "best_model": best_model.state_dict(),
        "best_fusion": best_model.fusion.to_dict(),
        "best_info": best_model.info,
        "channels": {
            c: {
                "optimizer": r.optimizer.state_dict(),
                "scheduler": r.scheduler.state_dict(),
                "best_score": r.best_score,
                "best_epoch": r.best_epoch,
                "bad_epochs": r.bad_epochs,
                "stopped": r.stopped,
                "best_pred": _tensor(r.best_pred),
                "current_pred": _tensor(r.current_pred),
            }
            for c, r in runs.items()
        },
        "history": history,
    }
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def _load_last(
    path: Path,
    fingerprint: dict,
    model: EMIModel,
    best_model: EMIModel,
    runs: dict[str, _ChannelRun],
    device: torch.device,
) -> tuple[int, bool, list[dict[str, Any]]]:
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except (OSError, RuntimeError, EOFError) as err:
        raise TrainingError(f"cannot resume from {path}: {err}; delete it to start over") from None
    if state.get("version") != CHECKPOINT_VERSION:
        raise TrainingError(f"{path} was written by another version of emi train; delete it to start over")
    if state["fingerprint"] != fingerprint:
        differs = _differences(state["fingerprint"], fingerprint)
        raise TrainingError(
            f"{path.parent} holds a different run ({differs}); "
            f"use another output folder, or delete {path.name} to start over"
        )
    model.load_state_dict(state["model"])
    best_model.load_state_dict({k: v.cpu() for k, v in state["best_model"].items()})
    best_model.fusion, best_model.info = FusionWeights.from_dict(state["best_fusion"]), state["best_info"]
    for channel, run in runs.items():
        saved = state["channels"][channel]
        run.optimizer.load_state_dict(saved["optimizer"])
        run.scheduler.load_state_dict(saved["scheduler"])
        run.best_score, run.best_epoch = saved["best_score"], saved["best_epoch"]
        run.bad_epochs, run.stopped = saved["bad_epochs"], saved["stopped"]
        run.best_pred, run.current_pred = _array(saved["best_pred"]), _array(saved["current_pred"])
    return int(state["epoch"]), bool(state["finished"]), list(state["history"])


def _differences(old: dict, new: dict) -> str:
    flat_old, flat_new = _flatten(old), _flatten(new)
    keys = sorted(k for k in flat_old.keys() | flat_new.keys() if flat_old.get(k) != flat_new.get(k))
    return "; ".join(f"{k}: {flat_old.get(k)!r} → {flat_new.get(k)!r}" for k in keys[:4])


def _flatten(data: dict, prefix: str = "") -> dict[str, Any]:
    flat = {}
    for key, value in data.items():
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _write_metrics(path: Path, history: list[dict[str, Any]]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(history[0]))
        writer.writeheader()
        writer.writerows(history)


def _cell(value: float | None) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.6g}"


def _tensor(values: np.ndarray | None) -> torch.Tensor | None:
    return None if values is None else torch.from_numpy(np.asarray(values, dtype=np.float64))


def _array(values: torch.Tensor | None) -> np.ndarray | None:
    return None if values is None else values.cpu().numpy()
