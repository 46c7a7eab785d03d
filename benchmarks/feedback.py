"""Learning from a reviewer's verdicts: how far a log of right/wrong answers moves the zero-shot start.

A simulated reviewer judges the label the zero-shot model proposes for each of ``budget`` texts (one
verdict per text: 1 when it is the text's true class, else 0; ``--noise`` flips that share of verdicts).
The texts are chosen by ``GLiClassZeroShot.propose`` at random or by uncertainty (closest calls in turn
with random texts), and ``GLiClassifier(labels=...).fit(feedback=log)`` learns from the log. Test:
held-out texts never proposed (capped at ``--test-cap``), macro-F1 of the top label, against the
zero-shot start on the same texts.

``--variant nofill`` (a study) leaves the entries no verdict is about unknown instead of filling them
with the start's belief given the verdicts; ``--variant prior=N`` weighs that belief as ``N`` texts' worth
(``inf``: as much as a verdict, however long the log). ``--variant guard=before`` keeps single-label epochs
that keep nine in ten of the confirmed labels (the first guard), ``--variant guard=pinned`` also counts the
labels "wrong" verdicts pin down (the second); today's counts texts right, a text moved off a label judged wrong
as a guess among the labels left (:func:`~skgliclass.training.guard.right_bound`). Each row's ``guard`` names
the one that ran (rows without it are older than the field). ``--variant held=N`` lets a feedback fit hold out
up to ``N`` verdicts (a quarter of the log at most) for its guard, instead of ``HELD_OUT_VERDICTS``, and a rater's
fit up to ``N`` texts instead of ``RATER_HELD_OUT_TEXTS``. ``--variant rater_guard=before`` judges a rater's
held-out verdicts as before they took logged feedback's keep rule (a gain beyond one standard error, nothing
more); ``--variant rater_guard=logged`` asks logged feedback's two standard errors besides the keep rule.
Rater rows with ``asks`` were run when a rater's held-out texts could also be asked about up to that many labels
down the start's ranking after a "wrong" (measured, left off, and gone from the package).
``--variant "rater:name=value;..."`` sets any of the rater's parameters (values in JSON;
``rater:ppo_kl_coef=1.0``: its KL to the start). ``--variant cap=N``: the rater stops answering
(NaN) once it has given ``N`` verdicts, as a reviewer with ``N`` answers to give.

Each row records ``train_precision``, what training's ``"auto"`` chose on the machine that ran it (bf16 on
CUDA devices and CPUs with native bf16 support, else fp32); older rows lack it.

Data: ``bbc`` (BBC News openings, the first 60 words) and the few-shot suite's named sets
(``suite_data.py``).

``--strategies rater`` runs the README's reward-function path instead: ``GLiClassifier(method="ppo",
reward=rater).fit(texts)`` on ``budget`` texts, the rater answering for the labels the model chose; the
row's ``asked`` counts its verdicts, held-out ones included.

``--round N`` proposes in rounds of ``N``, as a reviewer working over days would: each round is proposed
by the model the verdicts so far made, and the whole log is fitted afresh from the zero-shot start after
each round (a row at each of ``--budgets`` reached; its ``fit_seconds`` counts every round so far,
proposals included). ``--variant warm`` fits each round after the first on its own verdicts, continuing from
the model the earlier rounds made (``warm_start=True``); ``--variant warm=log`` continues from it on the whole
log, the guard judging against that model.

Usage: ``python benchmarks/feedback.py [--data bbc] [--budgets 50,200] [--seeds 3] [--strategies random,uncertainty]``
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).parent))

import numpy as np
from sklearn.metrics import f1_score

from fewshot import load, saver
from skgliclass import GLiClassifier, GLiClassZeroShot, feedback
from skgliclass.datasets import load_bbc_news
from skgliclass.estimators import classifier
from skgliclass.inference import resolve_device
from skgliclass.training import guard, ppo

RESULTS = Path(__file__).parent / "results"
RATER_PARAMS: dict = {}  # the rater's GLiClassifier parameters a rater:name=value variant sets
RATER_CAP: int | None = None  # verdicts a rater gives before it stops answering (a cap=N variant), None: no end
KEY = ("data", "strategy", "budget", "noise", "seed", "variant", "round")
OPENING_WORDS = 60


def dataset(name: str) -> tuple[list[str], list[str]]:
    if name == "bbc":
        texts, labels = load_bbc_news(random_state=None)
        return [" ".join(t.split()[:OPENING_WORDS]) for t in texts], labels
    import suite_data

    texts, labels = suite_data.load(name)
    return [" ".join(t.split()[:OPENING_WORDS]) for t in texts], labels


def macro_f1(model, texts: list[str], truth: np.ndarray) -> float:
    proba = model.predict_proba(texts)
    return float(f1_score(truth, np.asarray(model.classes_)[proba.argmax(1)], average="macro"))


def run(
    name: str,
    budgets: list[int],
    seeds: range,
    strategies: list[str],
    noise: float,
    test_cap: int,
    save,
    variant: str,
    rounds: int = 0,
) -> None:
    texts, labels = dataset(name)
    classes = sorted(set(labels))
    start = GLiClassZeroShot(labels=classes).fit()
    for seed in seeds:
        order = np.random.default_rng(seed).permutation(len(texts))
        test, pool = order[:test_cap], order[test_cap:]
        test_texts, test_truth = [texts[i] for i in test], np.asarray(labels)[test]
        pool_texts = [texts[i] for i in pool]
        truth = dict(zip(pool_texts, np.asarray(labels)[pool], strict=True))
        start_f1 = macro_f1(start, test_texts, test_truth)
        for strategy in strategies:
            for budget in budgets:
                if strategy == "rater":
                    row = rate(classes, pool_texts[:budget], truth, noise, seed, test_texts, test_truth, start_f1)
                    print(json.dumps(row | {"data": name, "variant": variant}), flush=True)
                    save(row | {"data": name, "variant": variant})
                    continue
                if rounds:
                    continue
                log = start.propose(pool_texts, n=budget, strategy=strategy, random_state=seed)
                right = review(log, truth, noise, np.random.default_rng(seed + 1))
                began = time.perf_counter()
                clf = GLiClassifier(labels=classes, random_state=seed).fit(None, feedback=log)
                row = {
                    "variant": variant,
                    "data": name,
                    "strategy": strategy,
                    "budget": budget,
                    "noise": noise,
                    "seed": seed,
                    "start_f1": start_f1,
                    "f1": macro_f1(clf, test_texts, test_truth),
                    "right_share": float(right.mean()),
                    "best_epoch": clf.history_.get("best_epoch", [None])[0],
                    "fit_seconds": time.perf_counter() - began,
                    "n_test": len(test),
                }
                print(json.dumps(row), flush=True)
                save(row)
            if rounds and strategy != "rater":
                for row in in_rounds(
                    start,
                    classes,
                    pool_texts,
                    truth,
                    budgets,
                    rounds,
                    strategy,
                    noise,
                    seed,
                    test_texts,
                    test_truth,
                    warm={"warm": "round", "warm=log": "log"}.get(variant, ""),
                ):
                    row |= {"variant": variant, "data": name, "start_f1": start_f1}
                    print(json.dumps(row), flush=True)
                    save(row)


def review(log: dict, truth: dict, noise: float, rng: np.random.Generator) -> np.ndarray:
    """The simulated reviewer: fill ``log["verdict"]`` (1 when the shown label is the text's class, flipped
    with probability ``noise``) and return whether each shown label was right."""
    right = np.array([truth[t] == label for t, label in zip(log["text"], log["label"], strict=True)])
    log["verdict"] = (right ^ (rng.random(len(right)) < noise)).astype(int).tolist()
    return right


def in_rounds(
    start, classes, pool_texts, truth, budgets, size, strategy, noise, seed, test_texts, test_truth, warm=""
) -> Iterator[dict]:
    """Rounds of ``size`` proposals: each round is proposed by the model the verdicts so far made (the
    zero-shot start for the first), judged, and the whole log is fitted afresh from the start (``warm="round"``:
    the round's verdicts alone, continuing from the model the earlier rounds made; ``"log"``: the whole log,
    continuing from it); a row at each budget reached."""
    rng = np.random.default_rng(seed + 1)
    model, log, judged = start, {"text": [], "label": [], "pick": [], "verdict": []}, set()
    began = time.perf_counter()
    for round_index in itertools.count():
        done = len(log["text"])
        if done >= max(budgets):
            return
        n = min(size, min(b for b in budgets if b > done) - done)
        left = [t for t in pool_texts if t not in judged]
        batch = model.propose(left, n=n, strategy=strategy, random_state=seed + 1000 * round_index)
        review(batch, truth, noise, rng)
        for column in log:
            log[column] += batch[column]
        judged.update(batch["text"])
        if warm and round_index:  # from the model the earlier rounds made: the round's verdicts, or the whole log
            model = model.set_params(warm_start=True).fit(None, feedback=log if warm == "log" else batch)
        else:
            model = GLiClassifier(labels=classes, random_state=seed).fit(None, feedback=log)
        if len(log["text"]) in budgets:
            every = np.array([truth[t] == label for t, label in zip(log["text"], log["label"], strict=True)])
            yield {
                "strategy": strategy,
                "round": size,
                "budget": len(log["text"]),
                "noise": noise,
                "seed": seed,
                "f1": macro_f1(model, test_texts, test_truth),
                "right_share": float(every.mean()),
                "best_epoch": model.history_.get("best_epoch", [None])[0],
                "fit_seconds": time.perf_counter() - began,
                "n_test": len(test_texts),
            }


def rate(
    classes: list[str], texts: list[str], truth: dict, noise: float, seed: int, test_texts, test_truth, start_f1
) -> dict:
    """The README's rater: PPO with a reward function that says right (1) or wrong (0) for each label the model
    chose and nothing (NaN) elsewhere, on ``texts`` (``budget`` is their number; ``asked`` counts the verdicts)."""
    rng = np.random.default_rng(seed + 1)
    asked = [0]

    def rater(batch, actions, probs):
        right = np.array([[truth[t] == c for c in classes] for t in batch])
        right ^= rng.random(right.shape) < noise
        answered = actions == 1
        if RATER_CAP is not None:  # a reviewer who stops after RATER_CAP verdicts: the first ones asked, in order
            answered &= np.cumsum(answered.ravel()).reshape(answered.shape) <= RATER_CAP - asked[0]
        asked[0] += int(answered.sum())
        return np.where(answered, right.astype(float), np.nan)

    began = time.perf_counter()
    clf = GLiClassifier(method="ppo", labels=classes, reward=rater, random_state=seed, **RATER_PARAMS).fit(texts)
    return {
        "strategy": "rater",
        "budget": len(texts),
        "noise": noise,
        "seed": seed,
        "start_f1": start_f1,
        "f1": macro_f1(clf, test_texts, test_truth),
        "asked": asked[0],
        "best_epoch": clf.history_.get("best_epoch", [None])[0],
        "fit_seconds": time.perf_counter() - began,
        "n_test": len(test_texts),
    }


def pick(row: dict) -> str:
    """The row's strategy, with its round size when proposals came in rounds."""
    return row["strategy"] + (f", rounds of {row['round']}" if row.get("round") else "")


