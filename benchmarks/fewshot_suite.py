"""Few-shot accuracy on a suite of task types: sentiment, spam, intent, stance, subjectivity, hedging, ...

The data sets come from packages on public registries (``suite_data.py`` reads their files). For
each set, ``k`` training texts per class are drawn (seeded; the same draw for every method) and the
test set is the rest, capped at ``--test-cap`` rows (a stratified seeded draw). A set name with
``:codes`` (e.g. ``uci_sentiment:codes``) relabels its classes ``"0" .. "C-1"``: labels that carry no
meaning.

Methods: ``tfidf`` (TF-IDF + LogisticRegression), ``embeddings`` (frozen MiniLM + LogisticRegression),
``setfit`` (SetFit, default settings, on the same MiniLM), ``gliclass`` (``GLiClassifier()``;
``--params`` adds keyword arguments and ``--tag`` names such a variant), ``zeroshot``
(``GLiClassZeroShot`` on the class names).

Studies: ``--blend 0.25,0.5`` also scores, from the same fits, the fine-tuned model's log-probabilities
mixed with those of frozen MiniLM + LR (weight w on the latter; tag ``<tag>+lr<w>``); ``--average-seeds 3``
averages the probabilities of that many fits of ``GLiClassifier`` (other seeds, same draw); ``--paired``
also scores the fine-tuned model alone, without its embedding head (tag ``<tag>@model``);
``--start means`` first trains the label side so that each label vector starts at its class's mean
text vector (the label names then carry no weight); ``--start pairs`` first runs SetFit's contrastive
stage (pairs of training texts) on the model's own text vectors.

Rows are merged into ``<out>/fewshot_suite.json`` (a rerun replaces rows with the same data set,
method, tag, k and seed); tables and a plot are written from every saved row.

Usage: ``python benchmarks/fewshot_suite.py [--data all] [--k 4,8,16] [--seeds 5] [--methods ...]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).parent))

import numpy as np
import suite_data
from sklearn.metrics import f1_score

from fewshot import cut_to_tokens, fit_embeddings, fit_setfit, fit_tfidf, saver
from skgliclass import GLiClassifier, GLiClassZeroShot
from skgliclass.estimators._base import GLiClassEstimator

RESULTS = Path(__file__).parent / "results"
MAX_TOKENS = 256
KEY = ("data", "method", "tag", "k", "seed")
NAMES = {
    "tfidf": "TF-IDF + LR",
    "embeddings": "frozen MiniLM + LR",
    "setfit": "SetFit",
    "gliclass": "GLiClassifier()",
    "zeroshot": "zero-shot (names)",
}

Predict = Callable[[list[str]], np.ndarray]


def split(labels: np.ndarray, k: int, seed: int, test_cap: int) -> tuple[np.ndarray, np.ndarray]:
    """``k`` training rows per class and at most ``test_cap`` test rows from the rest (stratified, seeded)."""
    rng = np.random.default_rng(seed)
    train = np.concatenate([rng.choice(np.flatnonzero(labels == c), k, replace=False) for c in np.unique(labels)])
    rest = np.setdiff1d(np.arange(len(labels)), train)
    if len(rest) > test_cap:  # the same share of each class as in the rest
        share = test_cap / len(rest)
        rest = np.concatenate(
            [
                rng.choice(part, max(1, round(len(part) * share)), replace=False)
                for c in np.unique(labels[rest])
                for part in [rest[labels[rest] == c]]
            ]
        )
    return np.sort(train), np.sort(rest)


class MeansStart(GLiClassifier):
    """A study: before fine-tuning, the label side is trained for a few steps so that each label vector
    starts at the mean text vector of its class (the names then carry no weight). Bi-encoders only."""

    def _train(self, model, texts, matrix, settings, rng, loop, ppo=None, start=None, validation=None):  # type: ignore[no-untyped-def]
        if ppo is None:
            _labels_to_class_means(model, self._builder, texts, matrix, self._label_texts(), self.device_)
        return super()._train(model, texts, matrix, settings, rng, loop, ppo, start, validation)


def _labels_to_class_means(model, builder, texts, matrix, labels, device, steps: int = 30) -> None:  # type: ignore[no-untyped-def]
    import torch

    from skgliclass.batching import label_vectors
    from skgliclass.training.forward import forward_batch

    with torch.no_grad():
        model.eval()
        vectors = torch.cat(
            [forward_batch(model, builder, texts[i : i + 32], labels, device).text for i in range(0, len(texts), 32)]
        )  # (n, D)
        targets = torch.as_tensor(matrix, device=device).clamp(min=0)  # (n, C)
        means = torch.nn.functional.normalize(targets.T @ vectors, dim=-1)  # (C, D)
    encoded = builder.build(list(texts[:1]), list(labels))
    side = [p for n, p in model.named_parameters() if "label_encoder" in n or "projector" in n]
    optimizer = torch.optim.Adam(side, lr=1e-4)
    model.train()
    for _ in range(steps):
        got = label_vectors(model, encoded.label_ids, builder.pad_id, device, len(labels))  # (C, D)
        loss = (1 - (torch.nn.functional.normalize(got, dim=-1) * means).sum(-1)).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


class PairsStart(GLiClassifier):
    """A study: before fine-tuning, SetFit's contrastive stage on the model's own text vectors: pairs of
    training texts (every pair, the rarer of same-class and other-class pairs drawn again until both
    are as many, as SetFit's "oversampling"), cosine similarity pulled to 1 or 0, one epoch, lr 2e-5."""

    def _train(self, model, texts, matrix, settings, rng, loop, ppo=None, start=None, validation=None):  # type: ignore[no-untyped-def]
        if ppo is None:
            _contrastive_pairs(model, self._builder, texts, matrix, self._label_texts(), self.device_, rng)
        return super()._train(model, texts, matrix, settings, rng, loop, ppo, start, validation)


def _contrastive_pairs(model, builder, texts, matrix, labels, device, rng, batch_size: int = 16) -> None:  # type: ignore[no-untyped-def]
    import torch

    from skgliclass.training.forward import forward_batch

    classes = np.asarray(matrix).argmax(1)
    first, second = np.triu_indices(len(texts), k=1)
    same = classes[first] == classes[second]
    positive, negative = np.flatnonzero(same), np.flatnonzero(~same)
    small, large = sorted([positive, negative], key=len)
    if len(small) == 0:
        return
    pairs = np.concatenate([large, small, rng.choice(small, len(large) - len(small))])
    pairs = rng.permutation(pairs)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-5)
    model.train()
    for i in range(0, len(pairs), batch_size):
        batch = pairs[i : i + batch_size]
        rows = np.unique(np.concatenate([first[batch], second[batch]]))
        where = {r: j for j, r in enumerate(rows)}
        vectors = forward_batch(model, builder, [texts[r] for r in rows], labels, device).text  # (U, D)
        vectors = torch.nn.functional.normalize(vectors.float(), dim=-1)
        a = vectors[[where[r] for r in first[batch]]]
        b = vectors[[where[r] for r in second[batch]]]
        target = torch.as_tensor(same[batch], dtype=torch.float32, device=device)
        loss = torch.nn.functional.mse_loss((a * b).sum(-1), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


STARTS = {"means": MeansStart, "pairs": PairsStart}


def fit_gliclass(x_train: list[str], y: np.ndarray, seed: int, params: dict) -> Predict:
    runs = params.pop("_average_seeds", 1)
    kind = STARTS.get(params.pop("_start", ""), GLiClassifier)
    fits = [kind(random_state=seed + 1000 * i, **params).fit(x_train, y) for i in range(runs)]

    def predict(x: list[str]) -> np.ndarray:  # columns: sorted class names, as every other method's
        return np.mean([clf.predict_proba(x) for clf in fits], axis=0)

    # The fine-tuned model alone (no embedding head), for paired comparisons; and the weights used.
    predict.model_only = lambda x: GLiClassEstimator._logits(fits[0], x)  # type: ignore[attr-defined]
    predict.head_weights = list(fits[0].head_weights_)  # type: ignore[attr-defined]
    predict.average_fits = fits[0].average_fits_  # type: ignore[attr-defined]
    return predict


def fit_zeroshot(x_train: list[str], y: np.ndarray, seed: int, params: dict) -> Predict:
    return GLiClassZeroShot(**params).fit(None, np.unique(y)).predict_proba


METHODS: dict[str, Callable[[list[str], np.ndarray, int, dict], Predict]] = {
    "tfidf": fit_tfidf,
    "embeddings": fit_embeddings,
    "setfit": fit_setfit,
    "gliclass": fit_gliclass,
    "zeroshot": fit_zeroshot,
}


def load_set(name: str, root: Path) -> tuple[list[str], np.ndarray]:
    """Texts (cut to MAX_TOKENS MiniLM tokens) and labels of ``name`` (``name:codes``: labels 0..C-1)."""
    base, _, variant = name.partition(":")
    texts, labels = suite_data.SUITE[base](root)
    if variant == "codes":
        texts, labels = suite_data.integer_coded(texts, labels)
    return cut_to_tokens(texts, MAX_TOKENS), np.asarray(labels)


def run(args: argparse.Namespace, save: Callable[[dict], None]) -> None:
    """Fit and score each method on each (set, k, seed) draw; ``save`` gets each row as it is made."""
    params = json.loads(args.params)
    for name in args.data:
        texts, labels = load_set(name, args.root)
        classes = np.unique(labels)
        for k in args.k:
            if min(np.sum(labels == c) for c in classes) <= k:
                print(f"{name}: a class has no more than {k} rows, k={k} skipped", flush=True)
                continue
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                train, test = split(labels, k, seed, args.test_cap)
                x_train, y_train = [texts[i] for i in train], labels[train]
                x_test, y_test = [texts[i] for i in test], labels[test]
                for method in args.methods:
                    own = method in ("gliclass", "zeroshot")
                    extra = dict(params, _average_seeds=args.average_seeds, _start=args.start)
                    extra = extra if method == "gliclass" else params
                    start = time.perf_counter()
                    predict = METHODS[method](x_train, y_train, seed, extra if own else {})
                    fit_seconds = time.perf_counter() - start
                    proba = predict(x_test)
                    scored = [(args.tag if own else "", proba)]
                    if method == "gliclass" and args.paired:
                        scored.append((f"{args.tag}@model", predict.model_only(x_test)))
                    if method == "gliclass" and args.blend:
                        frozen = np.log(np.clip(fit_embeddings(x_train, y_train, seed, {})(x_test), 1e-6, 1))
                        own_log = np.log(np.clip(proba, 1e-12, 1))
                        scored += [(f"{args.tag}+lr{w:g}", (1 - w) * own_log + w * frozen) for w in args.blend]
                    for tag, scores in scored:
                        predicted = classes[scores.argmax(1)]
                        row = {
                            "data": name,
                            "method": method,
                            "tag": tag,
                            "k": k,
                            "seed": seed,
                            "macro_f1": float(f1_score(y_test, predicted, average="macro")),
                            "accuracy": float(np.mean(predicted == y_test)),
                            "n_test": len(test),
                            "fit_seconds": fit_seconds,
                        }
                        if method == "gliclass":
                            row["head_weights"] = predict.head_weights
                            row["average_fits"] = predict.average_fits
                        if own and (params or args.average_seeds > 1):
                            row["params"] = dict(params, average_seeds=args.average_seeds)
                        save(row)
                        print(json.dumps(row), flush=True)


def load(path: Path) -> list[dict]:
    return json.loads(path.read_text()) if path.exists() else []


def label(method: str, tag: str) -> str:
    return NAMES.get(method, method) + (f" [{tag}]" if tag else "")


# Sets the defaults were chosen on; the others were looked at only to confirm them.
CHOICE_SETS = ("uci_sentiment", "intent", "hedging", "commons_party", "review_or_plot")


def table(rows: list[dict], k: int) -> str:
    """Markdown: a row per data set, a column per method: macro-F1 mean ± sd over seeds at ``k`` (no variants)."""
    rows = [r for r in rows if r["k"] == k and not r["tag"]]
    columns = sorted({(r["method"], r["tag"]) for r in rows}, key=lambda m: (list(NAMES).index(m[0]), m[1]))
    sets = sorted({r["data"] for r in rows})
    lines = ["| data | " + " | ".join(label(*m) for m in columns) + " |", "|---|" + "---:|" * len(columns)]
    means: dict[tuple[str, str], list[float]] = {m: [] for m in columns}
    most = max(
        (len({r["seed"] for r in rows if r["data"] == s and r["method"] == m}) for s in sets for m, _ in columns),
        default=0,
    )
    for name in sets:
        cells = []
        for m in columns:
            values = [r["macro_f1"] for r in rows if r["data"] == name and (r["method"], r["tag"]) == m]
            few = f" ({len(values)} seeds)" if 0 < len(values) < most else ""
            cells.append(f"{np.mean(values):.3f} ± {np.std(values):.3f}{few}" if values else "")
            if values:
                means[m].append(float(np.mean(values)))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    complete = [m for m in columns if len(means[m]) == len(sets)]
    lines.append(
        "| **mean over sets** | "
        + " | ".join(f"**{np.mean(means[m]):.3f}**" if m in complete else "" for m in columns)
        + " |"
    )
    seconds = [np.mean([r["fit_seconds"] for r in rows if (r["method"], r["tag"]) == m]) for m in columns]
    lines.append("| fit seconds (mean) | " + " | ".join(f"{s:.1f}" for s in seconds) + " |")
    return "\n".join(lines) + "\n"


def runs(row: dict) -> int:
    """How many runs the row's fit averaged (rows from before ``average_fits`` trained once)."""
    return int(row.get("average_fits") or row.get("params", {}).get("average_fits", 1))


def variants(rows: list[dict], k: int) -> str:
    """Markdown: each GLiClassifier variant at ``k`` against the defaults on the same draws, in points of
    macro-F1 (mean over seeds), averaged over the choice sets and over the other sets. A variant that trained
    once is set against the single-run defaults (tag ``single``) where the draw has them: the defaults it was
    measured against before ``average_fits``; ``single`` and ``one`` (single runs) against today's."""
    default = {}
    for r in rows:
        if r["k"] == k and r["method"] == "gliclass" and r["tag"] in ("", "single"):
            default[(r["tag"], r["data"], r["seed"])] = r["macro_f1"]

    def baseline(r: dict) -> float | None:
        draw = (r["data"], r["seed"])
        if r["tag"] not in ("single", "one") and runs(r) == 1 and ("single", *draw) in default:
            return default[("single", *draw)]
        return default.get(("", *draw))

    tags = sorted({r["tag"] for r in rows if r["k"] == k and r["method"] == "gliclass" and r["tag"]})
    lines = ["| variant | choice sets | other sets | sets | draws |", "|---|---:|---:|---:|---:|"]
    for tag in tags:
        gains: dict[str, list[float]] = {}
        for r in rows:
            if r["k"] == k and r["method"] == "gliclass" and r["tag"] == tag and baseline(r) is not None:
                gains.setdefault(r["data"], []).append(100 * (r["macro_f1"] - baseline(r)))
        per_set = {name: float(np.mean(v)) for name, v in gains.items()}
        choice = [v for name, v in per_set.items() if name in CHOICE_SETS]
        other = [v for name, v in per_set.items() if name not in CHOICE_SETS]
        cells = [f"{np.mean(part):+.1f}" if part else "" for part in (choice, other)]
        draws = sum(len(v) for v in gains.values())
        lines.append(f"| {tag} | " + " | ".join(cells) + f" | {len(per_set)} | {draws} |")
    return "\n".join(lines) + "\n"


def plot(rows: list[dict], path: Path, k: int) -> None:
    """Macro-F1 per data set at ``k`` (mean ± sd over seeds), one bar per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in rows if r["k"] == k and not r["tag"]]
    methods = [m for m in NAMES if any(r["method"] == m for r in rows)]
    sets = sorted({r["data"] for r in rows})
    fig, ax = plt.subplots(figsize=(max(7, 1.1 * len(sets)), 4))
    width = 0.8 / max(len(methods), 1)
    for i, method in enumerate(methods):
        values = [[r["macro_f1"] for r in rows if r["data"] == s and r["method"] == method] for s in sets]
        ax.bar(
            np.arange(len(sets)) + i * width,
            [np.mean(v) if v else 0 for v in values],
            width,
            yerr=[np.std(v) if v else 0 for v in values],
            capsize=2,
            label=NAMES[method],
        )
    ax.set_xticks(np.arange(len(sets)) + 0.4 - width / 2, sets, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(f"macro-F1, k = {k} per class")
    ax.set_title("Few-shot suite (mean ± sd over seeds)")
    ax.legend(fontsize=7, ncol=max(1, len(methods)))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="all", help="comma-separated set names (':codes' relabels 0..C-1), or all")
    parser.add_argument("--root", type=Path, default=suite_data.DEFAULT_ROOT, help="where the packages are kept")
    parser.add_argument("--k", default="4,8,16", help="examples per class, comma-separated")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--test-cap", type=int, default=400, help="most test rows per set and draw")
    parser.add_argument("--methods", default="tfidf,embeddings,gliclass")
    parser.add_argument("--params", default="{}", help="JSON keyword arguments for gliclass and zeroshot")
    parser.add_argument("--tag", default="", help="names a --params variant in the tables")
    parser.add_argument("--blend", default="", help="weights of frozen MiniLM + LR mixed into gliclass (a study)")
    parser.add_argument("--average-seeds", type=int, default=1, help="gliclass: average this many fits (a study)")
    parser.add_argument("--paired", action="store_true", help="gliclass: also score the fine-tuned model alone")
    parser.add_argument(
        "--start", choices=sorted(STARTS), default="", help="gliclass: a stage before fine-tuning (a study)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--merge", nargs="+", type=Path, help="only merge these saved JSON files into --out")
    args = parser.parse_args()
    args.methods = args.methods.split(",")
    args.k = [int(k) for k in args.k.split(",")]
    args.data = [*list(suite_data.SUITE), "uci_sentiment:codes"] if args.data == "all" else args.data.split(",")
    if set(args.methods) - set(METHODS):
        parser.error(f"unknown methods {sorted(set(args.methods) - set(METHODS))}; choose from {sorted(METHODS)}")
    args.blend = [float(w) for w in args.blend.split(",") if w]
    if bool(args.tag) != bool(args.params != "{}" or args.average_seeds > 1 or args.start):
        parser.error("--params (or --average-seeds) and --tag go together: a variant needs a name in the tables")
    args.out.mkdir(parents=True, exist_ok=True)
    saved = args.out / "fewshot_suite.json"
    if args.merge:
        for path in args.merge:
            for row in load(path):
                saver(saved, KEY)(row)
    else:
        suite_data.fetch(args.root)
        run(args, saver(saved, KEY))
    rows = load(saved)
    text = "".join(
        f"### k = {k}\n\nMacro-F1, mean ± sd over seeds:\n\n{table(rows, k)}\n"
        + (
            f"Variants of GLiClassifier, points against the defaults on the same draws:\n\n{variants(rows, k)}\n"
            if any(r["tag"] and r["k"] == k for r in rows)
            else ""
        )
        for k in sorted({r["k"] for r in rows})
    )
    (args.out / "fewshot_suite.md").write_text(text)
    print(text)
    try:
        plot(rows, args.out / "fewshot_suite.png", 8)
    except ImportError:
        print("matplotlib is not installed: no plot.")


if __name__ == "__main__":
    main()
