"""Few-shot accuracy on BBC News: GLiClassifier with its defaults against the usual alternatives.

Two tasks, each run with ``k`` training examples per topic (seeded draws, the same for every
method):

- ``single``: one topic per article; test on every article not drawn for training.
- ``multi``: two-topic documents, each the opening (first 128 tokens) of two articles of
  different topics joined, labelled with both topics. Training and test documents are built
  from disjoint article pools; each topic opens ``k`` training documents.

Methods:

- ``tfidf``: TF-IDF + LogisticRegression (one-vs-rest for ``multi``),
- ``embeddings``: frozen all-MiniLM-L6-v2 embeddings (mean pooled, normalised) + LogisticRegression,
- ``setfit``: SetFit on the same MiniLM folder with its default settings (``pip install .[bench]``),
- ``reference``: the ``gliclass`` package's own training path on the same MiniLM (see ``_reference_train.py``),
- ``gliclass``: ``GLiClassifier()`` with no arguments (``--params`` adds some, for studies),
- ``ppo``: ``GLiClassifier(method="ppo")``,
- ``zeroshot``: ``GLiClassZeroShot`` with the bare topic names (no training).

Texts are cut to their first 256 MiniLM tokens for every method. Rows are merged into
``results/fewshot.json`` after every run (a rerun replaces rows with the same task, method, k
and seed), and the tables and plot are written from all saved rows.

Usage: ``python benchmarks/fewshot.py [--task single] [--k 2,4,8,16] [--seeds 5] [--methods ...]``
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, average_precision_score, f1_score
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from transformers import AutoModel, AutoTokenizer

from skgliclass import GLiClassifier, GLiClassZeroShot
from skgliclass.datasets import BBC_LABELS, load_bbc_news
from skgliclass.estimators._base import default_model_path

RESULTS = Path(__file__).parent / "results"
MAX_TOKENS = 256
OPENING_TOKENS = 128
MULTI_TEST_DOCS = 500
TOPICS = list(BBC_LABELS)


def cut_to_tokens(texts: list[str], limit: int = MAX_TOKENS) -> list[str]:
    """Each text cut to its first ``limit`` MiniLM tokens (at a token boundary)."""
    tokenizer = AutoTokenizer.from_pretrained(default_model_path())
    enc = tokenizer(texts, add_special_tokens=False, truncation=True, max_length=limit, return_offsets_mapping=True)
    return [
        text[: offsets[-1][1]] if offsets else text for text, offsets in zip(texts, enc["offset_mapping"], strict=True)
    ]


class Embedder:
    """all-MiniLM-L6-v2 sentence embeddings (masked mean, L2-normalised), remembered per text."""

    def __init__(self) -> None:
        path = default_model_path()
        self.tokenizer, self.model = AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()
        self.seen: dict[str, np.ndarray] = {}

    @torch.inference_mode()
    def __call__(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        todo = list(dict.fromkeys(t for t in texts if t not in self.seen))
        for start in range(0, len(todo), batch_size):
            part = todo[start : start + batch_size]
            batch = self.tokenizer(part, padding=True, truncation=True, max_length=MAX_TOKENS + 2, return_tensors="pt")
            states = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).float()
            vectors = torch.nn.functional.normalize((states * mask).sum(1) / mask.sum(1), dim=-1).numpy()
            self.seen.update(zip(part, vectors, strict=True))
        return np.stack([self.seen[t] for t in texts])


def single_split(labels: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``k`` training indices per class (seeded) and the rest as the test set."""
    rng = np.random.default_rng(seed)
    train = np.concatenate([rng.choice(np.flatnonzero(labels == c), k, replace=False) for c in np.unique(labels)])
    return np.sort(train), np.setdiff1d(np.arange(len(labels)), train)


def two_topic_docs(
    openings: list[str], labels: np.ndarray, pool: np.ndarray, firsts: list[str], rng: np.random.Generator
) -> tuple[list[str], np.ndarray]:
    """Documents joining two openings of different topics from ``pool``; ``firsts`` names each first topic."""
    by_topic = {t: list(rng.permutation(pool[labels[pool] == t])) for t in TOPICS}
    texts, targets = [], np.zeros((len(firsts), len(TOPICS)), dtype=int)
    for row, first in enumerate(firsts):
        second = rng.choice([t for t in TOPICS if t != first])
        a, b = by_topic[first].pop(), by_topic[second].pop()
        texts.append(openings[a] + "\n\n" + openings[b])
        targets[row, [TOPICS.index(first), TOPICS.index(second)]] = 1
    return texts, targets


