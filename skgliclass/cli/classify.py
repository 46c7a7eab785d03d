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
from typing import Any, TextIO

import numpy as np

from skgliclass.cli._common import UsageError, load_estimator, read_lines
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
    parser.add_argument(
        "--explain",
        type=int,
        metavar="K",
        help="add the K words that raised each chosen label's probability most (integrated gradients; JSON lines only)",
    )
    parser.add_argument("--batch-size", type=int, default=16, help="texts per forward pass")
    parser.add_argument("--max-length", type=int, help="longest input in tokens")
    parser.add_argument("--device", default="auto", help="cpu, cuda, mps or auto")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.set_defaults(run=run)


def _rows(clf: Any, texts: list[str], proba: np.ndarray) -> Iterator[tuple[str, list[str], list[float]]]:
    names = np.array([str(c) for c in clf.classes_])
    decided = clf._decide(proba)  # the estimator's own predict rule
    for text, row, decision in zip(texts, proba, decided, strict=True):
        chosen = names[decision.astype(bool)].tolist() if clf.multilabel_ else [str(decision)]
        yield text, chosen, [round(float(p), 6) for p in row]


def _explanations(clf: Any, texts: list[str], k: int | None) -> list[dict[str, list]] | None:
    """Per text, each chosen label's top ``k`` words and their attributions (None without ``--explain``)."""
    if k is None:
        return None
    return [
        {str(label): [[w, round(v, 6)] for w, v in e.top(label, k)] for label in e.labels} for e in clf.explain(texts)
    ]


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Read, classify in chunks, write; progress and a truncation summary go to stderr."""
    from tqdm.auto import tqdm

    out = out or sys.stdout
    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be a positive int, got {args.batch_size}.")
    if args.explain is not None and (args.explain < 1 or args.format != "jsonl"):
        raise UsageError(f"--explain takes a positive number of words and JSON lines output, got {args.explain}.")
    lines = read_lines(args.files)
    first = next(lines, None)  # read before loading the model: a missing file fails fast
    clf = load_estimator(args)
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
            explained = _explanations(clf, chunk, args.explain)
            for i, (text, chosen, scores) in enumerate(_rows(clf, chunk, proba)):
                if writer is not None:
                    writer.writerow([text, "|".join(chosen), *scores])
                    continue
                record = {"text": text, "labels": chosen, "scores": dict(zip(names, scores, strict=True))}
                if explained is not None:
                    record["explanation"] = explained[i]
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
            bar.update(len(chunk))
            cut += sum(w.message.count for w in caught if isinstance(w.message, TruncationWarning))
            caught.clear()
    bar.close()
    if cut:
        print(f"note: {cut} texts were longer than {clf.max_length_} tokens and were cut.", file=sys.stderr)
    return 0
