"""``skgliclass export --onnx MODEL OUT``: a fitted model as an ONNX folder that predicts without torch."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from skgliclass.cli._common import UsageError, load_folder

__all__ = ["add_parser"]


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "export",
        help="export a model to ONNX (predicts with onnxruntime, without torch)",
        description="Write MODEL (a `fit` folder, or a checkpoint with --labels) as an ONNX folder OUT that "
        "skgliclass.onnx.ONNXClassifier and `skgliclass serve` read.",
    )
    parser.add_argument("--onnx", nargs=2, metavar=("MODEL", "OUT"), required=True, help="model folder and output")
    parser.add_argument("--labels", help="comma-separated labels (default: those a `fit` model was trained on)")
    parser.add_argument("--multi-label", action="store_true", default=None, help="independent yes/no per label")
    parser.add_argument("--threshold", type=float, help="multi-label decision threshold (default: as fitted)")
    parser.add_argument("--max-length", type=int, help="longest input in tokens")
    parser.add_argument("--optimize", action="store_true", help="save the graph after onnxruntime's optimisations")
    parser.add_argument("--quantize", action="store_true", help="int8 weights (smaller, often faster)")
    parser.add_argument("--overwrite", action="store_true", help="replace OUT when it is not empty")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Load as ``classify`` does, export, say where."""
    from skgliclass.onnx import export

    model, out = args.onnx
    if not Path(model).is_dir():
        raise UsageError(f"MODEL must be a model folder, got {model!r}.")
    clf = load_folder(
        model,
        args.labels,
        multi_label=args.multi_label,
        threshold=args.threshold,
        max_length=args.max_length,
        device="cpu",
    )
    folder = export(clf, out, optimize=args.optimize, quantize=args.quantize, overwrite=args.overwrite)
    print(f"exported to {folder} ({len(clf.classes_)} labels, {clf.config_.architecture})")
    return 0
