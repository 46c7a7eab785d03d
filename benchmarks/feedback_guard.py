"""Which epoch should a feedback fit keep? Every epoch traced once, each guard judged on the traces.

``trace`` runs ``benchmarks/feedback.py``'s draws (zero-shot proposals, a simulated reviewer, the same seeds
and test texts) with every epoch trained (``n_iter_no_change`` off) and saves, per epoch, the logits of the
held-out verdicts' texts and of the test texts (``results/feedback_traces/``, not versioned). ``judge``
replays the fit's early stopping on those logits under each guard and reports the test macro-F1 change of the
epoch each guard keeps against the zero-shot start: a guard is judged on many draws without a fit per guard.
The epochs are computed as the fit computes them (eval mode, its precision), so the start's row can differ
from ``feedback.py``'s predict path by a few tenths of a point where bf16 ties flip.

Guards: ``z1`` the calibrated, class-balanced verdict log-loss with a gain beyond one standard error (the
guard before this study); ``before`` :data:`skgliclass.training.guard.FEEDBACK_Z` standard errors and
:data:`~skgliclass.training.guard.FEEDBACK_KEEP` of the confirmed labels kept; ``pinned`` the same, also counting
the labels "wrong" verdicts pin down (:func:`~skgliclass.training.guard.pinned`); ``default`` today's, which counts
texts right instead, a text moved off a label judged wrong as a guess among the labels left, the guesses counted
only beyond :data:`~skgliclass.training.guard.KEEP_GUESS_Z` standard deviations of them
(:func:`~skgliclass.training.guard.right_bound`); ``expected`` the same without that discount; ``z2`` and ``keep``
each rule of ``before`` alone; ``best`` the epoch best on the test texts (no guard can do better).

``trace --held N`` holds out up to ``N`` verdicts (a quarter of the log at most) instead of the default; such
draws are reported as their own rows.

Usage::

    python benchmarks/feedback_guard.py trace bbc:random:50:0:0 vaccine_stance:random:200:1:0 ...
    python benchmarks/feedback_guard.py judge [--sets bbc,vaccine_stance]

A draw is ``data:strategy:verdicts:seed:noise``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pickle
import sys
import time
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).parent))

import numpy as np
import torch
from feedback import dataset, macro_f1
from sklearn.metrics import f1_score

import skgliclass.training.supervised as supervised
from skgliclass import GLiClassifier, GLiClassZeroShot
from skgliclass.estimators import classifier
from skgliclass.training import guard
from skgliclass.training.loop import BestEpoch

RESULTS = Path(__file__).parent / "results"
TRACES = RESULTS / "feedback_traces"
TEST_CAP = 400  # as feedback.py's default
_TRACE: dict = {}


def _traced_evaluate(model, builder, validation, labels, settings, device):
    """``supervised.evaluate``, also keeping the epoch's logits of the held-out texts and of the test texts."""
    out = _evaluate(model, builder, validation, labels, settings, device)
    if validation.calibrated:
        plain = dataclasses.replace(settings, contrastive_coef=0.0)
        model.eval()
        logits = {}
        with torch.no_grad():
            for name, texts in (("held", list(validation.texts)), ("test", _TRACE["test_texts"])):
                parts = []
                for start in range(0, len(texts), settings.batch_size):
                    batch = texts[start : start + settings.batch_size]
                    empty = torch.zeros(len(batch), len(labels))
                    order = np.arange(len(labels))
                    parts.append(
                        supervised._step_loss(model, builder, batch, labels, empty, order, plain, device)[1]
                        .cpu()
                        .numpy()
                    )
                logits[name] = np.concatenate(parts)
        model.train()
        _TRACE["epochs"].append(logits)
        _TRACE["verdicts"] = np.asarray(validation.targets)
    return out


_evaluate = supervised.evaluate


