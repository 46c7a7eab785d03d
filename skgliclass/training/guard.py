"""How well scores explain held-out verdicts once each model has its own best temperature.

A model fresh from zero-shot and the same model after fine-tuning differ in confidence as much as in
ranking: compared on raw log-loss, the sharper one wins even where it ranks worse. Fitting each
model's temperature on the held-out verdicts first compares what they know, not how loud they say it.
A logged-feedback fit also asks more than a likelihood gain: one beyond two standard errors (``FEEDBACK_Z``),
and as much right as before: multi-label, the labels reviewers confirmed still on top (:func:`confirmed_kept`);
single-label, a lower bound on the texts right, where a text moved off a label judged wrong is a guess among the
labels left (:func:`pinned`, :func:`expected_right`, :func:`right_bound`; ``FEEDBACK_KEEP``, ``KEEP_GUESS_Z``).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize, minimize_scalar
from scipy.special import log_softmax

__all__ = [
    "FEEDBACK_KEEP",
    "FEEDBACK_Z",
    "KEEP_GUESS_Z",
    "calibrated_nll",
    "class_balance",
    "clear_gain",
    "confirmed_kept",
    "expected_right",
    "guard_loss",
    "judged",
    "kept_right",
    "pinned",
    "right_bound",
    "verdict_nll",
]

_LOG_T = (-4.0, 4.0)  # temperatures from 0.02 to 55: wider than any fitted model needs
# A logged-feedback epoch replaces the start only with a gain beyond two standard errors: at one, 12-20 held-out
# verdicts let chance gains through (4 of 35 traced draws ended over a point below the start, feedback_guard.py).
FEEDBACK_Z = 2.0
# ... and only while it keeps nine in ten as much right on the held-out texts as the start: a wrong verdict is
# satisfied by moving probability anywhere, which the likelihood rewards where it moves it wrongly too.
FEEDBACK_KEEP = 0.9
# Single-label, the labels on top are counted as texts right: texts judged wrong that an epoch moves to labels not
# ruled out count as guesses among those left, less this many standard deviations of them (a likelihood gain from
# moving off wrong labels alone is luck on a dozen verdicts: Commons speeches, 50 verdicts, seed 2, -4.7 points).
KEEP_GUESS_Z = 2.0


def judged(targets: np.ndarray) -> np.ndarray:
    """Which rows hold at least one verdict (a 1 or a 0)."""
    return ((targets == 0) | (targets == 1)).any(1)


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


def calibrated_nll(
    logits: np.ndarray, targets: np.ndarray, multilabel: bool, weights: np.ndarray | None = None
) -> tuple[float, np.ndarray]:
    """The (``weights``-weighted) mean verdict NLL after fitting a temperature (single-label) or a scale and bias
    (multi-label) to these logits and verdicts, and the per-row values at that fit (unweighted)."""
    logits = np.asarray(logits, dtype=np.float64)
    seen = judged(targets)
    if not seen.any():
        return 0.0, np.zeros(len(logits))
    w = np.ones(len(logits)) if weights is None else np.asarray(weights, dtype=np.float64)
    logits, targets, w = logits[seen], targets[seen], w[seen]
    if multilabel:
        fitted = minimize(
            lambda p: np.average(verdict_nll(logits, targets, True, np.exp(p[0]), p[1]), weights=w),
            x0=np.zeros(2),
            method="L-BFGS-B",
            bounds=[_LOG_T, (-20.0, 20.0)],
        )
        scale, bias = float(np.exp(fitted.x[0])), float(fitted.x[1])
    else:
        fitted = minimize_scalar(
            lambda s: np.average(verdict_nll(logits, targets, False, np.exp(s)), weights=w),
            bounds=_LOG_T,
            method="bounded",
        )
        scale, bias = float(np.exp(fitted.x)), 0.0
    rows = np.zeros(len(seen))
    rows[seen] = verdict_nll(logits, targets, multilabel, scale, bias)
    return float(np.average(rows[seen], weights=w)), rows


def class_balance(targets: np.ndarray) -> np.ndarray:
    """Row weights, mean 1, under which every class weighs the same (as in macro-F1), from single-label verdicts.

    A row judged right belongs to its label; a row with wrong labels only is spread evenly over the labels
    not ruled out (in a two-class task, the other one); a row without verdicts weighs 0. A model that gains
    likelihood by predicting the common class more is then not preferred for it.
    """
    right, wrong = targets == 1, targets == 0
    share = np.where(right.any(1, keepdims=True), right, ~wrong & wrong.any(1, keepdims=True)).astype(np.float64)
    share /= np.maximum(share.sum(1, keepdims=True), 1.0)
    mass = share.sum(0)
    weights = (share / np.where(mass > 0, mass, 1.0)).sum(1)
    return weights / weights.mean() if weights.any() else np.ones(len(targets))


def guard_loss(logits: np.ndarray, verdicts: np.ndarray, multilabel: bool) -> tuple[float, np.ndarray]:
    """What a feedback guard minimises: the calibrated verdict NLL, single-label rows weighted so that every
    class weighs the same, and each judged row's share of that mean (for :func:`clear_gain`)."""
    seen = judged(verdicts)
    weights = np.ones(len(verdicts)) if multilabel else class_balance(verdicts)
    mean, rows = calibrated_nll(logits, verdicts, multilabel, weights)
    # each row's share of the weighted mean, so that a paired test over rows weighs them as the mean does
    return mean, rows[seen] * weights[seen] / weights[seen].mean()


