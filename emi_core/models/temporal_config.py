"""Hyper-parameters of the temporal regressor, importable without torch (e.g. for CLI help)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class TemporalConfig:
    """Hyper-parameters of one channel's regressor (JSON-serialisable via :meth:`to_dict`).

    ``max_len`` is the longest sequence seen at once: training crops to it, inference splits longer
    sequences into near-equal windows of at most ``max_len`` frames.
    """

    input_dim: int
    d_model: int = 128
    kernel_size: int = 3
    dilations: tuple[int, ...] = field(default=(1, 2, 4, 8))
    layers: int = 2
    heads: int = 4
    ff_dim: int = 256
    dropout: float = 0.1
    max_len: int = 256

    def __post_init__(self) -> None:
        object.__setattr__(self, "dilations", tuple(int(d) for d in self.dilations))
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (same padding), got {self.kernel_size}")
        if self.d_model % self.heads:
            raise ValueError(f"d_model ({self.d_model}) must be divisible by heads ({self.heads})")
        if min(self.input_dim, self.d_model, self.layers, self.heads, self.ff_dim, self.max_len) <= 0:
            raise ValueError(f"sizes must be positive: {self}")

    def to_dict(self) -> dict:
        """Plain JSON-ready dict."""
        data = asdict(self)
        data["dilations"] = list(self.dilations)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> TemporalConfig:
        """Inverse of :meth:`to_dict`."""
        return cls(**data)