def trace(draw: str, held: int = classifier.HELD_OUT_VERDICTS) -> dict:
    """Fit one draw with every epoch trained (holding out up to ``held`` verdicts) and return its trace."""
    name, strategy, budget, seed, noise = draw.split(":")
    budget, seed, noise = int(budget), int(seed), float(noise)
    texts, labels = dataset(name)
    classes = sorted(set(labels))
    start = GLiClassZeroShot(labels=classes).fit()
    order = np.random.default_rng(seed).permutation(len(texts))
    test, pool = order[:TEST_CAP], order[TEST_CAP:]
    test_texts, test_truth = [texts[i] for i in test], np.asarray(labels)[test]
    pool_texts = [texts[i] for i in pool]
    truth = dict(zip(pool_texts, np.asarray(labels)[pool], strict=True))
    log = start.propose(pool_texts, n=budget, strategy=strategy, random_state=seed)
    rng = np.random.default_rng(seed + 1)  # the reviewer's slips, as feedback.py draws them
    right = np.array([truth[t] == label for t, label in zip(log["text"], log["label"], strict=True)])
    log["verdict"] = (right ^ (rng.random(len(right)) < noise)).astype(int).tolist()
    _TRACE.clear()
    _TRACE.update(test_texts=test_texts, epochs=[])
    began = time.perf_counter()
    supervised.evaluate, default_held = _traced_evaluate, classifier.HELD_OUT_VERDICTS
    classifier.HELD_OUT_VERDICTS = held
    try:
        GLiClassifier(labels=classes, random_state=seed, n_iter_no_change=10**6).fit(None, feedback=log)
    finally:
        supervised.evaluate, classifier.HELD_OUT_VERDICTS = _evaluate, default_held
    return {
        "draw": draw,
        "held": held,
        "classes": classes,
        "test_truth": test_truth.tolist(),
        "start_f1": macro_f1(start, test_texts, test_truth),
        "epochs": _TRACE["epochs"],
        "verdicts": _TRACE["verdicts"],
        "seconds": time.perf_counter() - began,
    }


def keep_epoch(
    losses: list[float], rows: list[np.ndarray], kept: list[np.ndarray], z: float, keep: float | None
) -> int:
    """The epoch the fit's own ``BestEpoch`` keeps when fed these epochs in turn (stopping as the fit stops)."""
    best = BestEpoch(z=z, keep=keep)
    model, settings = torch.nn.Linear(1, 1), SimpleNamespace(tol=1e-4, n_iter_no_change=3)
    for epoch, (loss, row, confirmed) in enumerate(zip(losses, rows, kept, strict=True)):
        if best.update(loss, epoch, model, settings, row, confirmed):
            break
    return best.epoch


def guards(record: dict) -> dict[str, int]:
    """The epoch each guard keeps on this draw."""
    verdicts = record["verdicts"]
    losses, rows = zip(*(guard.guard_loss(e["held"], verdicts, False) for e in record["epochs"]), strict=True)
    kept = [guard.confirmed_kept(e["held"], verdicts) for e in record["epochs"]]
    pinned = [guard.confirmed_kept(e["held"], guard.pinned(verdicts)) for e in record["epochs"]]
    expected = [guard.right_bound(e["held"], verdicts, z=0.0) for e in record["epochs"]]
    bound = [guard.right_bound(e["held"], verdicts) for e in record["epochs"]]
    return {
        "z1": keep_epoch(losses, rows, kept, 1.0, None),
        "z2": keep_epoch(losses, rows, kept, guard.FEEDBACK_Z, None),
        "keep": keep_epoch(losses, rows, kept, 1.0, guard.FEEDBACK_KEEP),
        "before": keep_epoch(losses, rows, kept, guard.FEEDBACK_Z, guard.FEEDBACK_KEEP),
        "pinned": keep_epoch(losses, rows, pinned, guard.FEEDBACK_Z, guard.FEEDBACK_KEEP),
        "expected": keep_epoch(losses, rows, expected, guard.FEEDBACK_Z, guard.FEEDBACK_KEEP),
        "default": keep_epoch(losses, rows, bound, guard.FEEDBACK_Z, guard.FEEDBACK_KEEP),
        "best": int(np.argmax(test_f1s(record))),
    }