def confirmed_kept(logits: np.ndarray, verdicts: np.ndarray) -> np.ndarray:
    """For each label judged right (``verdicts == 1``), whether ``logits`` still rank it among its text's top
    labels (as many as the text has labels judged right): a flat array, one entry per confirmed label."""
    right = verdicts == 1
    return (_ranks(logits) < right.sum(1, keepdims=True))[right]


def _ranks(logits: np.ndarray) -> np.ndarray:
    """Each label's rank within its row: how many labels score higher (tied labels share a rank)."""
    logits = np.asarray(logits)
    return (logits[:, None, :] > logits[:, :, None]).sum(2)


def expected_right(logits: np.ndarray, verdicts: np.ndarray) -> np.ndarray:
    """Single-label: for each held-out text, the chance that its top label is right as far as its verdicts tell.

    1 or 0 where they pin its label down (:func:`pinned`); where they only rule labels out, a top label not
    ruled out is a guess among the labels left (``1 / labels left``) and one ruled out is 0; rows without
    verdicts count 0. Summed, the number of texts a model gets right, counting what a "wrong" leaves open as
    no better than a guess: a model that moves a text off a label judged wrong gains that much, and one
    that loses a confirmed label loses a whole text.
    """
    verdicts = pinned(verdicts)
    right, wrong = verdicts == 1, verdicts == 0
    on_top = _ranks(logits) == 0  # no label scores higher (ties: all on top)
    hit = (on_top & right).any(1).astype(np.float64)
    left = (~wrong).sum(1)
    guess = (on_top & ~wrong).any(1) / np.maximum(left, 1)
    return np.where(right.any(1), hit, np.where(wrong.any(1), guess, 0.0))


def right_bound(logits: np.ndarray, verdicts: np.ndarray, z: float = KEEP_GUESS_Z) -> float:
    """Single-label: a lower bound on how many held-out texts have their right label on top: those the verdicts
    pin down, plus the guesses of :func:`expected_right` less ``z`` standard deviations of them (each a Bernoulli
    draw), never less than none. Where every verdict pins its text's label (two classes) it is the count of
    pinned labels on top, and moving a text off a label judged wrong never lowers it."""
    right = expected_right(logits, verdicts)
    guesses = (right > 0) & (right < 1)
    spread = z * np.sqrt(np.sum(right[guesses] * (1.0 - right[guesses])))
    return float(right[~guesses].sum() + max(0.0, right[guesses].sum() - spread))


def kept_right(logits: np.ndarray, verdicts: np.ndarray, multilabel: bool) -> float:
    """What a model keeps right on held-out verdicts, the keep rule's count: multi-label, the confirmed labels it
    still ranks on top (:func:`confirmed_kept`); single-label, the lower bound of :func:`right_bound`."""
    if multilabel:
        return float(confirmed_kept(logits, verdicts).sum())
    return right_bound(logits, verdicts)


def pinned(verdicts: np.ndarray) -> np.ndarray:
    """Single-label verdicts with each label they pin down marked right: a row with no label judged right and
    every label but one judged wrong has that one (in a two-class task, "wrong" names the other class)."""
    out = np.array(verdicts, copy=True)
    open_ = out != 0
    only = ~(out == 1).any(1) & (out == 0).any(1) & (open_.sum(1) == 1)
    out[only] = np.where(open_[only], 1, out[only])
    return out


def clear_gain(before: np.ndarray, after: np.ndarray, z: float) -> bool:
    """Whether per-row losses ``after`` beat ``before`` (the same rows) by more than ``z`` standard errors of
    the paired differences: a handful of held-out verdicts moves the mean by chance as much as by learning."""
    gain = np.asarray(before, dtype=np.float64) - np.asarray(after, dtype=np.float64)
    if len(gain) < 2:
        return False
    return bool(gain.mean() > z * gain.std(ddof=1) / np.sqrt(len(gain)))
