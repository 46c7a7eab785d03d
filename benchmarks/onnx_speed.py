"""ONNX against torch on the same texts: texts per second, the largest probability change, macro-F1.

Three models, each on the same 200 held-out BBC articles: the default zero-shot model (bi-encoder, label
vectors cached), ``GLiClassifier()`` fitted on 8 articles per topic, and a uni-encoder checkpoint (MiniLM
with a fresh GLiClass head: its probabilities are not meant to be right, only equal). Runs: torch fp32,
bf16 and int8 (``precision=``), and exports (``skgliclass.onnx.export``) plain, optimised, int8, and both.
Every change is against torch fp32; speeds are measured in this one run, one after the other. (Not named
``onnx.py``: run as a script, that name would hide the onnx package.)

Usage: ``python benchmarks/onnx_speed.py [--n-test 200] [--threads 2]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch
from sklearn.metrics import f1_score

from skgliclass import GLiClassifier, GLiClassZeroShot, new_model, save_pretrained
from skgliclass.datasets import load_bbc_news
from skgliclass.estimators._base import default_model_path
from skgliclass.exceptions import TruncationWarning
from skgliclass.onnx import ONNXClassifier, export

RESULTS = Path(__file__).parent / "results"
TOPICS = ["business", "entertainment", "politics", "sports", "tech"]
TORCH = ["fp32", "bf16", "int8"]
ONNX = {
    "onnx": {},
    "onnx-opt": {"optimize": True},
    "onnx-int8": {"quantize": True},
    "onnx-opt-int8": {"optimize": True, "quantize": True},
}


def data(n_test: int) -> tuple[list[str], list[str], list[str], list[str]]:
    """8 training articles per topic and ``n_test`` others."""
    texts, labels = load_bbc_news(random_state=0)
    train, seen = [], {t: 0 for t in TOPICS}
    for i, label in enumerate(labels):
        if seen[label] < 8:
            train.append(i)
            seen[label] += 1
    rest = [i for i in range(len(texts)) if i not in set(train)][:n_test]
    return [texts[i] for i in train], [labels[i] for i in train], [texts[i] for i in rest], [labels[i] for i in rest]


def models(X: list[str], y: list[str], work: Path) -> dict:
    uni, tokenizer = new_model(default_model_path(), architecture="uni-encoder")
    folder = save_pretrained(uni, tokenizer, work / "uni")
    return {
        "zero-shot": lambda: GLiClassZeroShot(labels=TOPICS).fit(),
        "few-shot": lambda: GLiClassifier(random_state=0).fit(X, y),
        "uni-encoder": lambda: GLiClassZeroShot(model=str(folder), labels=TOPICS).fit(),
    }


def timed(predict, texts: list[str]) -> tuple[np.ndarray, float]:
    predict(texts[:4])  # a warm-up: lazy set-up and the first graph run are not speed
    start = time.perf_counter()
    proba = predict(texts)
    return proba, time.perf_counter() - start


def rows_for(name: str, clf, texts: list[str], y: list[str], work: Path, threads: int) -> list[dict]:
    out, reference = [], None
    for precision in TORCH:
        clf.set_params(precision=precision)
        proba, seconds = timed(clf.predict_proba, texts)
        reference = proba if reference is None else reference
        out.append(row(name, f"torch-{precision}", proba, reference, clf.classes_, y, seconds, len(texts)))
    clf.set_params(precision="fp32")
    for run, options in ONNX.items():
        start = time.perf_counter()
        folder = export(clf, work / f"{name}-{run}", **options)
        exported = time.perf_counter() - start
        runtime = ONNXClassifier(folder, batch_size=clf.batch_size, threads=threads)
        proba, seconds = timed(runtime.predict_proba, texts)
        result = row(name, run, proba, reference, clf.classes_, y, seconds, len(texts))
        result["export_seconds"] = round(exported, 1)
        result["model_mb"] = round((folder / "model.onnx").stat().st_size / 2**20, 1)
        out.append(result)
    return out


def row(name, run, proba, reference, classes, y, seconds, n) -> dict:
    predicted = np.asarray(classes)[proba.argmax(1)]
    base = np.asarray(classes)[reference.argmax(1)]
    result = {
        "model": name,
        "run": run,
        "texts_per_second": round(n / seconds, 2),
        "max_probability_change": float(np.abs(proba - reference).max()),
        "macro_f1": float(f1_score(y, predicted, average="macro")),
        "macro_f1_change": float(f1_score(y, predicted, average="macro") - f1_score(y, base, average="macro")),
        "n_test": n,
        "threads": torch.get_num_threads(),
    }
    print(json.dumps(result), flush=True)
    return result


def table(rows: list[dict]) -> str:
    lines = [
        "| model | run | texts/s | vs torch fp32 | largest probability change | macro-F1 | change |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        base = next(b for b in rows if b["model"] == r["model"] and b["run"] == "torch-fp32")
        lines.append(
            f"| {r['model']} | {r['run']} | {r['texts_per_second']:.1f} | "
            f"{r['texts_per_second'] / base['texts_per_second']:.2f}x | {r['max_probability_change']:.1e} | "
            f"{r['macro_f1']:.3f} | {100 * r['macro_f1_change']:+.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-test", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models", default="zero-shot,few-shot,uni-encoder")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore", TruncationWarning)
    X, y, texts, truth = data(args.n_test)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        makers = models(X, y, Path(tmp))
        for name in args.models.split(","):
            rows += rows_for(name, makers[name](), texts, truth, Path(tmp), args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "onnx_speed.json").write_text(json.dumps(rows, indent=1))
    (args.out / "onnx_speed.md").write_text(table(rows) + "\n")
    print(table(rows))


if __name__ == "__main__":
    sys.exit(main())