def test_f1s(record: dict) -> list[float]:
    classes = np.asarray(record["classes"])
    return [
        float(f1_score(record["test_truth"], classes[e["test"].argmax(1)], average="macro")) for e in record["epochs"]
    ]


def judge(sets: list[str] | None, out: Path = RESULTS) -> None:
    rows = []
    for path in sorted(TRACES.glob("*.pkl")):
        with path.open("rb") as f:
            record = pickle.load(f)
        name, strategy, budget, seed, noise = record["draw"].split(":")
        if sets and name not in sets:
            continue
        held = record.get("held", classifier.HELD_OUT_VERDICTS)
        name += f" ({held} held)" if held != classifier.HELD_OUT_VERDICTS else ""
        f1s = test_f1s(record)
        for which, epoch in guards(record).items():
            rows.append(
                {
                    "data": name,
                    "strategy": strategy,
                    "budget": int(budget),
                    "seed": int(seed),
                    "noise": float(noise),
                    "guard": which,
                    "epoch": epoch,
                    "change": 100 * (f1s[epoch] - record["start_f1"]),
                }
            )
    out.mkdir(parents=True, exist_ok=True)
    (out / "feedback_guard.json").write_text(json.dumps(rows, indent=1))
    text = table(rows)
    (out / "feedback_guard.md").write_text(text + "\n")
    print(text)


def table(rows: list[dict]) -> str:
    names = ["z1", "z2", "keep", "before", "pinned", "expected", "default", "best"]
    names = [n for n in names if any(r["guard"] == n for r in rows)]
    head = "| data | noise | strategy | verdicts | seeds | " + " | ".join(names) + " |"
    lines = [head, "|---|---:|---|---:|---:|" + "---:|" * len(names)]
    cells = sorted({(r["data"], r["noise"], r["strategy"], r["budget"]) for r in rows})
    for data, noise, strategy, budget in cells:
        group = [
            r for r in rows if (r["data"], r["noise"], r["strategy"], r["budget"]) == (data, noise, strategy, budget)
        ]
        values = []
        for which in names:
            change = np.array([r["change"] for r in group if r["guard"] == which])
            values.append(f"{change.mean():+.1f} ({change.min():+.1f})")
        seeds = len({r["seed"] for r in group})
        lines.append(f"| {data} | {noise:.0%} | {strategy} | {budget} | {seeds} | " + " | ".join(values) + " |")
    every = {which: np.array([r["change"] for r in rows if r["guard"] == which]) for which in names}
    lines.append(
        "| **all draws** | | | | "
        + str(len(every["z1"]))
        + " | "
        + " | ".join(f"{v.mean():+.1f}, {int((v < -1).sum())} below -1" for v in every.values())
        + " |"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    traced = commands.add_parser("trace", help="fit draws with every epoch traced")
    traced.add_argument("draws", nargs="+", help="data:strategy:verdicts:seed:noise")
    traced.add_argument("--held", type=int, default=classifier.HELD_OUT_VERDICTS, help="held-out verdicts, at most")
    judged = commands.add_parser("judge", help="replay each guard on the saved traces")
    judged.add_argument("--sets", default="", help="comma-separated data sets (default: all traced)")
    judged.add_argument("--out", type=Path, default=RESULTS, help="folder of feedback_guard.json and .md")
    args = parser.parse_args()
    if args.command == "trace":
        TRACES.mkdir(parents=True, exist_ok=True)
        for draw in args.draws:
            suffix = "" if args.held == classifier.HELD_OUT_VERDICTS else f"_held{args.held}"
            path = TRACES / (draw.replace(":", "_") + suffix + ".pkl")
            if path.exists():
                continue
            record = trace(draw, args.held)
            with path.open("wb") as f:
                pickle.dump(record, f)
            print(f"{draw}: start {record['start_f1']:.3f}, {len(record['epochs'])} epochs, {record['seconds']:.0f} s")
    else:
        judge([s for s in args.sets.split(",") if s] or None, args.out)


if __name__ == "__main__":
    main()
