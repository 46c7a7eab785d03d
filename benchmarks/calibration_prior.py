"""How strongly should a fine-tuned model's own scale hold the temperature? A sweep of the scale prior.

For each set and seed, ``GLiClassifier(calibration="temperature")`` is fitted on ``k`` texts per class and
its held-out scores (two-fold cross-fitting: the scores the map is fitted on) and the raw scores of up to
``--test-cap`` other texts are kept (``--cache``, one ``.npz`` per draw; a kept draw is not refitted). The
temperature is then refitted on the held-out scores at each strength of the prior (``scale_prior`` of
``fit_calibration``), and the ECE of the top label on the test texts is reported, with no map and with the
best temperature for the test texts themselves (``oracle``: no temperature does better on them).

Sets the strength was chosen on: hedging, uci_sentiment, intent; the others only confirm it.

Usage: ``python benchmarks/calibration_prior.py --data hedging,uci_sentiment,intent --seeds 3``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import numpy as np
from calibration import RESULTS, dataset, split
from scipy.special import softmax

from skgliclass import GLiClassifier
from skgliclass.calibration import expected_calibration_error, fit_calibration

PRIORS = (0.0, 0.25, 0.5, 1.0, 2.0, 5.0)
CHOICE_SETS = ("hedging", "uci_sentiment", "intent")


class _KeepsHeldOut(GLiClassifier):
    """Keeps the held-out scores and targets its map is fitted on."""

    def _fit_calibration(self, logits, Y):  # type: ignore[no-untyped-def]
        self.held_out_ = (logits, Y)
        super()._fit_calibration(logits, Y)


def draw(name: str, seed: int, k: int, cap: int, cache: Path) -> dict:
    """Held-out scores, their targets, test scores and test classes of one draw (fitted once, then read back)."""
    path = cache / f"{name}-{seed}.npz"
    if not path.exists():
        texts, labels = dataset(name)
        train, test = split(labels, k, seed, cap)
        began = time.perf_counter()
        clf = _KeepsHeldOut(calibration="temperature", random_state=seed).fit([texts[i] for i in train], labels[train])
        seconds = time.perf_counter() - began
        raw = clf._raw_logits([texts[i] for i in test])
        truth = np.searchsorted(clf.classes_, labels[test])
        np.savez(path, held=clf.held_out_[0], Y=clf.held_out_[1], test=raw, yt=truth, secs=seconds)
        print(f"{name} seed {seed}: fitted in {seconds:.0f} s", flush=True)
    return dict(np.load(path))


def ece(logits: np.ndarray, truth: np.ndarray, scale: float = 1.0) -> float:
    proba = softmax(scale * logits, axis=1)
    return expected_calibration_error(proba, proba.argmax(1) == truth)


def row(draws: list[dict]) -> list[float]:
    """Mean test ECE: no map, each prior's temperature, the oracle temperature."""
    cells = [np.mean([ece(d["test"], d["yt"]) for d in draws])]
    for prior in PRIORS:
        scales = [fit_calibration(d["held"], d["Y"], False, scale_prior=prior)["scale"][0] for d in draws]
        cells.append(np.mean([ece(d["test"], d["yt"], s) for d, s in zip(draws, scales, strict=True)]))
    oracle = [fit_calibration(d["test"], np.eye(d["test"].shape[1])[d["yt"]], False, scale_prior=0.0) for d in draws]
    cells.append(np.mean([ece(d["test"], d["yt"], o["scale"][0]) for d, o in zip(draws, oracle, strict=True)]))
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=",".join(CHOICE_SETS), help="comma-separated: bbc and suite set names")
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--test-cap", type=int, default=600)
    parser.add_argument("--cache", type=Path, default=RESULTS / "calibration_prior_cache")
    parser.add_argument("--out", type=Path, default=RESULTS / "calibration_prior.md")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    head = ["data", "seeds", "no map", *[f"prior {p:g}" for p in PRIORS], "oracle"]
    lines = ["| " + " | ".join(head) + " |", "|---|---:|" + "---:|" * (len(head) - 2)]
    for name in args.data.split(","):
        draws = [draw(name, seed, args.k, args.test_cap, args.cache) for seed in range(args.seeds)]
        label = f"{name} (choice)" if name in CHOICE_SETS else name
        lines.append(f"| {label} | {len(draws)} | " + " | ".join(f"{v:.3f}" for v in row(draws)) + " |")
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
