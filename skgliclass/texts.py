"""The check every text input goes through, in numpy alone: the estimators and the torch-free runtime share it."""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

__all__ = ["check_positive_int", "check_texts", "is_missing", "text_chunks"]


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


def is_missing(value: Any) -> bool:
    """None, a float NaN (any float type), or pandas' NA / NaT."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    return isinstance(value, (float, np.floating)) and bool(np.isnan(value))


def _fix(value: Any) -> str:
    """How to turn a non-text into text, by what it is."""
    if is_missing(value):
        return "Fill missing texts first, e.g. df['text'].fillna('')."
    if isinstance(value, (bytes, bytearray)):
        return "Decode bytes first, e.g. value.decode('utf-8', errors='replace')."
    return "Convert the column to text first, e.g. [str(v) for v in X]."


def check_positive_int(name: str, value: Any) -> None:
    """``value`` must be an int >= 1 (not a bool)."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}.")


def text_chunks(X: Iterable[str], chunk_size: int) -> Iterator[list[str]]:
    """Lists of at most ``chunk_size`` texts read lazily from ``X`` (``predict_proba_iter``'s stream)."""
    check_positive_int("chunk_size", chunk_size)
    if isinstance(X, (str, bytes)):
        raise TypeError("X must be an iterable of texts, not a single str; wrap it: [X].")
    stream = iter(X)
    while chunk := list(itertools.islice(stream, chunk_size)):
        yield chunk
