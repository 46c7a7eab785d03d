"""Zero-shot accuracy of the embedded default on all 2,225 BBC News articles.

Scores ``GLiClassZeroShot(labels=[the five topic names])`` (labels written as sentences, the
default for the embedded sentence encoder) three ways:

- ``.fit()``: plain zero-shot;
- ``.fit(unlabeled)``: label vectors adapted to unlabeled articles (``adapt="auto"``). Two
  folds: each article is predicted by a model adapted on the other half, never on itself;
- the same with harder unlabeled sets: 50 articles, articles of only three topics, and three
  extra labels (weather, health, science) that no article has (their predictions count as errors).

Bare label names (no sentence template) are scored too. Writes ``results/zeroshot.{json,md}``.

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
EXTRA = ["weather", "health", "science"]
BARE = {"label_descriptions": {t: t for t in TOPICS}}


def two_fold(texts: np.ndarray, truth: np.ndarray, labels: list[str], kwargs: dict, pick=None) -> np.ndarray:
    """Predictions for every article from a model adapted on the other half (``pick`` filters that half)."""
    order = np.random.default_rng(0).permutation(len(texts))
    halves = [order[: len(order) // 2], order[len(order) // 2 :]]
    predicted = np.empty(len(texts), dtype=object)
    for fit_on, predict_on in (halves, halves[::-1]):
        fit_on = fit_on if pick is None else pick(fit_on, truth)
        kwargs_here = {k: v for k, v in kwargs.items() if k != "label_descriptions"}
        if "label_descriptions" in kwargs:
            kwargs_here["label_descriptions"] = {k: v for k, v in kwargs["label_descriptions"].items() if k in labels}
        clf = GLiClassZeroShot(labels=labels, **kwargs_here).fit(list(texts[fit_on]))
        predicted[predict_on] = clf.predict(list(texts[predict_on]))
    return predicted


def main() -> None:
    texts, labels = load_bbc_news(random_state=None)
    texts = np.array(texts, dtype=object)
    truth = np.array(["sport" if label == "sports" else label for label in labels])
    three = TOPICS[:3]
    variants = {
        "fit(): labels as sentences (default)": lambda: GLiClassZeroShot(labels=TOPICS).fit().predict(list(texts)),
        "fit(): bare label names": lambda: GLiClassZeroShot(labels=TOPICS, **BARE).fit().predict(list(texts)),
        "fit(unlabeled half)": lambda: two_fold(texts, truth, TOPICS, {}),
        "fit(unlabeled half): bare label names": lambda: two_fold(texts, truth, TOPICS, BARE),
        "fit(50 unlabeled articles)": lambda: two_fold(texts, truth, TOPICS, {}, lambda idx, _: idx[:50]),
        f"fit(unlabeled half, only {', '.join(three)})": lambda: two_fold(
            texts, truth, TOPICS, {}, lambda idx, y: idx[np.isin(y[idx], three)]
        ),
        f"fit(): with {len(EXTRA)} extra labels no article has": lambda: (
            GLiClassZeroShot(labels=TOPICS + EXTRA).fit().predict(list(texts))
        ),
        f"fit(unlabeled half): with {len(EXTRA)} extra labels": lambda: two_fold(texts, truth, TOPICS + EXTRA, {}),
    }
    rows = []
    for name, run in variants.items():
        start = time.perf_counter()
        predicted = run()
        seconds = time.perf_counter() - start
        row = {
            "variant": name,
            "accuracy": float((predicted == truth).mean()),
            "macro_f1": float(f1_score(truth, predicted, labels=TOPICS, average="macro")),
            "seconds": seconds,
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "zeroshot.json").write_text(json.dumps(rows, indent=1))
    lines = ["| GLiClassZeroShot(labels=topics), embedded MiniLM | top-1 accuracy | macro-F1 |", "|---|---|---|"]
    lines += [f"| {r['variant']} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} |" for r in rows]
    table = "\n".join(lines) + (
        f"\n\nAll {len(texts)} BBC News articles; labels {', '.join(TOPICS)}. With unlabeled articles, each "
        "article is predicted by a model adapted on the other half (two folds).\n"
    )
    (RESULTS / "zeroshot.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
