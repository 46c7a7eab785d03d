"""``skgliclass fit``: fine-tune on a CSV of labelled texts and save a model ``classify`` can use."""

from __future__ import annotations

import argparse
import csv
import warnings
from pathlib import Path
from typing import Any

from skgliclass.card import write_card
from skgliclass.choices import CALIBRATIONS, METHODS
from skgliclass.cli._common import ESTIMATOR_FILE, UsageError, read_meta, split_labels, write_meta
from skgliclass.cli._log import read_log
from skgliclass.files import write_atomic

__all__ = ["add_parser", "read_csv"]


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "fit",
        help="fine-tune on a labelled CSV (or a feedback log) and save the model",
        description=(
            "Fine-tune GLiClassifier on a CSV (one text and its label(s) per row), or on a log of reviewers' "
            "verdicts (--feedback: columns text, label, verdict; e.g. from `skgliclass review`); save to --out."
        ),
    )
    data = parser.add_mutually_exclusive_group(required=True)
    data.add_argument("--train", help="CSV file with a header row")
    data.add_argument("--feedback", help="CSV log of verdicts: text, label, verdict (1 right, 0 wrong)")
    parser.add_argument("--out", required=True, help="folder to write the model to")
    parser.add_argument("--text-column", default="text", help="column holding the texts (default: text)")
    parser.add_argument("--label-column", default="label", help="column holding the labels (default: label)")
    parser.add_argument("--label-sep", help='multi-label: separator inside the label column, e.g. "|"')
    parser.add_argument("--model", help="checkpoint, encoder or `fit` folder to start from (default: embedded MiniLM)")
    parser.add_argument("--labels", help="with --feedback: comma-separated classes (default: the --model folder's)")
    parser.add_argument("--multi-label", action="store_true", help="with --feedback: verdicts judge labels one by one")
    parser.add_argument("--method", choices=METHODS, default="auto", help="training objective")
    parser.add_argument("--epochs", type=int, default=10, help="passes over the training texts")
    parser.add_argument("--batch-size", type=int, default=16, help="texts per step")
    parser.add_argument("--lora-r", type=int, help="train LoRA adapters of this rank instead of every weight")
    parser.add_argument("--max-length", type=int, help="longest input in tokens")
    parser.add_argument(
        "--embedding-head",
        type=_head_weight,
        default=0.0,
        help="weight in [0, 1] of a logistic regression on the frozen embeddings, or auto (cross-fitted); default 0",
    )
    parser.add_argument(
        "--early-stopping",
        action="store_const",
        const=True,
        default="auto",
        help="hold out 10%% and keep the best epoch (always on with --feedback)",
    )
    parser.add_argument(
        "--calibration",
        choices=("auto", *CALIBRATIONS, "none"),
        default="auto",
        help="map scores to probabilities that match how often the model is right (default auto)",
    )
    parser.add_argument(
        "--auto-threshold",
        action="store_true",
        help="multi-label: learn one decision threshold per label from the training texts (else 0.5)",
    )
    parser.add_argument("--device", default="auto", help="cpu, cuda, mps or auto")
    parser.add_argument("--random-state", type=int, default=0, help="seed (default 0)")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.set_defaults(run=run)


def _head_weight(value: str) -> float | str:
    if value == "auto":
        return value
    try:
        weight = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1] or auto, got {value!r}") from None
    if not 0.0 <= weight <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1] or auto, got {value!r}")
    return weight


