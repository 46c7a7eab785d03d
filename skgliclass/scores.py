"""From logits to probabilities and decisions, in numpy alone: shared by the estimators and the torch-free runtime.

Everything here is plain array arithmetic, so that a model exported to ONNX maps its logits exactly as the
fitted estimator does: the calibration map, the embedding head's mix, the softmax or sigmoids, predict's rule.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "LOG_FLOOR",
    "apply_calibration",
    "decide",
    "decision_scores",
    "expit",
    "linear_log_proba",
    "log_softmax",
    "mix",
    "probabilities",
    "softmax",
]

LOG_FLOOR = 1e-6  # a head's probability never counts as certain: one wrong zero would veto the other head


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """``log(softmax(x))`` along ``axis``, computed stably."""
    x = np.asarray(x, dtype=np.float64)
    top = np.max(x, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    shifted = x - top
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Rows that sum to one along ``axis``."""
    return np.exp(log_softmax(x, axis=axis))


def expit(x: np.ndarray) -> np.ndarray:
    """The logistic sigmoid, without overflow warnings for large negative inputs."""
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def apply_calibration(logits: np.ndarray, calibration: dict | None) -> np.ndarray:
    """``scale * logits + bias`` per class, or ``logits`` unchanged when ``calibration`` is None.

    Parameters
    ----------
    logits : ndarray of shape (n_samples, n_classes)
        The model's scores.
    calibration : dict or None
        A map from :func:`skgliclass.calibration.fit_calibration` (an estimator's ``calibration_``).

    Returns
    -------
    ndarray of shape (n_samples, n_classes)

    Examples
    --------
    >>> import numpy as np
    >>> apply_calibration(np.array([[2.0, -1.0]]), {"scale": np.array([0.5, 0.5]), "bias": np.zeros(2)})
    array([[ 1. , -0.5]])
    """
    if calibration is None:
        return logits
    return logits * np.asarray(calibration["scale"]) + np.asarray(calibration["bias"])


def probabilities(logits: np.ndarray, multilabel: bool) -> np.ndarray:
    """``predict_proba`` from final scores: independent sigmoids clipped into (0, 1), or softmax rows."""
    if multilabel:
        eps = np.finfo(np.float64).eps
        return np.clip(expit(logits), eps, 1 - eps)
    return softmax(logits, axis=1)


def decision_scores(logits: np.ndarray, multilabel: bool) -> np.ndarray:
    """``decision_function`` from final scores: as they are, or for two classes single-label the second less the
    first, ``(n,)``, as scikit-learn's binary classifiers give it."""
    if not multilabel and logits.shape[1] == 2:
        return logits[:, 1] - logits[:, 0]
    return logits


def decide(proba: np.ndarray, classes: np.ndarray, thresholds: np.ndarray | None = None) -> np.ndarray:
    """``predict`` from probabilities: ``classes[argmax]``, or with ``thresholds`` (multi-label) the 0/1
    indicator ``proba >= thresholds``."""
    if thresholds is not None:
        return (proba >= thresholds).astype(np.int64)
    return classes[proba.argmax(axis=1)]


def linear_log_proba(coef: np.ndarray, intercept: np.ndarray, vectors: np.ndarray, multilabel: bool) -> np.ndarray:
    """A logistic regression's log-probabilities ``(n, C)``: softmax rows, or each label's log-odds (multi-label)."""
    scores = np.asarray(vectors, dtype=np.float64) @ np.asarray(coef, dtype=np.float64).T + intercept
    return scores if multilabel else log_softmax(scores, axis=1)


def mix(model_logits: np.ndarray, head: np.ndarray, weights: tuple[float, float], multilabel: bool) -> np.ndarray:
    """``a`` times the model's log-probabilities plus ``b`` times the head's, for ``weights = (a, b)``.

    Single-label: the weighted sum of log-probabilities (a weighted geometric mean of the two
    distributions, renormalised by the softmax that follows). Multi-label: of each label's log-odds.
    """
    a, b = weights
    if multilabel:
        return a * model_logits + b * head
    return a * log_softmax(model_logits, axis=1) + b * np.maximum(head, np.log(LOG_FLOOR))
