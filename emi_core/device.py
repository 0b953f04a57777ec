"""A device name (``auto``, ``cpu`` or ``cuda``) → a :class:`torch.device`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from emi_core.errors import ConfigError

if TYPE_CHECKING:
    import torch

DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA when torch sees a GPU, else the CPU; ``cuda`` without a GPU is an error."""
    import torch  # here, so that building the CLI parser does not import torch

    if name not in DEVICES:
        raise ConfigError(f"unknown device {name!r}; expected one of {', '.join(DEVICES)}")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for, but torch sees no CUDA GPU (use 'cpu' or 'auto')")
    return torch.device(name)