def read_csv(path: str, text_column: str, label_column: str, label_sep: str | None) -> tuple[list[str], list[Any]]:
    """Texts and labels (label lists when ``label_sep`` is given) from a CSV with a header row."""
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"no such file: {path}")
    with file.open(encoding="utf-8", newline="") as stream:
        reader = csv.DictReader(stream)
        columns = reader.fieldnames or []
        missing = [c for c in (text_column, label_column) if c not in columns]
        if missing:
            flags = {text_column: "--text-column", label_column: "--label-column"}
            raise UsageError(
                f"{path} has no column {missing[0]!r} (columns: {', '.join(columns) or 'none'}); "
                f"name the right one with {flags[missing[0]]}."
            )
        texts, labels = [], []
        for line, row in enumerate(reader, start=2):
            text, label = row[text_column] or "", (row[label_column] or "").strip()
            if label_sep is None:
                if not label:
                    raise UsageError(f"{path}, line {line}: the label is empty.")
                labels.append(label)
            else:
                labels.append([part.strip() for part in label.split(label_sep) if part.strip()])
            texts.append(text)
    if not texts:
        raise UsageError(f"{path} has a header but no rows.")
    return texts, labels


def _read_feedback(args: argparse.Namespace, meta: dict[str, Any]) -> tuple[list[str], dict[str, list], list | None]:
    """Texts, the log's label/verdict columns, and the classes: --labels, else those of a `fit` folder given as
    --model (else None: the labels the log names)."""
    if args.label_sep is not None:
        raise UsageError("--label-sep reads a labelled CSV (--train); a feedback log has one label per row.")
    if not Path(args.feedback).is_file():
        raise UsageError(f"no such file: {args.feedback}")
    log = read_log(args.feedback, args.text_column)
    if not log["verdict"]:
        raise UsageError(f"{args.feedback} holds no verdicts yet (every verdict is empty).")
    labels = split_labels(args.labels) if args.labels else meta.get("labels")
    return log["text"], {"label": log["label"], "verdict": log["verdict"]}, labels


def run(args: argparse.Namespace) -> int:
    from skgliclass import GLiClassifier

    for flag in ("epochs", "batch_size"):
        if getattr(args, flag) < 1:
            raise UsageError(f"--{flag.replace('_', '-')} must be a positive int, got {getattr(args, flag)}.")
    meta = read_meta(args.model)  # a `fit` folder given as --model: continue with its classes
    targets, feedback, labels = None, None, None
    if args.feedback is not None:
        texts, feedback, labels = _read_feedback(args, meta)
    else:
        texts, targets = read_csv(args.train, args.text_column, args.label_column, args.label_sep)
    clf = GLiClassifier(
        model=args.model,
        labels=labels,
        method=args.method,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lora_r=args.lora_r,
        max_length=args.max_length,
        embedding_head=args.embedding_head,
        early_stopping=args.early_stopping,
        calibration=None if args.calibration == "none" else args.calibration,
        threshold="auto" if args.auto_threshold else 0.5,
        multi_label=args.label_sep is not None or args.multi_label or bool(feedback and meta.get("multi_label")),
        device=args.device,
        random_state=args.random_state,
        verbose=0 if args.quiet else 1,
    ).fit(texts, targets, feedback=feedback)
    with warnings.catch_warnings():  # the head is kept below, beside the checkpoint
        warnings.filterwarnings("ignore", message="the embedding head fitted")
        out = clf.save_pretrained(args.out)
    if clf.linear_head_ is not None or clf.calibration_ is not None or clf.thresholds_ is not None:
        import skops.io as sio

        # The reference format holds the model alone: the whole estimator keeps the head and the map beside it.
        write_atomic(Path(out) / ESTIMATOR_FILE, lambda path: sio.dump(clf, path))
    saved = {
        "labels": [str(c) for c in clf.classes_],
        "multi_label": bool(clf.multilabel_),
        "threshold": "auto" if clf.thresholds_ is not None else 0.5,
        "max_length": clf.max_length_,
        "method": clf.method_,
        "train_texts": len(set(texts)) if feedback else len(texts),
        "head_weights": list(clf.head_weights_),
    }
    if feedback:
        saved["feedback_verdicts"] = len(feedback["verdict"])
    write_meta(Path(out), saved)
    training = {"training_texts": saved["train_texts"], "feedback_verdicts": saved.get("feedback_verdicts")}
    write_card(out, clf, training={k: v for k, v in training.items() if v is not None})
    print(f"saved to {out} ({saved['train_texts']} texts, {len(clf.classes_)} labels, method {clf.method_})")
    return 0
