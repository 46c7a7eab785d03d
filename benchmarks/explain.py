"""Explanations: do the words they name matter, do they add up, and what do they cost?

On BBC articles held out from training, for the zero-shot default (``GLiClassZeroShot(labels=topics).fit()``)
and the few-shot default (``GLiClassifier().fit`` on ``--k`` articles per topic):

- completeness: each explanation's ``|delta|`` (attributions' sum less the score's change from the
  baseline) as a share of that change;
- faithfulness: the predicted label's probability after deleting the 5 words of highest attribution,
  against deleting 5 random words and the 5 words of lowest attribution (share of articles where the
  top words' deletion lowers it more);
- cost: articles explained per second on this machine, 16 articles of 5 topics (predicted label, and
  every label), and SHAP's partition explainer on the same articles, where ``shap`` is installed.

Usage: ``python benchmarks/explain.py [--n 200] [--k 8] [--steps 24] [--shap 16]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).parent))

import numpy as np

from skgliclass import GLiClassifier, GLiClassZeroShot
from skgliclass.datasets import load_bbc_news

RESULTS = Path(__file__).parent / "results"
DELETE = 5


def without(text: str, words: set[int]) -> str:
    """``text`` with its whitespace words at positions ``words`` removed."""
    return " ".join(w for i, w in enumerate(text.split()) if i not in words)


def faithfulness(clf, explanations, rng: np.random.Generator) -> dict:
    """Probability drops of the predicted label after deleting the top, random and bottom words."""
    texts, column = [], []
    for e in explanations:
        values = e.attributions[:, 0]
        order = np.argsort(-values, kind="stable")
        picks = [order[:DELETE], rng.choice(len(values), DELETE, replace=False), order[-DELETE:]]
        texts += [e.text] + [without(e.text, set(p.tolist())) for p in picks]
        column.append(list(clf.classes_).index(e.labels[0]))
    proba = clf.predict_proba(texts).reshape(len(explanations), 4, -1)
    p = proba[np.arange(len(explanations)), :, column]  # (n, 4): original, top, random, bottom
    drop = p[:, :1] - p[:, 1:]
    return {
        "top_beats_random": float((drop[:, 0] > drop[:, 1]).mean()),
        "top_beats_bottom": float((drop[:, 0] > drop[:, 2]).mean()),
        "drop_top": float(drop[:, 0].mean()),
        "drop_random": float(drop[:, 1].mean()),
        "drop_bottom": float(drop[:, 2].mean()),
    }


def completeness(explanations) -> dict:
    gap = np.array([abs(e.delta[0]) / max(abs(e.attributions[:, 0].sum() - e.delta[0]), 1e-9) for e in explanations])
    return {"gap_mean": float(gap.mean()), "gap_max": float(gap.max()), "within_5pct": float((gap <= 0.05).mean())}


def shap_cost(clf, texts: list[str], rng: np.random.Generator) -> dict | None:
    """SHAP's partition explainer on whitespace words, explaining the predicted label's score."""
    try:
        import shap
    except ImportError:
        return None
    predicted = clf.predict_proba(texts).argmax(1)
    explainer = shap.Explainer(lambda batch: clf.decision_function(list(batch)), shap.maskers.Text(r"\s+"))
    began = time.perf_counter()
    values = explainer(texts)
    seconds = time.perf_counter() - began
    texts_out, column = [], []
    for i, text in enumerate(texts):
        v = np.asarray(values[i].values)[:, predicted[i]]
        pieces = values[i].data  # words with their trailing whitespace
        words = [j for j, piece in enumerate(pieces) if piece.strip()]
        v = v[words]
        order = np.argsort(-v, kind="stable")
        picks = [order[:DELETE], rng.choice(len(v), DELETE, replace=False), order[-DELETE:]]
        texts_out += [text] + [without(text, set(p.tolist())) for p in picks]
        column.append(predicted[i])
    proba = clf.predict_proba(texts_out).reshape(len(texts), 4, -1)
    p = proba[np.arange(len(texts)), :, column]
    drop = p[:, :1] - p[:, 1:]
    return {
        "seconds_per_text": seconds / len(texts),
        "top_beats_random": float((drop[:, 0] > drop[:, 1]).mean()),
        "top_beats_bottom": float((drop[:, 0] > drop[:, 2]).mean()),
        "n": len(texts),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="held-out articles to explain")
    parser.add_argument("--k", type=int, default=8, help="training articles per topic (few-shot)")
    parser.add_argument("--steps", type=int, default=24, help="integration steps")
    parser.add_argument("--shap", type=int, default=16, help="articles for the SHAP comparison (0: none)")
    parser.add_argument("--estimators", default="zero-shot,few-shot")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message=".*longer than max_length.*")
    warnings.filterwarnings("ignore", message=".*were cut at the end.*")
    texts, labels = load_bbc_news(random_state=None)
    labels = np.asarray(labels)
    topics = sorted(set(labels.tolist()))
    rng = np.random.default_rng(0)
    train = np.concatenate([rng.choice(np.flatnonzero(labels == t), args.k, replace=False) for t in topics])
    test = rng.permutation(np.setdiff1d(np.arange(len(texts)), train))[: args.n]
    X, y = [texts[i] for i in train], labels[train]
    held = [texts[i] for i in test]
    rows = []
    for name in args.estimators.split(","):
        began = time.perf_counter()
        clf = GLiClassifier(random_state=0).fit(X, y) if name == "few-shot" else GLiClassZeroShot(labels=topics).fit()
        fit_seconds = time.perf_counter() - began
        began = time.perf_counter()
        sixteen = clf.explain(held[:16], n_steps=args.steps)
        seconds_16 = time.perf_counter() - began
        began = time.perf_counter()
        clf.explain(held[:16], labels="all", n_steps=args.steps)
        seconds_16_all = time.perf_counter() - began
        rest = clf.explain(held[16:], n_steps=args.steps) if len(held) > 16 else []
        explanations = sixteen + rest
        row = {"estimator": name, "n": len(explanations), "n_steps": args.steps, "fit_seconds": fit_seconds}
        row |= {"seconds_16": seconds_16, "seconds_16_all_labels": seconds_16_all}
        row |= {"accuracy": float(np.mean(clf.predict(held) == labels[test]))}
        row |= completeness(explanations) | faithfulness(clf, explanations, np.random.default_rng(1))
        # the random words are a draw: the rate over ten draws says how much of the margin is luck
        draws = [faithfulness(clf, explanations, np.random.default_rng(d))["top_beats_random"] for d in range(1, 11)]
        row["top_beats_random_draws"] = [float(np.mean(draws)), float(np.min(draws)), float(np.max(draws))]
        if args.shap and name == "zero-shot":
            row["shap"] = shap_cost(clf, held[: args.shap], np.random.default_rng(1))
        print(json.dumps(row), flush=True)
        rows.append(row)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "explain.json"
    ran = {r["estimator"] for r in rows}
    earlier = [r for r in json.loads(path.read_text()) if r["estimator"] not in ran] if path.exists() else []
    rows = sorted(earlier + rows, key=lambda r: r["estimator"], reverse=True)  # zero-shot first
    path.write_text(json.dumps(rows, indent=1) + "\n")
    (args.out / "explain.md").write_text(table(rows) + "\n")
    print(table(rows))


def table(rows: list[dict]) -> str:
    lines = [
        "| estimator | articles | steps | top-5 deletion hurts more than random | the same, ten draws: mean (range) "
        "| than bottom-5 | probability drop top / random / bottom | completeness gap mean / max | within 5% | "
        "16 articles, predicted label | 16 articles, all 5 labels |",
        "|---|---:|---:|---:|---|---:|---|---|---:|---:|---:|",
    ]
    for r in rows:
        draws = r.get("top_beats_random_draws")
        ten = f"{draws[0]:.1%} ({draws[1]:.1%}-{draws[2]:.1%})" if draws else ""
        lines.append(
            f"| {r['estimator']} | {r['n']} | {r['n_steps']} | {r['top_beats_random']:.1%} | {ten} | "
            f"{r['top_beats_bottom']:.1%} | {r['drop_top']:+.3f} / {r['drop_random']:+.3f} / {r['drop_bottom']:+.3f} | "
            f"{r['gap_mean']:.2%} / {r['gap_max']:.2%} | {r['within_5pct']:.1%} | {r['seconds_16']:.0f} s | "
            f"{r['seconds_16_all_labels']:.0f} s |"
        )
    shap_rows = [r for r in rows if r.get("shap")]
    for r in shap_rows:
        s = r["shap"]
        ours = r["seconds_16"] / 16
        lines += [
            "",
            f"SHAP partition explainer (whitespace words, {r['estimator']}, {s['n']} articles): "
            f"{s['seconds_per_text']:.1f} s per article against {ours:.1f} s here "
            f"({s['seconds_per_text'] / ours:.1f}x); top-5 deletion hurts more than random in "
            f"{s['top_beats_random']:.0%}, than bottom-5 in {s['top_beats_bottom']:.0%}.",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