def multi_split(
    openings: list[str], labels: np.ndarray, k: int, seed: int
) -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
    """Two-topic training documents (each topic opens ``k``) and test documents, from disjoint articles."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(labels))
    train_pool, test_pool = order[: len(order) // 3], order[len(order) // 3 :]
    x_train, y_train = two_topic_docs(openings, labels, train_pool, [t for t in TOPICS for _ in range(k)], rng)
    x_test, y_test = two_topic_docs(openings, labels, test_pool, list(rng.choice(TOPICS, MULTI_TEST_DOCS)), rng)
    return x_train, y_train, x_test, y_test


def as_lists(y: np.ndarray) -> list[list[str]]:
    """Label names of the rows of an indicator matrix (or one name per single-label row)."""
    return [[TOPICS[j] for j in np.flatnonzero(row)] for row in y] if y.ndim == 2 else [[t] for t in y]


# Each method fits on (train texts, train targets, seed, params) and returns its predict_proba,
# whose columns follow TOPICS.
Predict = Callable[[list[str]], np.ndarray]
Method = Callable[[list[str], np.ndarray, int, dict], Predict]


def fit_tfidf(x_train: list[str], y: np.ndarray, seed: int, params: dict) -> Predict:
    lr = LogisticRegression(max_iter=2000)
    clf = make_pipeline(TfidfVectorizer(sublinear_tf=True), OneVsRestClassifier(lr) if y.ndim == 2 else lr)
    return clf.fit(x_train, y).predict_proba


EMBED: list[Embedder] = []


def fit_embeddings(x_train: list[str], y: np.ndarray, seed: int, params: dict) -> Predict:
    if not EMBED:
        EMBED.append(Embedder())
    lr = LogisticRegression(max_iter=2000)
    clf = (OneVsRestClassifier(lr) if y.ndim == 2 else lr).fit(EMBED[0](x_train), y)
    return lambda x: clf.predict_proba(EMBED[0](x))


def fit_setfit(x_train: list[str], y: np.ndarray, seed: int, params: dict) -> Predict:
    from datasets import Dataset
    from setfit import SetFitModel, Trainer, TrainingArguments

    multi = y.ndim == 2
    model = SetFitModel.from_pretrained(default_model_path(), multi_target_strategy="one-vs-rest" if multi else None)
    classes = sorted(set(y.tolist())) if not multi else []  # SetFit's head orders its columns by label id
    targets = [list(map(int, row)) for row in y] if multi else [classes.index(t) for t in y]
    with tempfile.TemporaryDirectory() as scratch:  # SetFit writes checkpoints to ./checkpoints otherwise
        Trainer(
            model=model,
            args=TrainingArguments(output_dir=scratch, seed=seed, show_progress_bar=False),
            train_dataset=Dataset.from_dict({"text": x_train, "label": targets}),
        ).train()
    return lambda x: np.asarray(model.predict_proba(x, as_numpy=True), dtype=float)


def fit_reference(x_train: list[str], y: np.ndarray, seed: int, params: dict) -> Predict:
    from _reference_train import fit_predict_reference

    # The reference trains and predicts in one call: its time shows as predict seconds.
    return lambda x: fit_predict_reference(x_train, as_lists(y), x, TOPICS, seed, multi_label=y.ndim == 2)


def gliclassifier(method: str) -> Method:
    def fit(x_train: list[str], y: np.ndarray, seed: int, params: dict) -> Predict:
        extra = {"labels": TOPICS} if y.ndim == 2 else {}
        clf = GLiClassifier(random_state=seed, method=method, **extra, **params).fit(x_train, y)
        columns = [list(clf.label_names_).index(t) for t in TOPICS]  # label names, also for an indicator y
        return lambda x: clf.predict_proba(x)[:, columns]

    return fit


def fit_zeroshot(x_train: list[str], y: np.ndarray, seed: int, params: dict) -> Predict:
    return GLiClassZeroShot(labels=TOPICS, multi_label=y.ndim == 2, **params).fit().predict_proba


METHODS: dict[str, Method] = {
    "tfidf": fit_tfidf,
    "embeddings": fit_embeddings,
    "setfit": fit_setfit,
    "reference": fit_reference,
    "gliclass": gliclassifier("auto"),
    "ppo": gliclassifier("ppo"),
    "zeroshot": fit_zeroshot,
}
NAMES = {
    "tfidf": "TF-IDF + LogisticRegression",
    "embeddings": "frozen MiniLM embeddings + LogisticRegression",
    "setfit": "SetFit (MiniLM, default settings)",
    "reference": "gliclass package training (MiniLM uni-encoder)",
    "gliclass": "GLiClassifier() (defaults)",
    "ppo": 'GLiClassifier(method="ppo")',
    "zeroshot": "GLiClassZeroShot() (topic names, no training)",
}


def scores(task: str, y_true: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """Macro-F1 and accuracy (single), or micro/macro-F1 at the 0.5 threshold and macro average precision (multi)."""
    if task == "single":
        predicted = np.asarray(TOPICS)[proba.argmax(1)]
        return {
            "macro_f1": float(f1_score(y_true, predicted, average="macro")),
            "accuracy": float(accuracy_score(y_true, predicted)),
        }
    predicted = (proba >= 0.5).astype(int)
    return {
        "micro_f1": float(f1_score(y_true, predicted, average="micro", zero_division=0)),
        "macro_f1": float(f1_score(y_true, predicted, average="macro", zero_division=0)),
        "average_precision": float(average_precision_score(y_true, proba, average="macro")),
    }


def run(task: str, ks: list[int], seeds: range, methods: list[str], params: dict, save: Callable[[dict], None]) -> None:
    """Fit and score every method on every (k, seed) draw of ``task``; ``save`` gets each row as it is made."""
    texts, labels = load_bbc_news(random_state=None)
    labels = np.asarray(labels)
    texts = cut_to_tokens(texts, MAX_TOKENS if task == "single" else OPENING_TOKENS)
    zero_shot: np.ndarray | None = None
    for k in ks:
        for seed in seeds:
            if task == "single":
                train, test = single_split(labels, k, seed)
                x_train, y_train = [texts[i] for i in train], labels[train]
                x_test, y_test = [texts[i] for i in test], labels[test]
            else:
                x_train, y_train, x_test, y_test = multi_split(texts, labels, k, seed)
            for method in methods:
                start = time.perf_counter()
                predict = METHODS[method](x_train, y_train, seed, params if method in PARAMETRISED else {})
                fit_seconds = time.perf_counter() - start
                if method == "zeroshot" and task == "single":  # no training: one pass over every article
                    zero_shot = predict(texts) if zero_shot is None else zero_shot
                    proba = zero_shot[test]
                else:
                    proba = predict(x_test)
                row = {"task": task, "method": method, "k": k, "seed": seed, **scores(task, y_test, proba)}
                row.update(fit_seconds=fit_seconds, predict_seconds=time.perf_counter() - start - fit_seconds)
                if params and method in PARAMETRISED:
                    row["params"] = params
                save(row)
                print(json.dumps(row), flush=True)


PARAMETRISED = {"gliclass", "ppo", "zeroshot"}
KEY = ("task", "method", "k", "seed", "params")


def saver(path: Path, key: tuple[str, ...] = KEY) -> Callable[[dict], None]:
    """Merge each new row into the JSON at ``path`` (replacing a row with the same ``key`` fields), at once."""

    def save(row: dict) -> None:
        rows = [r for r in load(path) if [r.get(f) for f in key] != [row.get(f) for f in key]]
        path.write_text(json.dumps([*rows, row], indent=1))

    return save


def load(path: Path) -> list[dict]:
    """Saved rows; rows of the first version of this script count as the single-label task."""
    rows = json.loads(path.read_text()) if path.exists() else []
    for r in rows:
        r.setdefault("task", "single")
    return rows


def summary(rows: list[dict], task: str) -> str:
    """Markdown table: mean ± standard deviation over seeds per method and k (rows with params left out)."""
    rows = [r for r in rows if r["task"] == task and "params" not in r]
    metrics = ["macro_f1", "accuracy"] if task == "single" else ["micro_f1", "macro_f1", "average_precision"]
    head = "| method | k | seeds | " + " | ".join(m.replace("_", "-") for m in metrics) + " | fit s | predict s |"
    lines = [head, "|" + "---|" * (len(metrics) + 5)]
    for method in [m for m in NAMES if any(r["method"] == m for r in rows)]:
        for k in sorted({r["k"] for r in rows if r["method"] == method}):
            part = [r for r in rows if r["method"] == method and r["k"] == k]
            cells = [f"{np.mean([r[m] for r in part]):.3f} ± {np.std([r[m] for r in part]):.3f}" for m in metrics]
            fit = np.mean([r.get("fit_seconds", r.get("seconds", 0.0)) for r in part])
            predict = np.mean([r.get("predict_seconds", 0.0) for r in part])
            cells += [f"{fit:.1f}", f"{predict:.1f}"]
            lines.append(f"| {NAMES[method]} | {k} | {len(part)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def by_k(rows: list[dict], task: str, metric: str = "macro_f1") -> str:
    """Markdown table of one metric's mean over seeds: a row per method, a column per k."""
    rows = [r for r in rows if r["task"] == task and "params" not in r]
    ks = sorted({r["k"] for r in rows})
    lines = ["| method | " + " | ".join(f"k={k}" for k in ks) + " |", "|---|" + "---:|" * len(ks)]
    for method in [m for m in NAMES if any(r["method"] == m for r in rows)]:
        cells = []
        for k in ks:
            values = [r[metric] for r in rows if r["method"] == method and r["k"] == k]
            cells.append(f"{np.mean(values):.3f}" if values else "")
        lines.append(f"| {NAMES[method]} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot(rows: list[dict], path: Path) -> None:
    """Macro-F1 against k (log scale), one line per method, single-label task."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in rows if r["task"] == "single" and "params" not in r]
    fig, ax = plt.subplots(figsize=(7, 4))
    for method in [m for m in NAMES if any(r["method"] == m for r in rows)]:
        ks = sorted({r["k"] for r in rows if r["method"] == method})
        f1 = [[r["macro_f1"] for r in rows if r["method"] == method and r["k"] == k] for k in ks]
        mean, sd = [np.mean(v) for v in f1], [np.std(v) for v in f1]
        ax.errorbar(ks, mean, yerr=sd, marker="o", capsize=3, label=NAMES[method])
    ax.set_xscale("log", base=2)
    ticks = sorted({r["k"] for r in rows})
    ax.set_xticks(ticks, [str(k) for k in ticks])
    ax.minorticks_off()
    ax.set_xlabel("labelled examples per topic (k)")
    ax.set_ylabel("macro-F1 on the held-out articles")
    ax.set_title("BBC News, few-shot (mean ± sd over seeds)")
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=["single", "multi"], default="single")
    parser.add_argument("--k", default="2,4,8,16", help="examples per topic, comma-separated")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0, help="run seeds first-seed .. first-seed+seeds-1")
    parser.add_argument("--methods", default=",".join(m for m in METHODS if m != "ppo"))
    parser.add_argument("--params", default="{}", help="JSON keyword arguments for gliclass, ppo and zeroshot")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--merge", nargs="+", type=Path, help="only merge these saved fewshot.json files into --out")
    args = parser.parse_args()
    methods = args.methods.split(",")
    unknown = set(methods) - set(METHODS)
    if unknown:
        parser.error(f"unknown methods {sorted(unknown)}; choose from {sorted(METHODS)}")
    args.out.mkdir(parents=True, exist_ok=True)
    saved = args.out / "fewshot.json"
    if args.merge:  # runs made in separate processes (or machines) go into one table
        for path in args.merge:
            for row in load(path):
                saver(saved)(row)
    else:
        run(
            args.task,
            [int(k) for k in args.k.split(",")],
            range(args.first_seed, args.first_seed + args.seeds),
            methods,
            json.loads(args.params),
            saver(saved),
        )
    rows = load(saved)
    text = "".join(
        f"### {'Single-label' if t == 'single' else 'Multi-label (two-topic documents)'}\n\n"
        f"Macro-F1, mean over seeds:\n\n{by_k(rows, t)}\nAll measures (mean ± sd over seeds):\n\n{summary(rows, t)}\n"
        for t in ("single", "multi")
        if any(r["task"] == t for r in rows)
    )
    (args.out / "fewshot.md").write_text(text)
    print(text)
    try:
        plot(rows, args.out / "fewshot.png")
    except ImportError:
        print("matplotlib is not installed: no plot.")


if __name__ == "__main__":
    main()
