"""Zero-shot accuracy of the embedded default on all 2,225 BBC News articles.

Scores ``GLiClassZeroShot(labels=[the five topic names]).fit()`` (labels written as sentences,
the default for the embedded sentence encoder) and, for comparison, the bare label names.
Writes ``results/zeroshot.{json,md}`` next to this file.

Usage: ``python benchmarks/zeroshot.py``
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
from sklearn.metrics import f1_score

from skgliclass import GLiClassZeroShot
from skgliclass.datasets import load_bbc_news

RESULTS = Path(__file__).parent / "results"
TOPICS = ["business", "entertainment", "politics", "sport", "tech"]


def main() -> None:
    texts, labels = load_bbc_news(random_state=None)
    truth = np.array(["sport" if label == "sports" else label for label in labels])
    variants = {
        "default (labels as sentences)": {},
        "bare label names": {"label_descriptions": {t: t for t in TOPICS}},
    }
    rows = []
    for name, kwargs in variants.items():
        start = time.perf_counter()
        predicted = GLiClassZeroShot(labels=TOPICS, **kwargs).fit().predict(texts)
        seconds = time.perf_counter() - start
        row = {
            "variant": name,
            "accuracy": float((predicted == truth).mean()),
            "macro_f1": float(f1_score(truth, predicted, average="macro")),
            "seconds": seconds,
            "texts_per_second": len(texts) / seconds,
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "zeroshot.json").write_text(json.dumps(rows, indent=1))
    lines = ["| GLiClassZeroShot, embedded MiniLM | top-1 accuracy | macro-F1 |", "|---|---|---|"]
    lines += [f"| {r['variant']} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} |" for r in rows]
    table = "\n".join(lines) + f"\n\nAll {len(texts)} BBC News articles; labels {', '.join(TOPICS)}.\n"
    (RESULTS / "zeroshot.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
