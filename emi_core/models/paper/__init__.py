"""The paper's model (Yu, Zhu & Zhu, CVPRW 2024): per-channel TCN + Transformer regressors, late fusion.

>>> from emi_core.models.paper import EMIModel
>>> model = EMIModel.from_pretrained("runs/paper")          # a checkpoint folder or a hub id
>>> model.predict(visual=[v], audio=[a])["fused"]           # (1, 6) intensities in [0, 1]
"""

from emi_core.models.paper.model import (
    CHANNEL_MODELS,
    AudioEMIModel,
    ChannelEMIModel,
    EMIModel,
    VisualEMIModel,
    channel_config,
)

__all__ = [
    "CHANNEL_MODELS",
    "AudioEMIModel",
    "ChannelEMIModel",
    "EMIModel",
    "VisualEMIModel",
    "channel_config",
]
