"""Reviewers' verdicts on proposed labels, read from a log and turned into partial targets.

A verdict says whether a label is right (1) or wrong (0) for a text: it is that (text, label) entry's
target. Which entries a reviewer was shown depends only on the texts and the model that proposed
them, never on the answers, so a loss over the judged entries learns the same probabilities as one
over complete labels. When each text has one label (single-label), a label judged right also
settles every other label of that text as wrong; the labels no verdict is about can take the
starting model's belief given the verdicts (``fill_unknown``), weighed as a fixed amount of evidence that the
verdicts outweigh as they accumulate (``fill_weights``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "PICKS",
    "STRATEGIES",
    "FeedbackLog",
    "choose_labels",
    "choose_proposals",
    "feedback_targets",
    "fill_unknown",
    "fill_weights",
    "random_rows",
    "read_feedback",
]

STRATEGIES = ("random", "uncertainty")
# The start's belief on the entries no verdict is about weighs as much as this many judged texts' worth of them:
# a prior that holds a small log near the start and fades as verdicts outnumber it.
START_BELIEF_TEXTS = 50


PICKS = ("random", "closest")


@dataclass
class FeedbackLog:
    """A reviewers' log, one row per verdict (see :func:`read_feedback`).

    Parameters
    ----------
    texts : list of str
        The text each verdict is about.
    labels : list of str
        The label that was shown.
    verdicts : ndarray of shape (n_rows,)
        1 when the reviewer judged the label right, 0 when wrong.
    random_pick : ndarray of shape (n_rows,)
        Whether the text was drawn at random (``pick`` other than ``"closest"``; all True for a log without
        that column): only such texts may be held out to judge training.

    Examples
    --------
    >>> import numpy as np
    >>> from skgliclass.feedback import FeedbackLog
    >>> log = FeedbackLog(["a"], ["x"], np.array([1]), np.array([True]))
    >>> log.verdicts.tolist()
    [1]
    """

    texts: list[str]
    labels: list[str]
    verdicts: np.ndarray
    random_pick: np.ndarray

    def random_texts(self, texts: Sequence[str]) -> np.ndarray:
        """For each of ``texts``, whether a row of the log drew it at random.

        Parameters
        ----------
        texts : sequence of str

        Returns
        -------
        ndarray of bool, shape (n_texts,)

        Examples
        --------
        >>> from skgliclass.feedback import read_feedback
        >>> log = read_feedback(None, {"text": ["a", "b"], "label": ["x", "x"], "verdict": [1, 0],
        ...                            "pick": ["random", "closest"]})
        >>> log.random_texts(["a", "b", "c"]).tolist()
        [True, False, False]
        """
        drawn = {text for text, chosen in zip(self.texts, self.random_pick, strict=True) if chosen}
        return np.array([text in drawn for text in texts], dtype=bool)


def read_feedback(X: Any, feedback: Any) -> FeedbackLog:
    """Read a reviewers' log into a :class:`FeedbackLog`, checking its columns and verdicts.

    Parameters
    ----------
    X : sequence of str or None
        One text per row of ``feedback``; None takes the texts from its ``text`` column.
    feedback : mapping of columns or sequence of row mappings
        Columns ``label`` and ``verdict`` (1 or 0; True or False), ``text`` when ``X`` is None,
        and optionally ``pick`` (``"random"`` or ``"closest"``, as :meth:`GLiClassifier.propose` logs it). A
        dict of lists and a pandas DataFrame both work.

    Returns
    -------
    FeedbackLog

    Examples
    --------
    >>> from skgliclass.feedback import read_feedback
    >>> log = read_feedback(None, {"text": ["a", "b"], "label": ["x", "y"], "verdict": [1, 0]})
    >>> log.labels, log.verdicts.tolist()
    (['x', 'y'], [1, 0])
    """
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
    picks = [_pick(p) for p in columns["pick"]] if "pick" in columns else ["random"] * len(labels)
    return FeedbackLog(texts, labels, right, np.array([p == "random" for p in picks], dtype=bool))


def feedback_targets(log: FeedbackLog, classes: Sequence[str], single_label: bool) -> tuple[list[str], np.ndarray]:
    """The log's distinct texts and their targets: 1 (right), 0 (wrong) or -1 (no verdict) per class.

    A later verdict on the same (text, label) replaces an earlier one.

    Parameters
    ----------
    log : FeedbackLog
        Verdicts, as :func:`read_feedback` returns them.
    classes : sequence of str
        The columns of the targets; every label of the log must be one of them.
    single_label : bool
        When True, a text with a label judged right gets 0 for every other label (the latest right one wins
        when a reviewer changed their mind).

    Returns
    -------
    texts : list of str
        The distinct texts, in the order they first appear.
    targets : ndarray of shape (n_texts, n_classes)

    Examples
    --------
    >>> from skgliclass.feedback import feedback_targets, read_feedback
    >>> log = read_feedback(None, {"text": ["a", "a", "b"], "label": ["x", "y", "y"], "verdict": [0, 1, 0]})
    >>> texts, targets = feedback_targets(log, ["x", "y", "z"], single_label=True)
    >>> texts, targets.tolist()
    (['a', 'b'], [[0, 1, 0], [-1, 0, -1]])
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


