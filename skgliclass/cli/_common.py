"""What the subcommands share: usage errors, reading texts, the metadata saved beside a fitted model."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from skgliclass.files import write_atomic

__all__ = ["META_FILE", "UsageError", "read_lines", "read_meta", "split_labels", "write_meta"]

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
