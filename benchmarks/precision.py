"""What each ``precision`` costs and gains on the CPU: speed and accuracy side by side.

``GLiClassZeroShot`` on the embedded MiniLM (bare topic names) classifies BBC News articles with
``precision="fp32"``, ``"bf16"`` and ``"int8"`` in one run. For each: texts per second, top-1
accuracy, macro-F1, and how far the probabilities move from fp32 (largest and mean absolute
change, and the 99th percentile of each text's largest change). Writes
``results/precision.{json,md}`` next to this file.

Usage: ``python benchmarks/precision.py [--per-class 100] [--max-length 512] [--batch-size 16]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch
from sklearn.metrics import f1_score

from skgliclass import GLiClassZeroShot
from skgliclass.datasets import load_bbc_news
from skgliclass.inference import cpu_supports_bf16
from skgliclass.quantize import cpu_has_int8_dot, int8_matmul_available

RESULTS = Path(__file__).parent / "results"
TOPICS = ["business", "entertainment", "politics", "sports", "tech"]
PRECISIONS = ("fp32", "bf16", "int8")


def measure(clf: GLiClassZeroShot, texts: list[str], precision: str) -> tuple[np.ndarray, float]:
    """Probabilities and seconds of one ``predict_proba`` over ``texts`` (after a small warm-up)."""
    clf.set_params(precision=precision)
    clf.predict_proba(texts[:4])  # builds the int8 copy and the label vectors outside the timing
    start = time.perf_counter()
    proba = clf.predict_proba(texts)
    return proba, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=None, help="articles per topic (default: all 2,225)")
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    texts, labels = load_bbc_news(n_per_class=args.per_class, random_state=0)
    truth = np.array(labels)
    clf = GLiClassZeroShot(labels=TOPICS, device="cpu", max_length=args.max_length, batch_size=args.batch_size).fit()
    rows, reference = [], None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # long articles are cut at max_length: expected here
        for precision in PRECISIONS:
            proba, seconds = measure(clf, texts, precision)
            reference = proba if reference is None else reference
            predicted = clf.classes_[proba.argmax(1)]
            change = np.abs(proba - reference)
            row = {
                "precision": precision,
                "texts_per_second": len(texts) / seconds,
                "accuracy": float((predicted == truth).mean()),
                "macro_f1": float(f1_score(truth, predicted, average="macro")),
                "max_abs_change": float(change.max()),
                "mean_abs_change": float(change.mean()),
                "p99_text_change": float(np.quantile(change.max(1), 0.99)),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    fp32 = rows[0]
    env = {
        "texts": len(texts),
        "max_length": args.max_length,
        "batch_size": args.batch_size,
        "torch": torch.__version__,
        "cpu_count": os.cpu_count(),
        "cpu_bf16": cpu_supports_bf16(),
        "int8_kernel": "torch._int_mm, two digits" if int8_matmul_available() else "dynamic quantization",
        "cpu_int8_dot": cpu_has_int8_dot(),
        "machine": platform.machine(),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "precision.json").write_text(json.dumps({"environment": env, "rows": rows}, indent=1))
    lines = [
        "| precision | texts/s | speed-up | top-1 accuracy | macro-F1 | max abs change | mean abs change"
        " | p99 per text |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        speedup = r["texts_per_second"] / fp32["texts_per_second"]
        lines.append(
            f"| {r['precision']} | {r['texts_per_second']:.1f} | {speedup:.2f}x"
            f" | {r['accuracy']:.3f} | {r['macro_f1']:.3f} | {r['max_abs_change']:.3f} | {r['mean_abs_change']:.4f}"
            f" | {r['p99_text_change']:.3f} |"
        )
    table = "\n".join(lines) + (
        f"\n\n{len(texts)} BBC News articles, embedded MiniLM zero-shot (bare topic names), "
        f"{args.max_length} tokens, batch {args.batch_size}, {os.cpu_count()} CPU cores, torch {torch.__version__}; "
        f"native bf16: {env['cpu_bf16']}; int8 kernel: {env['int8_kernel']}; "
        f"int8 dot-product instructions: {env['cpu_int8_dot']}.\n"
    )
    (RESULTS / "precision.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
