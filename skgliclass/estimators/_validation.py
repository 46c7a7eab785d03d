"""Input checks shared by the estimators: texts, targets and labels, with messages that say how to fix them."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.exceptions import DataConversionWarning
from sklearn.preprocessing import MultiLabelBinarizer

from skgliclass.choices import MARKERS
from skgliclass.config import check_choice
from skgliclass.texts import check_positive_int, check_texts, is_missing

__all__ = [
    "Targets",
    "check_labels",
    "check_number",
    "check_optional_choice",
    "check_positive_int",
    "check_targets",
    "check_texts",
]


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
        if any(marker in label for marker in MARKERS):
            raise ValueError(f"label {label!r} contains a reserved marker ({', '.join(MARKERS)}); rename it.")
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
    names: list[str] | None = None  # an indicator DataFrame's column names


def _is_rectangular_numbers(y: Any) -> bool:
    """Rows that are lists/tuples of one length holding only numbers: an indicator, as scikit-learn reads it."""
    if not (isinstance(y, (list, tuple)) and y and all(isinstance(row, (list, tuple)) for row in y)):
        return False
    width = len(y[0])
    return width > 0 and all(
        len(row) == width and all(isinstance(v, numbers.Number) and not is_missing(v) for v in row) for row in y
    )


def _check_values(values: Sequence[Any], where: str) -> None:
    """No missing values, and not strings mixed with numbers (their order and equality are ambiguous)."""
    for i, value in enumerate(values):
        if is_missing(value):
            raise ValueError(f"{where}[{i}] is missing ({value!r}); drop those rows or fill them before fit.")
    kinds = {isinstance(v, str) for v in values}
    if len(kinds) == 2:
        example = next(v for v in values if not isinstance(v, str)), next(v for v in values if isinstance(v, str))
        raise ValueError(f"{where} mixes strings and numbers (e.g. {example[0]!r} and {example[1]!r}); use one type.")


def check_targets(y: Any, n_samples: int | None, multi_label: bool | str = "auto") -> Targets:
    """Read y as 1-D labels, label lists or a 0/1 indicator matrix (see the estimator docs)."""
    names = None
    if sparse.issparse(y):
        y = y.toarray()
    columns = list(getattr(y, "columns", []))
    if columns and not all(isinstance(c, (int, np.integer)) for c in columns):
        names = [str(c) for c in columns]  # named indicator columns are the label names
    if hasattr(y, "to_numpy"):
        y = y.to_numpy()
    from_lists = _is_rectangular_numbers(y)
    if from_lists:
        y = np.asarray(y)
    if isinstance(y, np.ndarray) and y.ndim == 2 and y.shape[1] == 1 and multi_label is not True:
        warnings.warn(
            "y is a column vector (n_samples, 1); it is read as 1-D labels. Pass y.ravel() (or multi_label=True "
            "for a one-label indicator).",
            DataConversionWarning,
            stacklevel=4,
        )
        y, names = y[:, 0], None
    if isinstance(y, np.ndarray) and y.ndim == 2:
        kind, (Y, classes) = "indicator", _from_indicator(y, names, from_lists)
    elif len(y) and all(isinstance(v, (list, tuple, set, frozenset, np.ndarray)) for v in y):
        kind = "label-sets"
        rows = [list(np.ravel(v)) if isinstance(v, np.ndarray) else list(v) for v in y]
        _check_values([v for row in rows for v in row], "a label list in y")
        binarizer = MultiLabelBinarizer()
        Y = binarizer.fit_transform(rows)
        classes = binarizer.classes_
    else:
        kind, (Y, classes) = "labels", _from_labels(y)
    if n_samples is not None and len(Y) != n_samples:
        raise ValueError(f"X has {n_samples} texts but y has {len(Y)} rows; they must match.")
    multilabel = kind != "labels" if multi_label == "auto" else bool(multi_label)
    if not multilabel and (Y < 0).any():
        raise ValueError("y marks unknown entries (-1), which only multi-label training can use; set multi_label=True.")
    if kind != "labels" and not multilabel and (Y.sum(1) != 1).any():
        raise ValueError("multi_label=False, but some rows of y hold zero or several labels.")
    return Targets(Y=Y, classes=classes, multilabel=multilabel, kind=kind, names=names)


def _from_indicator(y: np.ndarray, names: list[str] | None, from_lists: bool) -> tuple[np.ndarray, np.ndarray]:
    """An indicator ``y`` of 1, 0 and -1: the targets and the classes (its column names, else 0..C-1)."""
    if not np.isin(y, (-1, 0, 1)).all():
        hint = (
            " Rows of numbers of one length are read as an indicator, as scikit-learn does; give label lists "
            "of numbers as sets, e.g. [{3, 7}, {2}]."
            if from_lists
            else ""
        )
        raise ValueError(f"a 2-D y must be an indicator matrix (n_samples, n_classes) of 1, 0 and -1 (unknown).{hint}")
    classes = np.asarray(names, dtype=object) if names is not None else np.arange(y.shape[1])
    return y.astype(np.int64), classes


def _from_labels(y: Any) -> tuple[np.ndarray, np.ndarray]:
    """1-D labels: their one-hot targets and the sorted classes."""
    if isinstance(y, np.ndarray):
        values = y  # keeps its dtype (object for pandas columns), so classes_ does too
        if values.dtype.kind == "O":
            _check_values(values.ravel().tolist(), "y")
    else:
        items = list(y)
        _check_values(items, "y")
        values = np.asarray(items) if items else np.asarray(items, dtype=object)
    if values.ndim != 1:
        raise ValueError(f"y must be 1-D labels, label lists or an indicator matrix; got shape {values.shape}.")
    if values.dtype.kind == "f" and np.isnan(values).any():
        first = int(np.flatnonzero(np.isnan(values))[0])
        raise ValueError(f"y[{first}] is missing (nan); drop those rows or fill them before fit.")
    if values.dtype.kind == "f" and not np.all(np.mod(values, 1) == 0):
        raise ValueError("Unknown label type: continuous y; a classifier needs discrete labels.")
    classes, codes = np.unique(values, return_inverse=True)
    return np.eye(len(classes), dtype=np.int64)[codes], classes


def check_optional_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    """``value`` must be None or one of ``choices`` (required choices: :func:`~skgliclass.config.check_choice`)."""
    if value is not None:
        check_choice(name, value, choices)


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


def check_examples(examples: Any, names: Sequence[str], architecture: str) -> list[dict] | None:
    """In-context examples as ``[{"text": str, "labels": [names]}]`` (None when there are none)."""
    if examples is None:
        return None
    shape = 'a list of {"text": "...", "labels": ["a label", ...]}'
    if isinstance(examples, (str, Mapping)) or not isinstance(examples, Sequence) or not len(examples):
        raise ValueError(f"examples must be None or {shape}; got {examples!r:.80}.")
    if architecture == "bi-encoder":
        raise ValueError(
            "examples are read beside the labels, but a bi-encoder (such as the default model) reads each text "
            "alone; use a uni-encoder, fused bi-encoder or encoder-decoder checkpoint, or examples=None."
        )
    checked = []
    for example in examples:
        text = example.get("text") if isinstance(example, Mapping) else None
        labels = example.get("labels") if isinstance(example, Mapping) else None
        if not isinstance(text, str) or not text.strip() or isinstance(labels, str) or not isinstance(labels, Sequence):
            raise ValueError(f"each example must be {{'text': str, 'labels': [str, ...]}}; got {example!r:.80}.")
        unknown = sorted(set(map(str, labels)) - set(names))
        if unknown:
            raise ValueError(f"example labels {unknown} are not among the label names {list(names)}.")
        checked.append({"text": text, "labels": [str(label) for label in labels]})
    return checked
