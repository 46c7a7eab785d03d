"""What the subcommands share: usage errors, reading texts, the metadata saved beside a fitted model."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from skgliclass.files import write_atomic

__all__ = [
    "META_FILE",
    "UsageError",
    "load_estimator",
    "load_folder",
    "read_lines",
    "read_meta",
    "split_labels",
    "write_meta",
]

# Written by ``skgliclass fit`` next to the checkpoint: what ``classify --model DIR`` needs to predict alike.
META_FILE = "skgliclass.json"
# The fitted estimator, saved beside the checkpoint when it holds more than the model (an embedding head).
ESTIMATOR_FILE = "estimator.skops"


class UsageError(Exception):
    """A problem with the command line or its input files (exit code 2)."""


def split_labels(value: str, sep: str = ",") -> list[str]:
    """``"a, b,c"`` -> ``["a", "b", "c"]``; empty names are refused."""
    labels = [part.strip() for part in value.split(sep)]
    if not value.strip() or any(not label for label in labels):
        raise UsageError(f"--labels must name labels separated by {sep!r}, got {value!r}.")
    return labels


def _open(path: str) -> TextIO:
    if path == "-":
        return sys.stdin
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"no such file: {path}")
    return file.open(encoding="utf-8")


def read_lines(paths: Sequence[str]) -> Iterator[str]:
    """One text per line from the files in order (``-`` or none: standard input), newlines removed."""
    for path in paths or ["-"]:
        stream = _open(path)
        try:
            for line in stream:
                yield line.rstrip("\r\n")
        finally:
            if stream is not sys.stdin:
                stream.close()


def write_meta(directory: Path, meta: dict[str, Any]) -> None:

    text = json.dumps(meta, indent=1, ensure_ascii=False)
    write_atomic(directory / META_FILE, lambda path: path.write_text(text, encoding="utf-8"))


def read_meta(model: str | None) -> dict[str, Any]:
    """The metadata ``fit`` saved with a model folder (empty for other models)."""
    if model is None:
        return {}
    path = Path(model) / META_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def load_estimator(args: Any) -> Any:
    """The model ``classify`` and ``review`` predict with: a `fit` folder's estimator as fitted, else zero-shot on
    ``--labels`` (or the labels the folder was trained on)."""
    from skgliclass import GLiClassZeroShot

    meta = read_meta(args.model)
    labels = split_labels(args.labels) if args.labels else meta.get("labels")
    if not labels:
        raise UsageError("--labels is required (e.g. --labels sport,politics,tech) unless --model is a `fit` folder.")
    trained = labels == meta.get("labels")
    multi_label = args.multi_label or (trained and meta.get("multi_label", False))
    threshold = args.threshold if args.threshold is not None else (meta.get("threshold", 0.5) if trained else 0.5)
    if threshold != "auto" and not 0 < threshold < 1:
        raise UsageError(f"--threshold must be between 0 and 1, got {threshold}.")
    saved = Path(args.model) / ESTIMATOR_FILE if args.model else None
    same_kind = bool(multi_label) == bool(meta.get("multi_label", False))
    as_fitted = trained and same_kind and saved is not None and saved.is_file() and not args.adapt_on
    if threshold == "auto" and not as_fitted:  # the learnt thresholds live in the saved estimator only
        threshold = 0.5
    if as_fitted:
        import skops.io as sio

        import skgliclass

        clf = sio.load(saved, trusted=skgliclass.TRUSTED_TYPES)  # the model, its head and its map, as fitted
        return clf.set_params(threshold=threshold, batch_size=args.batch_size, verbose=0)
    return GLiClassZeroShot(
        model=args.model,
        labels=labels,
        label_descriptions=meta.get("label_descriptions") if trained else None,
        prompt=meta.get("prompt") if trained else None,
        multi_label=bool(multi_label),
        threshold=threshold,
        batch_size=args.batch_size,
        max_length=args.max_length or meta.get("max_length"),
        device=args.device,
        adapt=bool(args.adapt_on),
    ).fit(list(read_lines(args.adapt_on)) if args.adapt_on else None)


def load_folder(
    model: str,
    labels: str | None = None,
    *,
    multi_label: bool | None = None,
    threshold: float | None = None,
    batch_size: int = 16,
    max_length: int | None = None,
    device: str = "auto",
) -> Any:
    """:func:`load_estimator` from plain values (``labels`` comma-separated), for commands and the server."""
    args = argparse.Namespace(
        model=model,
        labels=labels,
        multi_label=multi_label,
        threshold=threshold,
        batch_size=batch_size,
        max_length=max_length,
        device=device,
        adapt_on=None,
    )
    return load_estimator(args)
