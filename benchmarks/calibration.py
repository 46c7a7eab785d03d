"""Calibration: do the probabilities mean what they say? ECE, Brier score and log-loss before and after the map.

Single-label rows: ``k`` labelled texts per class, the rest of the set (capped at ``--test-cap``) held out.
Estimators: ``zero-shot`` (``GLiClassZeroShot(labels=...).fit()``, nothing learnt from the labels),
``zero-shot+y`` (``fit(X_k, y_k)``: label vectors adapted to the texts, a map fitted on them), and
``few-shot`` (``GLiClassifier().fit(X_k, y_k)``), each with the map named by ``--calibrations``
(``none`` is the uncalibrated score). ECE: 15 equal-width bins of the top label's probability.

Multi-label rows (``--multi-label``): two-topic BBC documents (the openings of two articles of different
topics), micro-F1 on held-out documents at ``threshold=0.5`` and ``threshold="auto"``.

Usage: ``python benchmarks/calibration.py [--data bbc] [--ks 8] [--seeds 5] [--estimators zero-shot+y]``
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
from sklearn.metrics import f1_score, log_loss

from fewshot import load, saver
from skgliclass import GLiClassifier, GLiClassZeroShot
from skgliclass.calibration import expected_calibration_error
from skgliclass.datasets import load_bbc_news

RESULTS = Path(__file__).parent / "results"
KEY = ("data", "estimator", "calibration", "k", "seed")
DIAGRAM_BINS = 10


def dataset(name: str) -> tuple[list[str], np.ndarray]:
    if name == "bbc":
        texts, labels = load_bbc_news(random_state=None)
    else:
        import suite_data

        texts, labels = suite_data.load(name)
    return list(texts), np.asarray(labels)


def split(labels: np.ndarray, k: int, seed: int, test_cap: int) -> tuple[np.ndarray, np.ndarray]:
    """``k`` rows per class to learn from, and up to ``test_cap`` other rows to test on."""
    rng = np.random.default_rng(seed)
    train = np.concatenate([rng.choice(np.flatnonzero(labels == c), k, replace=False) for c in np.unique(labels)])
    rest = rng.permutation(np.setdiff1d(np.arange(len(labels)), train))
    return train, rest[:test_cap]


def build(estimator: str, classes: list[str], calibration: str | None, seed: int):
    if estimator == "few-shot":
        return GLiClassifier(calibration=calibration, random_state=seed)
    return GLiClassZeroShot(labels=classes, calibration=calibration)


def measures(proba: np.ndarray, classes: np.ndarray, truth: np.ndarray) -> dict:
    """ECE, Brier score, log-loss, accuracy and mean confidence, and the reliability diagram's bins."""
    predicted = classes[proba.argmax(1)]
    right = predicted == truth
    onehot = (truth[:, None] == classes[None, :]).astype(float)
    confidence = proba.max(1)
    bins = np.minimum((confidence * DIAGRAM_BINS).astype(int), DIAGRAM_BINS - 1)
    diagram = [
        [float(confidence[bins == b].mean()), float(right[bins == b].mean()), int((bins == b).sum())]
        for b in range(DIAGRAM_BINS)
        if (bins == b).any()
    ]
    return {
        "ece": expected_calibration_error(proba, right),
        "brier": float(((proba - onehot) ** 2).sum(1).mean()),
        "log_loss": float(log_loss(truth, proba, labels=classes)),
        "accuracy": float(right.mean()),
        "macro_f1": float(f1_score(truth, predicted, average="macro")),
        "confidence": float(confidence.mean()),
        "diagram": diagram,
    }


def run_single(name: str, ks: list[int], seeds: range, estimators: list[str], calibrations: list, cap: int, save):
    texts, labels = dataset(name)
    classes = sorted(set(labels.tolist()))
    for seed in seeds:
        for k in ks:
            train, test = split(labels, k, seed, cap)
            X, y = [texts[i] for i in train], labels[train]
            Xt, yt = [texts[i] for i in test], labels[test]
            for estimator in estimators:
                for calibration in calibrations:
                    if estimator == "zero-shot" and calibration is not None:
                        continue  # nothing labelled to fit a map on
                    began = time.perf_counter()
                    clf = build(estimator, classes, calibration, seed)
                    clf.fit(*(() if estimator == "zero-shot" else (X, y)))
                    seconds = time.perf_counter() - began
                    row = {"data": name, "estimator": estimator, "calibration": str(calibration), "k": k, "seed": seed}
                    row |= measures(clf.predict_proba(Xt), np.asarray(clf.classes_), yt)
                    row |= {"fit_seconds": seconds, "n_test": len(test)}
                    print(json.dumps({key: v for key, v in row.items() if key != "diagram"}), flush=True)
                    save(row)


def two_topic_documents(seed: int, n: int) -> tuple[list[str], list[list[str]]]:
    """``n`` documents, each the openings (60 words) of two BBC articles of different topics."""
    texts, labels = load_bbc_news(random_state=None)
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    topics = sorted(set(labels.tolist()))
    docs, tags = [], []
    for _ in range(n):
        a, b = rng.choice(len(topics), 2, replace=False)
        first = rng.choice(np.flatnonzero(labels == topics[a]))
        second = rng.choice(np.flatnonzero(labels == topics[b]))
        docs.append(" ".join(texts[first].split()[:60]) + "\n\n" + " ".join(texts[second].split()[:60]))
        tags.append(sorted([topics[a], topics[b]]))
    return docs, tags


