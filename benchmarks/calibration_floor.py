"""How low can ECE go? The temperature fitted on held-out scores against the best temperature for the test set.

For each seed: BBC News, ``k`` labelled articles per topic, every other article held out. The estimator is fitted
with ``calibration="temperature"``; the held-out scores it fitted its map on are kept, and temperatures are fitted
on them again at several strengths of the prior (``SCALE_PRIOR``). The "oracle" temperature is fitted on the test
articles themselves: no temperature can do better on them. ECE on the first 600 test articles and on all of them
shows how much of a measured ECE is the noise of the test sample.

Usage: ``python benchmarks/calibration_floor.py zero-shot|few-shot [--k 8] [--seeds 5]`` (one JSON line per seed).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).parent))

import numpy as np
from calibration import split
from scipy.special import softmax

import skgliclass.calibration as cal
from skgliclass import GLiClassifier, GLiClassZeroShot
from skgliclass.datasets import load_bbc_news
from skgliclass.estimators import _base

PRIORS = (0.0, 2.0, 5.0, 10.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("estimator", choices=("zero-shot", "few-shot"))
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    texts, labels = load_bbc_news(random_state=None)
    labels = np.asarray(labels)
    classes = sorted(set(labels.tolist()))
    kept: dict[str, np.ndarray] = {}
    fit = cal.fit_calibration

    def keep(logits, Y, multilabel, kind="temperature", scale_prior=None):
        kept["z"], kept["Y"] = np.asarray(logits), np.asarray(Y)
        return fit(logits, Y, multilabel, kind, scale_prior)

    _base.fit_calibration = keep  # the estimators' own held-out scores, as they were fitted on
    for seed in range(args.seeds):
        train, test = split(labels, args.k, seed, 10**6)
        X, y = [texts[i] for i in train], labels[train]
        if args.estimator == "few-shot":
            clf = GLiClassifier(calibration="temperature", random_state=seed).fit(X, y)
        else:
            clf = GLiClassZeroShot(labels=classes, calibration="temperature").fit(X, y)
        raw = clf._raw_logits([texts[i] for i in test])
        truth = (labels[test][:, None] == np.asarray(clf.classes_)[None]).astype(float)

        def ece(scale: float, n: int | None = None, raw: np.ndarray = raw, truth: np.ndarray = truth) -> float:
            p = softmax(raw[:n] * scale, axis=1)
            return round(cal.expected_calibration_error(p, p.argmax(1) == truth[:n].argmax(1)), 4)

        row = {"estimator": args.estimator, "seed": seed, "n_test": len(test)}
        row["held_out_accuracy"] = float((kept["z"].argmax(1) == kept["Y"].argmax(1)).mean())
        row["test_accuracy"] = float((raw.argmax(1) == truth.argmax(1)).mean())
        row["none"] = [1.0, ece(1.0, 600), ece(1.0)]
        for prior in PRIORS:
            cal.SCALE_PRIOR = prior
            scale = cal._temperature(kept["z"], kept["Y"], False)[0]
            row[f"prior {prior:g}"] = [round(scale, 3), ece(scale, 600), ece(scale)]
        cal.SCALE_PRIOR = 0.0
        scale = cal._temperature(raw, truth, False)[0]
        row["oracle"] = [round(scale, 3), ece(scale, 600), ece(scale)]
        cal.SCALE_PRIOR = 5.0
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
