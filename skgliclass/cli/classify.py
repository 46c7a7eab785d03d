"""``skgliclass classify``: one text per line in, one prediction per line out (JSON lines or CSV)."""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import sys
import warnings
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from skgliclass.cli._common import ESTIMATOR_FILE, UsageError, read_lines, read_meta, split_labels
from skgliclass.exceptions import TruncationWarning

__all__ = ["add_parser"]

# Texts read and predicted at a time, so memory stays bounded on long inputs.
CHUNK = 512


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "classify",
        help="classify texts (one per line) from files or standard input",
        description="Classify one text per line; prints JSON lines {text, labels, scores} or CSV.",
    )
    parser.add_argument("files", nargs="*", metavar="FILE", help="text files, one text per line (default: stdin)")
    parser.add_argument("--labels", help="comma-separated labels (default: those a `fit` model was trained on)")
    parser.add_argument("--model", help="GLiClass checkpoint, encoder folder, hub id or `fit --out` folder")
    parser.add_argument(
        "--adapt-on",
        action="append",
        metavar="FILE",
        help="unlabeled texts of your domain, one per line: the labels adapt to them first (repeatable)",
    )
    parser.add_argument("--multi-label", action="store_true", default=None, help="independent yes/no per label")
    parser.add_argument("--threshold", type=float, help="multi-label decision threshold (default 0.5)")
    parser.add_argument("--format", choices=("jsonl", "csv"), default="jsonl", help="output format")
    parser.add_argument("--batch-size", type=int, default=16, help="texts per forward pass")
    parser.add_argument("--max-length", type=int, help="longest input in tokens")
    parser.add_argument("--device", default="auto", help="cpu, cuda, mps or auto")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.set_defaults(run=run)


def _estimator(args: argparse.Namespace) -> Any:
    from skgliclass import GLiClassZeroShot

    meta = read_meta(args.model)
    labels = split_labels(args.labels) if args.labels else meta.get("labels")
    if not labels:
        raise UsageError("--labels is required (e.g. --labels sport,politics,tech) unless --model is a `fit` folder.")
    trained = labels == meta.get("labels")
    multi_label = args.multi_label or (trained and meta.get("multi_label", False))
    threshold = args.threshold if args.threshold is not None else (meta.get("threshold", 0.5) if trained else 0.5)
    if not 0 < threshold < 1:
        raise UsageError(f"--threshold must be between 0 and 1, got {threshold}.")
    saved = Path(args.model) / ESTIMATOR_FILE if args.model else None
    same_kind = bool(multi_label) == bool(meta.get("multi_label", False))
    if trained and same_kind and saved is not None and saved.is_file() and not args.adapt_on:
        import skops.io as sio

        import skgliclass

        clf = sio.load(saved, trusted=skgliclass.TRUSTED_TYPES)  # the model and its embedding head, as fitted
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


def _rows(clf: Any, texts: list[str], proba: np.ndarray) -> Iterator[tuple[str, list[str], list[float]]]:
    names = np.array([str(c) for c in clf.classes_])
    decided = clf._decide(proba)  # the estimator's own predict rule
    for text, row, decision in zip(texts, proba, decided, strict=True):
        chosen = names[decision.astype(bool)].tolist() if clf.multilabel_ else [str(decision)]
        yield text, chosen, [round(float(p), 6) for p in row]


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Read, classify in chunks, write; progress and a truncation summary go to stderr."""
    from tqdm.auto import tqdm

    out = out or sys.stdout
    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be a positive int, got {args.batch_size}.")
    lines = read_lines(args.files)
    first = next(lines, None)  # read before loading the model: a missing file fails fast
    clf = _estimator(args)
    names = [str(c) for c in clf.classes_]
    writer = csv.writer(out) if args.format == "csv" else None
    if writer is not None:
        writer.writerow(["text", "labels", *names])
    bar = tqdm(desc="classify", unit="text", disable=args.quiet, file=sys.stderr)
    pending: deque[str] = deque()  # the texts of the chunk being predicted, for the output rows

    def remember(texts: Iterator[str]) -> Iterator[str]:
        for text in texts:
            pending.append(text)
            yield text

    stream = remember(itertools.chain([] if first is None else [first], lines))
    cut = 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TruncationWarning)
        for proba in clf.predict_proba_iter(stream, chunk_size=CHUNK):
            chunk = [pending.popleft() for _ in range(len(proba))]
            for text, chosen, scores in _rows(clf, chunk, proba):
                if writer is not None:
                    writer.writerow([text, "|".join(chosen), *scores])
                else:
                    record = {"text": text, "labels": chosen, "scores": dict(zip(names, scores, strict=True))}
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
            bar.update(len(chunk))
            cut += sum(w.message.count for w in caught if isinstance(w.message, TruncationWarning))
            caught.clear()
    bar.close()
    if cut:
        print(f"note: {cut} texts were longer than {clf.max_length_} tokens and were cut.", file=sys.stderr)
    return 0
