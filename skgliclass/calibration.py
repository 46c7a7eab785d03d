"""How well scores explain held-out verdicts once each model has its own best temperature.

A model fresh from zero-shot and the same model after fine-tuning differ in confidence as much as in
ranking: compared on raw log-loss, the sharper one wins even where it ranks worse. Fitting each
model's temperature on the held-out verdicts first compares what they know, not how loud they say it.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize, minimize_scalar
from scipy.special import log_softmax

__all__ = ["calibrated_nll", "clear_gain", "verdict_nll"]

_LOG_T = (-4.0, 4.0)  # temperatures from 0.02 to 55: wider than any fitted model needs


def verdict_nll(logits: np.ndarray, targets: np.ndarray, multilabel: bool, scale: float = 1.0, bias: float = 0.0):
    """Negative log-likelihood of each row's verdicts under the probabilities of ``scale * logits + bias``.

    ``targets`` holds 1 (right), 0 (wrong) and negative values (no verdict). Single-label (softmax over the
    row; ``bias`` is unused): a row with a right label scores ``-log p(label)``, a row with wrong labels only
    ``-log(1 - sum of their p)``, the chance of what was observed. Multi-label: the mean Bernoulli
    log-loss of the row's judged entries. Rows without verdicts score 0.
    """
    z = scale * np.asarray(logits, dtype=np.float64)
    right, wrong = targets == 1, targets == 0
    if multilabel:
        z = z + bias
        # -log sigmoid(z) = logaddexp(0, -z); -log(1 - sigmoid(z)) = logaddexp(0, z)
        entry = np.where(right, np.logaddexp(0.0, -z), 0.0) + np.where(wrong, np.logaddexp(0.0, z), 0.0)
        return entry.sum(1) / np.maximum((right | wrong).sum(1), 1)
    log_p = log_softmax(z, axis=1)
    hit = -(log_p * right).sum(1)
    ruled_out = np.clip((np.exp(log_p) * wrong).sum(1), 0.0, 1.0 - 1e-12)
    miss = -np.log1p(-ruled_out)
    return np.where(right.any(1), hit, np.where(wrong.any(1), miss, 0.0))


def calibrated_nll(logits: np.ndarray, targets: np.ndarray, multilabel: bool) -> tuple[float, np.ndarray]:
    """The mean verdict NLL after fitting a temperature (single-label) or a scale and bias (multi-label)
    to these logits and verdicts, and the per-row values at that fit."""
    logits = np.asarray(logits, dtype=np.float64)
    judged = ((targets == 0) | (targets == 1)).any(1)
    if not judged.any():
        return 0.0, np.zeros(len(logits))
    logits, targets = logits[judged], targets[judged]
    if multilabel:
        fitted = minimize(
            lambda p: verdict_nll(logits, targets, True, np.exp(p[0]), p[1]).mean(),
            x0=np.zeros(2),
            method="L-BFGS-B",
            bounds=[_LOG_T, (-20.0, 20.0)],
        )
        scale, bias = float(np.exp(fitted.x[0])), float(fitted.x[1])
    else:
        fitted = minimize_scalar(
            lambda s: verdict_nll(logits, targets, False, np.exp(s)).mean(), bounds=_LOG_T, method="bounded"
        )
        scale, bias = float(np.exp(fitted.x)), 0.0
    rows = np.zeros(len(judged))
    rows[judged] = verdict_nll(logits, targets, multilabel, scale, bias)
    return float(rows[judged].mean()), rows


def clear_gain(before: np.ndarray, after: np.ndarray, z: float) -> bool:
    """Whether per-row losses ``after`` beat ``before`` (the same rows) by more than ``z`` standard errors of
    the paired differences: a handful of held-out verdicts moves the mean by chance as much as by learning."""
    gain = np.asarray(before, dtype=np.float64) - np.asarray(after, dtype=np.float64)
    if len(gain) < 2:
        return False
    return bool(gain.mean() > z * gain.std(ddof=1) / np.sqrt(len(gain)))
