"""Reviewers' verdicts on proposed labels, read from a log and turned into partial targets.

A verdict says whether a label is right (1) or wrong (0) for a text: it is that (text, label) entry's
target. Which entries a reviewer was shown depends only on the texts and the model that proposed
them, never on the answers, so a loss over the judged entries learns the same probabilities as one
over complete labels. When each text has one label (single-label), a label judged right also
settles every other label of that text as wrong; the labels no verdict is about can take the
starting model's belief given the verdicts (``fill_unknown``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["STRATEGIES", "FeedbackLog", "choose_proposals", "feedback_targets", "fill_unknown", "read_feedback"]

STRATEGIES = ("random", "uncertainty")


@dataclass
class FeedbackLog:
    """One row per verdict: the text, the label shown, and the verdict (1 right, 0 wrong)."""

    texts: list[str]
    labels: list[str]
    verdicts: np.ndarray


def read_feedback(X: Any, feedback: Any) -> FeedbackLog:
    """Read ``feedback``: columns ``label`` and ``verdict`` (and ``text`` when ``X`` is None), as a mapping of
    columns (a dict, a pandas DataFrame) or a sequence of row mappings; ``X`` holds one text per row."""
    columns = _columns(feedback)
    missing = [name for name in ("label", "verdict") if name not in columns]
    if missing:
        raise ValueError(f"feedback needs the columns 'label' and 'verdict'; missing {missing}.")
    labels = [str(label) for label in columns["label"]]
    if X is None:
        if "text" not in columns:
            raise ValueError("feedback without X needs a 'text' column (or pass the texts as X, one per row).")
        texts = list(columns["text"])
    else:
        texts = list(X)
    if len(texts) != len(labels):
        raise ValueError(f"feedback has {len(labels)} rows but there are {len(texts)} texts; give one text per row.")
    if not labels:
        raise ValueError("feedback is empty; give at least one verdict.")
    bad = [t for t in texts if not isinstance(t, str)]
    if bad:
        raise TypeError(f"feedback texts must be strings, got {type(bad[0]).__name__}.")
    verdicts = np.asarray(list(columns["verdict"]), dtype=object)
    right = np.array([_verdict(v) for v in verdicts], dtype=np.int8)
    return FeedbackLog(texts, labels, right)


def feedback_targets(log: FeedbackLog, classes: Sequence[str], single_label: bool) -> tuple[list[str], np.ndarray]:
    """The log's distinct texts (first-seen order) and their targets ``(n, C)``: 1, 0, or -1 for unknown.

    A later verdict on the same (text, label) replaces an earlier one. ``single_label``: a text with a label
    judged right gets 0 for every other label (the latest right one wins when a reviewer changed their mind).
    """
    column = {name: j for j, name in enumerate(classes)}
    unknown = sorted(set(log.labels) - set(column))
    if unknown:
        raise ValueError(f"feedback names labels that are not classes: {unknown[:5]}; the classes are {list(classes)}.")
    row: dict[str, int] = {}
    for text in log.texts:
        row.setdefault(text, len(row))
    targets = np.full((len(row), len(classes)), -1, dtype=np.int8)
    last_right: dict[int, int] = {}
    for text, label, verdict in zip(log.texts, log.labels, log.verdicts, strict=True):
        i, j = row[text], column[label]
        targets[i, j] = verdict
        if verdict == 1:
            last_right[i] = j
        elif last_right.get(i) == j:
            del last_right[i]
    if single_label:
        for i, j in last_right.items():
            targets[i] = 0
            targets[i, j] = 1
    return list(row), targets


def fill_unknown(targets: np.ndarray, start: np.ndarray, single_label: bool, unknown: float) -> np.ndarray:
    """Targets with every unknown entry (``unknown``) set to what the starting model believes given the verdicts.

    ``start`` holds the starting model's ``predict_proba`` of the same texts. Single-label: a row without a
    right label gets the start's probabilities of the labels not judged wrong, renormalised (its belief
    given "not these"); multi-label: each unknown label its own start probability. A verdict then moves what
    it is about and leaves the rest where the start had it, instead of teaching "no" by omission.
    """
    filled = targets.astype(np.float32, copy=True)
    missing = filled == unknown
    if single_label:
        allowed = np.where(filled == 0, 0.0, start)
        total = allowed.sum(1, keepdims=True)
        even = (filled != 0) / np.maximum((filled != 0).sum(1, keepdims=True), 1)  # the start ruled all of them out
        belief = np.where(total > 0, allowed / np.where(total > 0, total, 1.0), even)
        filled[missing] = belief[missing]
    else:
        filled[missing] = start[missing]
    return filled


def _columns(feedback: Any) -> Mapping[str, Any]:
    if isinstance(feedback, Mapping) or hasattr(feedback, "columns"):  # a dict of columns, or a DataFrame
        return {
            str(name): list(feedback[name])
            for name in (feedback.keys() if isinstance(feedback, Mapping) else feedback.columns)
        }
    if isinstance(feedback, Sequence) and not isinstance(feedback, str):
        rows = list(feedback)
        if not all(isinstance(r, Mapping) for r in rows):
            raise TypeError("feedback as a sequence must hold one mapping per row, e.g. {'label': ..., 'verdict': 1}.")
        names = {name for r in rows for name in r}
        return {str(name): [r.get(name) for r in rows] for name in names}
    raise TypeError(
        f"feedback must be a mapping of columns, a DataFrame or a list of rows, got {type(feedback).__name__}."
    )


def _verdict(value: Any) -> int:
    """A verdict as 0 or 1 (bools and 0/1 numbers; anything else is refused)."""
    if isinstance(value, (bool, np.bool_)) or (
        isinstance(value, (int, float, np.integer, np.floating)) and value in (0, 1)
    ):
        return int(value)
    raise ValueError(f"a verdict must be 1 (right) or 0 (wrong), got {value!r}.")


def choose_proposals(
    proba: np.ndarray, n: int | None, strategy: str, exploration: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which texts to show and which label for each: ``(rows, columns, propensities)``.

    ``n`` texts (all when None): drawn at random, or (``"uncertainty"``) the closest calls (the two most
    likely labels nearest each other) taken in turn with random draws, so that every prefix of the order is
    half of each. Closest calls alone are mostly wrong proposals about unusual texts: the random half keeps
    the verdicts, and the share of them held out to judge training, like the texts the model will meet.
    Each text shows its most likely label, or with probability ``exploration`` a label drawn uniformly;
    the propensity is the chance the shown label had of being chosen.
    """
    count = len(proba) if n is None else min(n, len(proba))
    if strategy == "uncertainty":
        rows = _closest_and_random(proba, rng)[:count]
    else:
        rows = np.sort(rng.permutation(len(proba))[:count])
    top = proba[rows].argmax(1)
    explore = rng.random(len(rows)) < exploration
    columns = np.where(explore, rng.integers(0, proba.shape[1], len(rows)), top)
    propensity = exploration / proba.shape[1] + (1 - exploration) * (columns == top)
    return rows, columns, propensity


def _closest_and_random(proba: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """All rows, ordered: the closest call not yet taken, then a random row not yet taken, and so on."""
    ranked = np.sort(proba, axis=1)
    margin = ranked[:, -1] - ranked[:, -2] if proba.shape[1] > 1 else np.abs(ranked[:, -1] - 0.5)
    queues = (iter(np.argsort(margin, kind="stable")), iter(rng.permutation(len(proba))))
    taken = np.zeros(len(proba), dtype=bool)
    order: list[int] = []
    while len(order) < len(proba):
        for queue in queues:
            row = next((r for r in queue if not taken[r]), None)
            if row is not None:
                taken[row] = True
                order.append(int(row))
    return np.asarray(order, dtype=np.intp)
