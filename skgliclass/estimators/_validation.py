"""Input checks shared by the estimators: texts, targets and labels, with messages that say how to fix them."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.preprocessing import MultiLabelBinarizer

from skgliclass.config import check_choice

__all__ = [
    "Targets",
    "check_labels",
    "check_number",
    "check_optional_choice",
    "check_positive_int",
    "check_targets",
    "check_texts",
]

_MARKERS = ("<<LABEL>>", "<<SEP>>", "<<EXAMPLE>>")


def check_texts(X: Any, name: str = "X") -> list[str]:
    """A list of ``str`` from a 1-D sequence, an ``(n, 1)`` array/DataFrame or a pandas Series."""
    if X is None:
        raise ValueError(f"{name} is None; pass a list of texts.")
    if isinstance(X, (str, bytes)):
        raise TypeError(f"{name} must be a sequence of texts, not a single {type(X).__name__}; wrap it: [{name}].")
    if hasattr(X, "iloc") and getattr(X, "ndim", 1) == 2:  # pandas DataFrame
        if X.shape[1] != 1:
            raise ValueError(f"{name} has {X.shape[1]} columns; pass the one text column, e.g. df['text'].")
        X = X.iloc[:, 0]
    if hasattr(X, "to_numpy"):
        X = X.to_numpy()
    if isinstance(X, np.ndarray):
        if X.ndim == 2 and X.shape[1] == 1:
            X = X[:, 0]
        elif X.ndim != 1:
            raise ValueError(f"{name} must be 1-D (one text per row); got an array of shape {X.shape}.")
    elif not isinstance(X, Sequence):
        X = list(X)
    texts = list(X)
    if not texts:
        raise ValueError(f"{name} is empty; pass at least one text.")
    for i, text in enumerate(texts):
        if isinstance(text, np.str_):
            texts[i] = str(text)
        elif not isinstance(text, str):
            kind = type(text).__name__
            raise TypeError(f"{name}[{i}] is {kind} ({text!r:.40}); every element must be a str. {_fix(text)}")
    return texts


def _fix(value: Any) -> str:
    """How to turn a non-text into text, by what it is."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "Fill missing texts first, e.g. df['text'].fillna('')."
    if isinstance(value, (bytes, bytearray)):
        return "Decode bytes first, e.g. value.decode('utf-8', errors='replace')."
    return "Convert the column to text first, e.g. [str(v) for v in X]."


def check_labels(labels: Any, name: str = "labels") -> list[str]:
    """Distinct, non-empty label names without the model's marker tokens."""
    if isinstance(labels, str) or labels is None:
        raise TypeError(f"{name} must be a list of label names, got {labels!r}.")
    out = [str(label) if isinstance(label, np.str_) else label for label in labels]
    if not out:
        raise ValueError(f"{name} is empty; give at least one label.")
    for label in out:
        if not isinstance(label, str) or not label.strip():
            raise ValueError(f"{name} must hold non-empty strings; got {label!r}.")
        if any(marker in label for marker in _MARKERS):
            raise ValueError(f"label {label!r} contains a reserved marker ({', '.join(_MARKERS)}); rename it.")
    duplicates = sorted({label for label in out if out.count(label) > 1})
    if duplicates:
        raise ValueError(f"{name} has duplicates: {duplicates}.")
    return out


@dataclass
class Targets:
    """Checked targets: ``Y`` as a 0/1 matrix ``(n, n_classes)`` and how to map predictions back."""

    Y: np.ndarray
    classes: np.ndarray
    multilabel: bool
    kind: str  # "labels" (1-D), "label-sets" (lists), "indicator" (0/1 matrix)


def check_targets(y: Any, n_samples: int | None, multi_label: bool | str = "auto") -> Targets:
    """Read y as 1-D labels, label lists or a 0/1 indicator matrix (see the estimator docs)."""
    if hasattr(y, "to_numpy"):
        y = y.to_numpy()
    if isinstance(y, np.ndarray) and y.ndim == 2:
        kind = "indicator"
        if not np.isin(y, (-1, 0, 1)).all():
            raise ValueError("a 2-D y must be an indicator matrix (n_samples, n_classes) of 1, 0 and -1 (unknown).")
        Y, classes = y.astype(np.int64), np.arange(y.shape[1])
    elif len(y) and all(isinstance(v, (list, tuple, set, frozenset)) for v in y):
        kind = "label-sets"
        binarizer = MultiLabelBinarizer()
        Y = binarizer.fit_transform([list(v) for v in y])
        classes = binarizer.classes_
    else:
        kind = "labels"
        values = np.asarray(y)
        if values.ndim != 1:
            raise ValueError(f"y must be 1-D labels, label lists or an indicator matrix; got shape {values.shape}.")
        if values.dtype.kind == "f" and not np.all(np.mod(values, 1) == 0):
            raise ValueError("Unknown label type: continuous y; a classifier needs discrete labels.")
        classes, codes = np.unique(values, return_inverse=True)
        Y = np.eye(len(classes), dtype=np.int64)[codes]
    if n_samples is not None and len(Y) != n_samples:
        raise ValueError(f"X has {n_samples} texts but y has {len(Y)} rows; they must match.")
    multilabel = kind != "labels" if multi_label == "auto" else bool(multi_label)
    if not multilabel and (Y < 0).any():
        raise ValueError("y marks unknown entries (-1), which only multi-label training can use; set multi_label=True.")
    if kind != "labels" and not multilabel and (Y.sum(1) != 1).any():
        raise ValueError("multi_label=False, but some rows of y hold zero or several labels.")
    return Targets(Y=Y, classes=classes, multilabel=multilabel, kind=kind)


def check_optional_choice(name: str, value: Any, choices: tuple[str, ...], optional: bool = False) -> None:
    """``value`` must be one of ``choices`` (or None when ``optional``)."""
    if not (optional and value is None):
        check_choice(name, value, choices)


def check_positive_int(name: str, value: Any) -> None:
    """``value`` must be an int >= 1 (not a bool)."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}.")


def check_number(
    name: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
    """``value`` must be a finite real number within the bounds (closed unless ``*_open``)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        bounds = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise ValueError(f"{name} must be a number in {bounds}, got {value!r}.")