def fill_weights(targets: np.ndarray, unknown: float, prior_texts: float | None = None) -> np.ndarray:
    """Loss weights ``(n, C)`` for :func:`fill_unknown`'s targets: 1 on judged entries, ``min(1, prior_texts / n)``
    on the filled ones (``n`` texts), so the start's belief counts as at most ``prior_texts`` texts' worth
    (default ``START_BELIEF_TEXTS``)."""
    prior = START_BELIEF_TEXTS if prior_texts is None else prior_texts
    share = min(1.0, prior / max(len(targets), 1))
    return np.where(targets == unknown, share, 1.0).astype(np.float32)


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


def _pick(value: Any) -> str:
    """How a text was picked: ``"closest"`` or ``"random"`` (an empty cell, as from a log written by hand)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value == "":
        return "random"
    if value not in PICKS:
        raise ValueError(f"a pick is one of {list(PICKS)} (as propose() writes it), got {value!r}.")
    return str(value)


def choose_proposals(
    proba: np.ndarray, n: int | None, exploration: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Which texts to show by uncertainty and which label for each: ``(rows, columns, propensities, closest)``.

    ``n`` texts (all when None): the closest calls (the two most likely labels nearest each other) taken in
    turn with random draws, so that every prefix of the order is half of each. Closest calls alone are mostly
    wrong proposals about unusual texts: the random half keeps the verdicts, and the share of them held out
    to judge training, like the texts the model will meet. Labels as :func:`choose_labels` picks them.
    ``closest`` marks the texts taken as closest calls (never held out to judge training: they are not like
    the texts the model will meet). Random picks alone need no scores of the whole pool: :func:`random_rows`.
    """
    count = len(proba) if n is None else min(n, len(proba))
    rows, closest = _closest_and_random(proba, rng)
    rows, closest = rows[:count], closest[:count]
    columns, propensity = choose_labels(proba[rows], exploration, rng)
    return rows, columns, propensity, closest


def random_rows(n_texts: int, n: int | None, rng: np.random.Generator) -> np.ndarray:
    """``n`` of ``n_texts`` rows (all when None) drawn at random, in order. The draw needs no scores, so a caller
    can score only the rows drawn."""
    return np.sort(rng.permutation(n_texts)[: n_texts if n is None else min(n, n_texts)])


def choose_labels(proba: np.ndarray, exploration: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The label to show for each row of ``proba`` and the chance it had of being shown: the most likely one, or
    with probability ``exploration`` one drawn uniformly."""
    top = proba.argmax(1)
    explore = rng.random(len(proba)) < exploration
    columns = np.where(explore, rng.integers(0, proba.shape[1], len(proba)), top)
    return columns, exploration / proba.shape[1] + (1 - exploration) * (columns == top)


def _closest_and_random(proba: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """All rows, ordered: the closest call not yet taken, then a random row not yet taken, and so on; and
    whether each was taken as a closest call."""
    ranked = np.sort(proba, axis=1)
    margin = ranked[:, -1] - ranked[:, -2] if proba.shape[1] > 1 else np.abs(ranked[:, -1] - 0.5)
    queues = (iter(np.argsort(margin, kind="stable")), iter(rng.permutation(len(proba))))
    taken = np.zeros(len(proba), dtype=bool)
    order: list[int] = []
    closest: list[bool] = []
    while len(order) < len(proba):
        for which, queue in enumerate(queues):
            row = next((r for r in queue if not taken[r]), None)
            if row is not None:
                taken[row] = True
                order.append(int(row))
                closest.append(which == 0)
    return np.asarray(order, dtype=np.intp), np.asarray(closest, dtype=bool)
