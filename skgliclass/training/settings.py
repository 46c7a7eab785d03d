"""The settings every training method reads (the estimator fills them from its parameters)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["TrainSettings", "Validation"]


@dataclass
class TrainSettings:
    """What a fit needs beyond the data (see :class:`~skgliclass.GLiClassifier` for each meaning)."""

    epochs: int
    batch_size: int
    learning_rate: float
    encoder_learning_rate: float
    weight_decay: float
    warmup_ratio: float
    focal_alpha: float | None
    focal_gamma: float
    label_smoothing: float
    contrastive_coef: float
    shuffle_labels: bool = True
    max_grad_norm: float = 1.0
    prompt: str | None = None
    objective: str = "focal"  # "focal", "softmax" (one label per text) or both summed: "focal+softmax"
    n_iter_no_change: int | None = None  # stop after this many epochs without a better validation loss
    tol: float = 1e-4
    autocast: bool = False  # bf16 autocast of the forward pass (mixed precision)
    multilabel: bool = False  # how scores are read: top-label accuracy, or per-label decisions at 0.5


@dataclass
class Validation:
    """Held-out texts scored after each epoch, with their targets ``(n, C)`` (None: a reward function judges).

    ``calibrated``: epochs are compared on the likelihood of the verdicts once each has its own best
    temperature (:func:`skgliclass.training.guard.calibrated_nll`), so a sharper model does not win on
    confidence alone; the training loss is used otherwise."""

    texts: Sequence[str]
    targets: np.ndarray | None
    calibrated: bool = False
