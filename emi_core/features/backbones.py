"""Where pretrained backbones come from: local files, Hugging Face Hub ids or explicit random weights.

Shared by the visual (:mod:`emi_core.features.visual`) and audio (:mod:`emi_core.features.audio`)
extractors:

* :func:`locate` turns what the user passed (``--visual-backbone`` / ``--audio-backbone``) into a
  local file or folder: an existing path is used as is; otherwise a ``owner/name`` id is fetched with
  ``huggingface_hub`` (which honours ``HF_HUB_OFFLINE`` and its cache). Anything else, or a download
  that fails, is a :class:`~emi_core.errors.ModelError` that says what to pass instead.
* :data:`RANDOM` (``"random"``) asks for seeded random weights. They are never a fallback: only an
  explicit ``random`` gives them, and a model served with them is marked ``untrained``.
* :func:`sha256_files` / :func:`sha256_module` fingerprint the weights. The fingerprint is part of the
  extractor config (so other weights never share a cache folder) and is checked again whenever a
  backbone is loaded for a recorded config (serving, ``predict-split``, extraction workers).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emi_core.errors import ModelError

if TYPE_CHECKING:  # torch is imported where used, so the CLI can read the constants without it
    from torch import nn

RANDOM = "random"
"""Backbone argument for seeded random weights (tests and benchmarks only)."""

DEFAULT_AUDIO_BACKBONE = "facebook/wav2vec2-base-960h"
"""The audio backbone when none is given (Wav2Vec2-base fine-tuned for ASR on LibriSpeech 960 h)."""

RANDOM_SEED = 0
"""Seed of random backbone weights: the same architecture always gets the same weights."""

WEIGHT_FILES: tuple[str, ...] = ("model.safetensors", "pytorch_model.bin")
"""Weight files looked for in a Hugging Face-style folder, in order of preference."""

_CHUNK = 1 << 20


def is_random(source: str) -> bool:
    """Whether ``source`` asks for random weights (``random`` or ``random:ARCHITECTURE``)."""
    return source == RANDOM or source.startswith(RANDOM + ":")


def looks_like_hub_id(source: str) -> bool:
    """``owner/name`` with no path syntax: what the Hub accepts as a repository id."""
    parts = source.split("/")
    return (
        len(parts) == 2
        and all(parts)
        and not source.startswith((".", "~"))
        and not any(c in source for c in "\\: ")
        and not source.endswith((".pth", ".pt", ".bin", ".safetensors", ".json"))
    )


def locate(source: str, *, option: str, hint: str, search_dirs: Sequence[Path] = ()) -> Path:
    """A local file or folder for ``source`` (a path or a Hub id); :class:`ModelError` if there is none.

    ``search_dirs`` are also searched for the file or folder name of a ``source`` path that does not
    exist (e.g. a checkpoint's ``backbones/`` folder). From the Hub, ``config.json``, the weights
    (:data:`WEIGHT_FILES`, the first the repository has) and, when present, ``preprocessor_config.json``
    are fetched. ``option`` (what is located, e.g. ``"visual backbone"``) starts and ``hint`` ends every
    error message; neither names a CLI flag (the CLI phrases its own).
    """
    path = Path(source).expanduser()
    if path.exists():
        return path.resolve()
    for folder in search_dirs:
        candidate = Path(folder) / path.name
        if candidate.exists():
            return candidate.resolve()
    if not looks_like_hub_id(source):
        where = "" if not search_dirs else f" (nor in {', '.join(str(d) for d in search_dirs)})"
        raise ModelError(f"{option} {source}: no such file or folder{where}; {hint}")
    return _download(source, option, ("config.json", "|".join(WEIGHT_FILES)), ("preprocessor_config.json",), hint)


def recorded_name(source: str) -> str:
    """How a backbone is recorded in an extractor config: an existing local path made absolute, else as given."""
    path = Path(source).expanduser()
    return str(path.resolve()) if path.exists() else source


def _download(repo_id: str, option: str, required: Sequence[str], optional: Sequence[str], hint: str) -> Path:
    folder: Path | None = None
    try:
        for group in required:
            folder = _fetch_first(repo_id, group.split("|")).parent
        for name in optional:
            _fetch_first(repo_id, [name], missing_ok=True)
    except Exception as err:  # noqa: BLE001 - every hub failure (offline, 404, auth, network) means the same here
        reason = _reason(err)
        raise ModelError(
            f"{option} {repo_id}: not a local path, and the Hugging Face Hub could not provide it ({reason}); {hint}"
        ) from None
    if folder is None:
        raise ModelError(f"{option} {repo_id}: nothing to download")
    return folder


def _reason(err: Exception) -> str:
    from huggingface_hub.errors import LocalEntryNotFoundError

    if isinstance(err, LocalEntryNotFoundError):
        return "the Hub is unreachable or offline mode is on, and the files are not in the local cache"
    text = " ".join(str(err).split())
    return text.split(". ")[0][:160] if text else type(err).__name__


def _fetch_first(repo_id: str, names: Sequence[str], missing_ok: bool = False) -> Path | None:
    """The first of ``names`` that the repository has, downloaded (or from the local Hub cache).

    A file the repository lacks moves on to the next name; once the Hub is unreachable only the local
    cache is asked, so an offline machine fails fast instead of retrying every name.
    """
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError

    local_only = False
    failure: Exception | None = None
    for name in names:
        try:
            return Path(hf_hub_download(repo_id, name, local_files_only=local_only))
        except LocalEntryNotFoundError as err:  # unreachable Hub and not cached
            local_only, failure = True, failure or err
        except EntryNotFoundError as err:  # the repository has no such file
            failure = failure or err
    if missing_ok:
        return None
    raise failure if failure is not None else FileNotFoundError(repo_id)


def read_json(path: Path, what: str) -> dict[str, Any]:
    """A JSON object from ``path``; :class:`ModelError` naming ``what`` if unreadable."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ModelError(f"{what}: unreadable {Path(path).name} ({err})") from None
    if not isinstance(data, dict):
        raise ModelError(f"{what}: {Path(path).name} is not a JSON object")
    return data


def weight_file(folder: Path, what: str) -> Path:
    """The weights file of a Hugging Face-style folder (:data:`WEIGHT_FILES`)."""
    for name in WEIGHT_FILES:
        if (folder / name).is_file():
            return folder / name
    raise ModelError(f"{what}: the folder {folder} has no {' or '.join(WEIGHT_FILES)}")


def sha256_files(paths: Sequence[Path]) -> str:
    """sha256 (hex) over the bytes of ``paths`` in the order given."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            while block := handle.read(_CHUNK):
                digest.update(block)
    return digest.hexdigest()


def sha256_module(module: nn.Module) -> str:
    """sha256 (hex) over a module's state dict (names, dtypes, shapes and values, sorted by name)."""
    import torch

    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        value = tensor.detach().cpu().contiguous()
        digest.update(f"{name}|{value.dtype}|{tuple(value.shape)}|".encode())
        digest.update(value.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


@contextmanager
def seeded(seed: int = RANDOM_SEED) -> Iterator[None]:
    """Run the block with torch's CPU generator seeded, leaving the global generator as it was."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' loading bars and info logs for the block (errors still show)."""
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    verbosity = hf_logging.get_verbosity()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def load_pretrained(model_class: Any, folder: Path, what: str) -> nn.Module:
    """``model_class.from_pretrained(folder)`` (transformers), refusing weights that leave tensors random.

    transformers fills tensors missing from a checkpoint with random values and only logs it; here
    that is a :class:`ModelError`. Unused tensors (a CTC or classification head) are fine.
    ``masked_spec_embed`` is only used to mask inputs in training and may be absent.
    """
    try:
        with quiet_transformers():
            model, info = model_class.from_pretrained(str(folder), output_loading_info=True)
    except (OSError, ValueError, RuntimeError, KeyError) as err:
        raise ModelError(f"{what}: transformers could not load it ({str(err).splitlines()[0][:160]})") from None
    missing = sorted(k for k in info.get("missing_keys", ()) if not k.endswith("masked_spec_embed"))
    if missing:
        shown = ", ".join(missing[:3]) + ("…" if len(missing) > 3 else "")
        raise ModelError(
            f"{what}: the weights lack {len(missing)} of the model's tensors ({shown}), which would be random"
        )
    return model.eval()


def check_fingerprint(actual: str, expected: str | None, what: str) -> None:
    """:class:`ModelError` when weights differ from the ones a config recorded."""
    if expected is not None and actual != expected:
        raise ModelError(
            f"{what}: the weights differ from the ones the features were made with "
            f"(sha256 {actual[:12]}…, expected {expected[:12]}…); features from other weights are not what "
            "the model was trained on"
        )
