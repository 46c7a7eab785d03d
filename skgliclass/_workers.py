"""What a cluster worker or actor does with a fitted estimator, shared by the Dask and Ray front ends."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from skgliclass.inference import resolve_device

__all__ = ["on_device", "proba_columns", "proba_of"]


def on_device(estimator: Any, device: str | None) -> Any:
    """``estimator`` with its model on ``device`` (``"auto"``: this process's GPU if it has one).

    Moves in place and only when needed, so calling it for every batch costs nothing after the first.
    """
    if device is None:
        return estimator
    target = resolve_device(device)
    if estimator.device_ != target:
        estimator.set_params(device=device)
        estimator._setup_inference(estimator.model_, estimator.tokenizer_, target)
    return estimator


def proba_columns(estimator: Any, prefix: str) -> list[str]:
    """Column names of the probabilities: ``prefix + class``, in ``classes_`` order."""
    return [f"{prefix}{c}" for c in estimator.classes_]


def proba_of(estimator: Any, texts: Sequence[str]) -> np.ndarray:
    """``predict_proba`` of a partition or batch; an empty one gives ``(0, n_classes)`` instead of an error."""
    texts = list(texts)
    return estimator.predict_proba(texts) if texts else np.zeros((0, len(estimator.classes_)))