def run_multi_label(ks: list[int], seeds: range, estimators: list[str], cap: int, save) -> None:
    topics = sorted(set(load_bbc_news(random_state=None)[1]))
    for seed in seeds:
        docs, tags = two_topic_documents(seed, 10_000 // 10)
        for k in ks:
            n_train = k * len(topics)
            X, y = docs[:n_train], tags[:n_train]
            Xt, yt = docs[n_train : n_train + cap], tags[n_train : n_train + cap]
            for estimator in estimators:
                if estimator == "zero-shot":
                    continue
                for threshold in (0.5, "auto"):
                    began = time.perf_counter()
                    common = {"multi_label": True, "threshold": threshold}
                    if estimator == "few-shot":
                        clf = GLiClassifier(random_state=seed, **common).fit(X, y)
                    else:
                        clf = GLiClassZeroShot(labels=topics, **common).fit(X, y)
                    seconds = time.perf_counter() - began
                    truth = np.array([[t in row for t in clf.classes_] for row in yt], dtype=int)
                    row = {"data": "bbc two-topic", "estimator": estimator, "calibration": f"threshold={threshold}"}
                    row |= {"k": k, "seed": seed, "fit_seconds": seconds, "n_test": len(Xt)}
                    row["micro_f1"] = float(f1_score(truth, clf.predict(Xt), average="micro"))
                    if clf.thresholds_ is not None:
                        row["thresholds"] = clf.thresholds_.round(3).tolist()
                    print(json.dumps(row), flush=True)
                    save(row)


def table(rows: list[dict]) -> str:
    lines = [
        "| data | estimator | map | k | ECE | Brier | log-loss | accuracy | macro-F1 | confidence | seeds | fit s |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        if "ece" in row:
            groups.setdefault((row["data"], row["estimator"], row["calibration"], row["k"]), []).append(row)
    for (data, estimator, calibration, k), group in sorted(groups.items()):

        def cell(key: str, group: list[dict] = group) -> str:
            if any(key not in r for r in group):  # rows from before the column
                return ""
            values = np.array([r[key] for r in group])
            return f"{values.mean():.3f} ± {values.std():.3f}"

        lines.append(
            f"| {data} | {estimator} | {calibration} | {k} | {cell('ece')} | {cell('brier')} | {cell('log_loss')} "
            f"| {cell('accuracy')} | {cell('macro_f1')} | {cell('confidence')} | {len(group)} "
            f"| {np.mean([r['fit_seconds'] for r in group]):.0f} |"
        )
    multi = [r for r in rows if "micro_f1" in r]
    if multi:
        lines += ["", "| data | estimator | threshold | k | micro-F1 | seeds |", "|---|---|---|---:|---:|---:|"]
        groups = {}
        for row in multi:
            groups.setdefault((row["data"], row["estimator"], row["calibration"], row["k"]), []).append(row)
        for (data, estimator, threshold, k), group in sorted(groups.items()):
            values = np.array([r["micro_f1"] for r in group])
            lines.append(
                f"| {data} | {estimator} | {threshold.split('=')[1]} | {k} | {values.mean():.3f} ± {values.std():.3f} "
                f"| {len(group)} |"
            )
    return "\n".join(lines)


def plot(rows: list[dict], path: Path) -> None:
    """Reliability diagrams: accuracy against confidence per bin, pooled over seeds, one panel per estimator."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in rows if "diagram" in r and r["data"] == "bbc" and r["k"] == 8]
    panels = sorted({r["estimator"] for r in rows})
    if not panels:
        return
    fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels), 3.4), squeeze=False)
    for ax, estimator in zip(axes[0], panels, strict=True):
        for calibration in sorted({r["calibration"] for r in rows if r["estimator"] == estimator}):
            cells = [
                c for r in rows if (r["estimator"], r["calibration"]) == (estimator, calibration) for c in r["diagram"]
            ]
            conf, acc, n = (np.array([c[i] for c in cells]) for i in range(3))
            bins = np.minimum((conf * DIAGRAM_BINS).astype(int), DIAGRAM_BINS - 1)
            xs, ys = [], []
            for b in np.unique(bins):
                w = n[bins == b]
                xs.append(np.average(conf[bins == b], weights=w))
                ys.append(np.average(acc[bins == b], weights=w))
            ax.plot(xs, ys, marker="o", label="no map" if calibration == "None" else calibration)
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
        ax.set_title(f"{estimator}, BBC k=8", fontsize=9)
        ax.set_xlabel("confidence (top label)")
        ax.set_xlim(0.2, 1.0)
        ax.set_ylim(0.2, 1.0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("accuracy")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="bbc", help="comma-separated: bbc and suite set names")
    parser.add_argument("--ks", default="8", help="labelled texts per class, comma-separated")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--estimators", default="zero-shot,zero-shot+y,few-shot")
    parser.add_argument("--calibrations", default="none,temperature", help="none, temperature, per-label")
    parser.add_argument("--multi-label", action="store_true", help="two-topic documents, thresholds 0.5 and auto")
    parser.add_argument("--test-cap", type=int, default=600)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message=".*longer than max_length.*")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "calibration.json"
    save = saver(path, KEY)
    ks, seeds = [int(k) for k in args.ks.split(",")], range(args.first_seed, args.first_seed + args.seeds)
    estimators = args.estimators.split(",")
    if args.multi_label:
        run_multi_label(ks, seeds, estimators, args.test_cap, save)
    else:
        calibrations = [None if c == "none" else c for c in args.calibrations.split(",")]
        for name in args.data.split(","):
            run_single(name, ks, seeds, estimators, calibrations, args.test_cap, save)
    (args.out / "calibration.md").write_text(table(load(path)) + "\n")
    print(table(load(path)))
    try:
        plot(load(path), args.out / "calibration.png")
    except ImportError:
        print("matplotlib is not installed: no plot.")


if __name__ == "__main__":
    main()