def table(rows: list[dict]) -> str:
    lines = [
        "| data | noise | strategy | verdicts | start | after | change (points) | seeds | fit s |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        key = (row["data"], row.get("variant", ""), row["noise"], pick(row), row["budget"])
        groups.setdefault(key, []).append(row)
    for (data, variant, noise, strategy, budget), group in sorted(groups.items()):
        start = np.mean([r["start_f1"] for r in group])
        after = np.array([r["f1"] for r in group])
        change = 100 * (after - np.array([r["start_f1"] for r in group]))
        name = f"{data} {variant}".strip()
        verdicts = str(budget)
        if strategy.startswith("rater"):  # the budget is the number of texts; the rater answered as often as asked
            verdicts = f"{np.mean([r['asked'] for r in group]):.0f} ({budget} texts)"
        lines.append(
            f"| {name} | {noise:.0%} | {strategy} | {verdicts} | {start:.3f} | {after.mean():.3f} ± {after.std():.3f} "
            f"| {change.mean():+.1f} (worst {change.min():+.1f}) | {len(group)} "
            f"| {np.mean([r['fit_seconds'] for r in group]):.0f} |"
        )
    return "\n".join(lines)


def reach(rows: list[dict]) -> str:
    """Per set and seed: random picks' score at their largest budget beside uncertainty picks' in rounds at each
    budget, and the fewest verdicts in rounds that reach it, above the start (share of random's verdicts)."""
    plain = [r for r in rows if not r.get("variant") and not r["noise"]]
    lines = [
        "| data | seed | random picks | uncertainty in rounds | reached with |",
        "|---|---:|---|---|---:|",
    ]
    for data, seed in sorted({(r["data"], r["seed"]) for r in plain if r.get("round")}):
        same = [r for r in plain if (r["data"], r["seed"]) == (data, seed)]
        rounds = sorted(
            (r for r in same if r.get("round") and r["strategy"] == "uncertainty"), key=lambda r: r["budget"]
        )
        randoms = (
            [r for r in same if r["strategy"] == "random" and r["budget"] > rounds[-1]["budget"]] if rounds else []
        )
        if not randoms:
            continue
        top = max(randoms, key=lambda r: r["budget"])
        # a round that kept its start reaches nothing, even where random picks kept theirs too
        reached = next((r["budget"] for r in rounds if r["f1"] >= top["f1"] and r["f1"] > r["start_f1"]), None)
        share = f"{reached} ({reached / top['budget']:.0%})" if reached else "not reached"
        scores = ", ".join(f"{r['f1']:.3f} at {r['budget']}" for r in rounds)
        lines.append(f"| {data} | {seed} | {top['f1']:.3f} at {top['budget']} | {scores} | {share} |")
    return "\n".join(lines)


def plot(rows: list[dict], path: Path) -> None:
    """Change of macro-F1 over the zero-shot start against verdicts, one panel per data set, one line per
    strategy and noise (mean over seeds, the band from worst to best seed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in rows if not r.get("variant") and r["strategy"] != "rater"]
    sets = sorted({r["data"] for r in rows})
    every = sorted({(pick(r), r["noise"]) for r in rows})
    colors = {line: f"C{i}" for i, line in enumerate(every)}  # one colour per strategy and noise in every panel
    ncols = min(len(sets), 5)
    nrows = -(-len(sets) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 3.2 * nrows), squeeze=False, sharey=True)
    for ax in axes.flat[len(sets) :]:
        ax.set_visible(False)
    for ax, name in zip(axes.flat, sets, strict=False):
        lines = sorted({(pick(r), r["noise"]) for r in rows if r["data"] == name})
        for strategy, noise in lines:
            group = [r for r in rows if (r["data"], pick(r), r["noise"]) == (name, strategy, noise)]
            budgets = sorted({r["budget"] for r in group})
            change = [[100 * (r["f1"] - r["start_f1"]) for r in group if r["budget"] == b] for b in budgets]
            label = strategy + (f", {noise:.0%} wrong" if noise else "")
            (line,) = ax.plot(
                budgets, [np.mean(c) for c in change], marker="o", label=label, color=colors[strategy, noise]
            )
            worst, best = [min(c) for c in change], [max(c) for c in change]
            ax.fill_between(budgets, worst, best, alpha=0.15, color=line.get_color())
        ax.axhline(0, color="grey", lw=0.8)
        ax.axhline(-1, color="grey", lw=0.8, ls=":")
        ax.set_xscale("log")
        ticks = sorted({r["budget"] for r in rows if r["data"] == name})
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.minorticks_off()
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("verdicts")
        ax.grid(alpha=0.3)
    for row in axes:
        row[0].set_ylabel("macro-F1 change (points)")
    fullest = max(axes.flat[: len(sets)], key=lambda ax: len(ax.get_lines()))
    fullest.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="bbc", help="comma-separated: bbc and suite set names")
    parser.add_argument("--budgets", default="50,200", help="verdicts per run, comma-separated")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--strategies", default="random,uncertainty")
    parser.add_argument("--noise", type=float, default=0.0, help="share of verdicts the reviewer gets wrong")
    parser.add_argument("--test-cap", type=int, default=400)
    parser.add_argument(
        "--variant",
        default="",
        help="a study: nofill, prior=N, guard=before, guard=pinned, held=N, rater_guard=before, rater_guard=logged, "
        "cap=N, rater:name=value;..., warm or warm=log",
    )
    parser.add_argument(
        "--round",
        type=int,
        default=0,
        help="proposals per round, each from the model the log so far made (0: one round)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "feedback.json"
    record = saver(path, KEY)
    probe = GLiClassifier()  # the estimators' own "auto" rule on this machine's device
    probe.device_ = resolve_device(probe.device)
    precision = "bf16" if probe._train_autocast() else "fp32"

    guard_name = {
        "guard=before": "confirmed",
        "guard=pinned": "pinned",
        "rater_guard=before": "one-error",
        "rater_guard=logged": "logged",
    }.get(args.variant, "right")

    def save(row: dict) -> None:
        record(row | {"train_precision": precision, "guard": guard_name})

    if args.variant == "nofill":
        classifier.fill_unknown = lambda targets, start, single_label, unknown: targets
    elif args.variant == "guard=before":  # confirmed labels only (guard.kept_right reads guard.right_bound)
        guard.right_bound = lambda logits, verdicts: float(guard.confirmed_kept(logits, verdicts).sum())
    elif args.variant == "guard=pinned":  # confirmed and pinned labels
        guard.right_bound = lambda logits, verdicts: float(guard.confirmed_kept(logits, guard.pinned(verdicts)).sum())
    elif args.variant == "rater_guard=before":  # a reviewer's verdicts in PPO: one standard error, no keep rule
        ppo.FEEDBACK_KEEP = None
    elif args.variant == "rater_guard=logged":  # a reviewer's verdicts in PPO: logged feedback's two errors
        ppo.RATER_Z = guard.FEEDBACK_Z
    elif args.variant.startswith("rater:"):  # rater:name=value;name=value sets the rater's GLiClassifier parameters
        for pair in args.variant.removeprefix("rater:").split(";"):
            key, value = pair.split("=")
            RATER_PARAMS[key] = json.loads(value)
    elif args.variant.startswith("cap="):
        global RATER_CAP
        RATER_CAP = int(args.variant.split("=")[1])
    elif args.variant.startswith("held="):
        classifier.HELD_OUT_VERDICTS = classifier.RATER_HELD_OUT_TEXTS = int(args.variant.split("=")[1])
    elif args.variant.startswith("prior="):
        prior = float(args.variant.split("=")[1])
        classifier.fill_weights = lambda targets, unknown: feedback.fill_weights(targets, unknown, prior)
    for name in args.data.split(","):
        run(
            name,
            [int(b) for b in args.budgets.split(",")],
            range(args.first_seed, args.first_seed + args.seeds),
            args.strategies.split(","),
            args.noise,
            args.test_cap,
            save,
            args.variant,
            args.round,
        )
    rows = load(path)
    report = table(rows) + "\n\nUncertainty picks in rounds against random picks' largest budget:\n\n" + reach(rows)
    (args.out / "feedback.md").write_text(report + "\n")
    print(report)
    try:
        plot(rows, args.out / "feedback.png")
    except ImportError:
        print("matplotlib is not installed: no plot.")


if __name__ == "__main__":
    main()
