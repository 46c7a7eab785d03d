"""Few-shot accuracy on BBC News: GLiClassifier with its defaults against two standard baselines.

Each run draws ``k`` training articles per topic (seeded), tests on all the rest, and fits:

- TF-IDF + LogisticRegression,
- frozen all-MiniLM-L6-v2 embeddings (mean pooled, normalised) + LogisticRegression,
- ``GLiClassifier()`` with no arguments (fine-tunes the same MiniLM with focal loss),
- ``GLiClassifier(method="ppo")`` (PPO with the F1 reward, otherwise the defaults),
- ``GLiClassZeroShot`` (no training) for reference.

Texts are cut to their first 256 MiniLM tokens for every method. Writes
``results/fewshot.{json,md,png}`` next to this file.

Usage: ``python benchmarks/fewshot.py [--k 8] [--seeds 5] [--methods tfidf,embeddings,gliclass,ppo,zeroshot] [--keep]``
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import make_pipeline
from transformers import AutoModel, AutoTokenizer

from skgliclass import GLiClassifier, GLiClassZeroShot
from skgliclass.datasets import load_bbc_news
from skgliclass.estimators._base import default_model_path

RESULTS = Path(__file__).parent / "results"
MAX_TOKENS = 256


def cut_to_tokens(texts: list[str], limit: int = MAX_TOKENS) -> list[str]:
    """Each text cut to its first ``limit`` MiniLM tokens (at a token boundary)."""
    tokenizer = AutoTokenizer.from_pretrained(default_model_path())
    enc = tokenizer(texts, add_special_tokens=False, truncation=True, max_length=limit, return_offsets_mapping=True)
    return [
        text[: offsets[-1][1]] if offsets else text for text, offsets in zip(texts, enc["offset_mapping"], strict=True)
    ]


@torch.inference_mode()
def minilm_embeddings(texts: list[str], batch_size: int = 32) -> np.ndarray:
    """all-MiniLM-L6-v2 sentence embeddings: masked mean of the last layer, L2-normalised."""
    path = default_model_path()
    tokenizer, model = AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()
    out = []
    for start in range(0, len(texts), batch_size):
        batch = tokenizer(
            texts[start : start + batch_size],
            padding=True,
            truncation=True,
            max_length=MAX_TOKENS + 2,
            return_tensors="pt",
        )
        states = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        vectors = (states * mask).sum(1) / mask.sum(1)
        out.append(torch.nn.functional.normalize(vectors, dim=-1).numpy())
    return np.concatenate(out)


def split(labels: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``k`` training indices per class (seeded) and the rest as the test set."""
    rng = np.random.default_rng(seed)
    train = np.concatenate([rng.choice(np.flatnonzero(labels == c), k, replace=False) for c in np.unique(labels)])
    return np.sort(train), np.setdiff1d(np.arange(len(labels)), train)


def run(k: int, seeds: int, methods: list[str]) -> list[dict]:
    texts, labels = load_bbc_news(random_state=None)
    texts, labels = cut_to_tokens(texts), np.asarray(labels)
    embeddings = minilm_embeddings(texts) if "embeddings" in methods else None
    zero_shot, zero_shot_seconds = None, 0.0
    if "zeroshot" in methods:  # no training: one pass over every text serves every split
        start = time.perf_counter()
        zero_shot = GLiClassZeroShot(labels=sorted(set(labels))).fit().predict(texts)
        zero_shot_seconds = time.perf_counter() - start
    rows = []
    for seed in range(seeds):
        train, test = split(labels, k, seed)
        x_train, x_test = [texts[i] for i in train], [texts[i] for i in test]
        for method in methods:
            start = time.perf_counter()
            if method == "tfidf":
                clf = make_pipeline(TfidfVectorizer(sublinear_tf=True), LogisticRegression(max_iter=2000))
                clf.fit(x_train, labels[train])
                fit_seconds = time.perf_counter() - start
                predicted = clf.predict(x_test)
            elif method == "embeddings":
                clf = LogisticRegression(max_iter=2000).fit(embeddings[train], labels[train])
                fit_seconds = time.perf_counter() - start  # embedding time excluded: computed once for all runs
                predicted = clf.predict(embeddings[test])
            elif method in ("gliclass", "ppo"):
                params = {"method": "ppo"} if method == "ppo" else {}
                clf = GLiClassifier(random_state=seed, **params).fit(x_train, labels[train])
                fit_seconds = time.perf_counter() - start
                predicted = clf.predict(x_test)
            elif method == "zeroshot":
                fit_seconds, predicted = 0.0, zero_shot[test]
            else:
                raise ValueError(f"unknown method {method!r}")
            row = {
                "method": method,
                "seed": seed,
                "k": k,
                "macro_f1": float(f1_score(labels[test], predicted, average="macro")),
                "accuracy": float(accuracy_score(labels[test], predicted)),
                "fit_seconds": fit_seconds,
                "predict_seconds": (
                    zero_shot_seconds * len(test) / len(texts)
                    if method == "zeroshot"
                    else time.perf_counter() - start - fit_seconds
                ),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


NAMES = {
    "tfidf": "TF-IDF + LogisticRegression",
    "embeddings": "frozen MiniLM embeddings + LogisticRegression",
    "gliclass": "GLiClassifier() (defaults)",
    "ppo": 'GLiClassifier(method="ppo")',
    "zeroshot": "GLiClassZeroShot (no training)",
}


def table(rows: list[dict]) -> str:
    k = rows[0]["k"]
    lines = [
        f"| method ({k} examples per topic) | macro-F1 | accuracy | fit seconds |",
        "|---|---|---|---|",
    ]
    for method in dict.fromkeys(r["method"] for r in rows):
        part = [r for r in rows if r["method"] == method]
        f1 = np.array([r["macro_f1"] for r in part])
        acc = np.array([r["accuracy"] for r in part])
        fit = np.array([r["fit_seconds"] for r in part])
        lines.append(
            f"| {NAMES[method]} | {f1.mean():.3f} ± {f1.std():.3f} | {acc.mean():.3f} ± {acc.std():.3f} "
            f"| {fit.mean():.1f} |"
        )
    return (
        "\n".join(lines) + f"\n\n{len({r['seed'] for r in rows})} seeds; BBC News, texts cut to {MAX_TOKENS} tokens.\n"
    )


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = list(dict.fromkeys(r["method"] for r in rows))
    scores = [[r["macro_f1"] for r in rows if r["method"] == m] for m in methods]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.boxplot(scores, vert=False, tick_labels=[NAMES[m] for m in methods])
    ax.set_xlabel("macro-F1 on the held-out articles")
    ax.set_title(f"BBC News, {rows[0]['k']} labelled examples per topic")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--methods", default="tfidf,embeddings,gliclass,ppo,zeroshot")
    parser.add_argument("--keep", action="store_true", help="keep other methods' rows from the saved results")
    args = parser.parse_args()
    methods = args.methods.split(",")
    rows = run(args.k, args.seeds, methods)
    RESULTS.mkdir(exist_ok=True)
    saved = RESULTS / "fewshot.json"
    if args.keep and saved.exists():  # keep the other methods' rows from an earlier run with the same k
        old = [r for r in json.loads(saved.read_text()) if r["method"] not in methods and r["k"] == args.k]
        rows = old + rows
    (RESULTS / "fewshot.json").write_text(json.dumps(rows, indent=1))
    (RESULTS / "fewshot.md").write_text(table(rows))
    print(table(rows))
    try:
        plot(rows, RESULTS / "fewshot.png")
    except ImportError:
        print("matplotlib is not installed: no plot.")


if __name__ == "__main__":
    main()
