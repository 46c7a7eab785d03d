"""``skgliclass demo``: zero-shot on a handful of real BBC News articles, printed as a table."""

from __future__ import annotations

import argparse
import textwrap
import warnings
from typing import Any

__all__ = ["add_parser", "run"]


def run(args: argparse.Namespace) -> int:
    """Classify a handful of real BBC News articles with the embedded default model, no training."""
    from skgliclass import GLiClassZeroShot
    from skgliclass.datasets import load_bbc_news

    texts, truth = load_bbc_news(n_per_class=args.per_class, random_state=args.seed)
    labels = ["business", "entertainment", "politics", "sports", "technology"]
    truth = ["technology" if t == "tech" else t for t in truth]
    clf = GLiClassZeroShot(labels=labels).fit()
    with warnings.catch_warnings(record=True) as caught:  # long articles are cut: said once in the footer
        warnings.simplefilter("always")
        proba = clf.predict_proba(texts)
    predicted = clf.classes_[proba.argmax(1)]
    width = 64
    print(f"{'text':<{width}}  {'true':<13} {'predicted':<13} {'p':>5}")
    print("-" * (width + 35))
    for text, true, pred, p in zip(texts, truth, predicted, proba.max(1), strict=True):
        line = textwrap.shorten(" ".join(text.split()), width=width, placeholder="...")
        mark = " " if true == pred else "x"
        print(f"{line:<{width}}  {true:<13} {pred:<13} {p:5.2f} {mark}")
    accuracy = sum(p == t for p, t in zip(predicted, truth, strict=True)) / len(truth)
    print(
        f"\nzero-shot accuracy on these {len(texts)} articles: {accuracy:.0%} "
        f"(embedded all-MiniLM-L6-v2, cosine bi-encoder, no training)"
    )
    for warning in caught:
        print(f"note: {warning.message}")
    return 0


def add_parser(commands: Any) -> None:
    demo = commands.add_parser("demo", help="classify real BBC News texts with the embedded default model")
    demo.add_argument("--per-class", type=int, default=4, help="articles per topic (default 4)")
    demo.add_argument("--seed", type=int, default=0, help="which articles to draw")
    demo.set_defaults(run=run)
