"""Few-shot accuracy on real data other than BBC News: short texts, more labels, noisier topics.

Two labelled text collections that Debian ships as packages (no model hub, no web):

- ``wordnet10`` / ``wordnet25``: WordNet 3.0 noun definitions ("a domesticated carnivorous
  mammal ..."), labelled with their lexicographer category. ``wordnet10`` keeps ten concrete
  categories (animal, artifact, body, feeling, food, location, person, plant, substance, time),
  ``wordnet25`` all 25, abstract ones included (act, attribute, cognition, relation, ...).
  Up to 300 definitions of 4 words or more per category.
- ``fortunes8``: fortune-cookie quotations and jokes from eight topic files of the ``fortunes``
  package (computers, education, food, law, medicine, politics, science, sports), 5-120 words,
  up to 200 per topic. The files sort quotations loosely, so the labels are noisy.

Each draw takes ``k`` training texts per label (seeded, the same for every method) and tests on
all the others. Methods as in ``fewshot.py``: TF-IDF + LogisticRegression, frozen MiniLM
embeddings + LogisticRegression, SetFit with its defaults (``--methods ...,setfit``, needs
``pip install .[bench]``), ``GLiClassifier()`` with no arguments, and
``GLiClassZeroShot(labels=[category names])``. Writes ``results/fewshot_more.{json,md}``.

Get the data (Debian or Ubuntu)::

    apt-get install wordnet-base fortunes                    # files under /usr/share
    # or, without installing:
    apt-get download wordnet-base fortunes && for f in *.deb; do dpkg-deb -x "$f" root; done
    # then --root root/usr/share

Usage: ``python benchmarks/fewshot_more.py [--root /usr/share] [--data wordnet10,fortunes8] [--k 2,8] [--seeds 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from fewshot import fit_embeddings, fit_setfit, fit_tfidf, single_split
from skgliclass import GLiClassifier, GLiClassZeroShot

RESULTS = Path(__file__).parent / "results"
# WordNet's lexicographer files of nouns (lexnames(5WN)), by number; 3 (noun.Tops) is left out.
NOUN_FILES = {
    4: "act", 5: "animal", 6: "artifact", 7: "attribute", 8: "body", 9: "cognition", 10: "communication",
    11: "event", 12: "feeling", 13: "food", 14: "group", 15: "location", 16: "motive", 17: "object",
    18: "person", 19: "phenomenon", 20: "plant", 21: "possession", 22: "process", 23: "quantity",
    24: "relation", 25: "shape", 26: "state", 27: "substance", 28: "time",
}  # fmt: skip
CONCRETE = ["animal", "artifact", "body", "feeling", "food", "location", "person", "plant", "substance", "time"]
FORTUNE_TOPICS = ["computers", "education", "food", "law", "medicine", "politics", "science", "sports"]
NAMES = {
    "tfidf": "TF-IDF + LogisticRegression",
    "embeddings": "frozen MiniLM embeddings + LogisticRegression",
    "setfit": "SetFit (MiniLM, default settings)",
    "gliclass": "GLiClassifier() (defaults)",
    "zeroshot": "GLiClassZeroShot() (category names, no training)",
}


def balanced(pairs: list[tuple[str, str]], labels: list[str], per_label: int) -> tuple[list[str], np.ndarray]:
    """Up to ``per_label`` (text, label) pairs per label, drawn with a fixed seed, in shuffled order."""
    rng = np.random.default_rng(0)
    chosen = []
    for label in labels:
        pool = [p for p in pairs if p[1] == label]
        chosen += [pool[i] for i in rng.choice(len(pool), min(per_label, len(pool)), replace=False)]
    order = rng.permutation(len(chosen))
    return [chosen[i][0] for i in order], np.array([chosen[i][1] for i in order])


def wordnet(root: Path, labels: list[str], per_label: int = 300) -> tuple[list[str], np.ndarray]:
    """Noun definitions (the gloss up to its first ';', 4 words or more) and their lexicographer category."""
    pairs = []
    for line in (root / "wordnet" / "data.noun").read_text(errors="replace").splitlines():
        if line.startswith("  "):  # the license header
            continue
        head, _, gloss = line.partition(" | ")
        label = NOUN_FILES.get(int(head.split()[1]))
        definition = gloss.split(";")[0].strip()
        if label in labels and len(definition.split()) >= 4:
            pairs.append((definition, label))
    return balanced(pairs, labels, per_label)


def fortunes(root: Path, labels: list[str], per_label: int = 200) -> tuple[list[str], np.ndarray]:
    """Fortunes of 5-120 words from each topic file, whitespace collapsed."""
    pairs = []
    for label in labels:
        for item in (root / "games" / "fortunes" / label).read_text(errors="replace").split("\n%\n"):
            text = re.sub(r"\s+", " ", item).strip()
            if 5 <= len(text.split()) <= 120:
                pairs.append((text, label))
    return balanced(pairs, labels, per_label)


DATA: dict[str, Callable[[Path], tuple[list[str], np.ndarray]]] = {
    "wordnet10": lambda root: wordnet(root, CONCRETE),
    "wordnet25": lambda root: wordnet(root, list(NOUN_FILES.values())),
    "fortunes8": lambda root: fortunes(root, FORTUNE_TOPICS),
}


def fit(method: str, texts: list[str], y: np.ndarray, seed: int, labels: list[str]) -> Callable:
    """Fit ``method`` and return its predict_proba, whose columns follow the sorted ``labels``."""
    if method == "tfidf":
        return fit_tfidf(texts, y, seed, {})
    if method == "embeddings":
        return fit_embeddings(texts, y, seed, {})
    if method == "setfit":
        return fit_setfit(texts, y, seed, {})
    if method == "gliclass":
        return GLiClassifier(random_state=seed).fit(texts, y).predict_proba
    return GLiClassZeroShot(labels=labels).fit().predict_proba


def table(rows: list[dict]) -> str:
    """Markdown: mean ± sd of macro-F1 and accuracy over seeds, per dataset, k and method."""
    lines = ["| data | k | method | seeds | macro-F1 | accuracy | fit s |", "|---|---|---|---|---|---|---|"]
    for data in dict.fromkeys(r["data"] for r in rows):
        for k in sorted({r["k"] for r in rows if r["data"] == data}):
            for method in [m for m in NAMES if any(r["method"] == m and r["data"] == data for r in rows)]:
                part = [r for r in rows if (r["data"], r["k"], r["method"]) == (data, k, method)]
                if not part:
                    continue
                cells = [
                    f"{np.mean([r[m] for r in part]):.3f} ± {np.std([r[m] for r in part]):.3f}"
                    for m in ("macro_f1", "accuracy")
                ]
                bold = "**" if method == "gliclass" else ""
                lines.append(
                    f"| {data} | {k} | {bold}{NAMES[method]}{bold} | {len(part)} | {' | '.join(cells)} | "
                    f"{np.mean([r['fit_seconds'] for r in part]):.1f} |"
                )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("/usr/share"), help="holds wordnet/ and games/fortunes/")
    parser.add_argument("--data", default="wordnet10,fortunes8", help=f"comma-separated, from {sorted(DATA)}")
    parser.add_argument("--k", default="2,8", help="training texts per label, comma-separated")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--methods", default=",".join(m for m in NAMES if m != "setfit"), help="setfit: .[bench]")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--table", action="store_true", help="only rewrite the table from the saved rows")
    args = parser.parse_args()
    saved = args.out / "fewshot_more.json"
    rows = json.loads(saved.read_text()) if saved.exists() else []
    for data in [] if args.table else args.data.split(","):
        texts, y = DATA[data](args.root)
        labels = sorted(set(y))
        for k in [int(k) for k in args.k.split(",")]:
            for seed in range(args.seeds):
                train, test = single_split(y, k, seed)
                for method in args.methods.split(","):
                    start = time.perf_counter()
                    predict = fit(method, [texts[i] for i in train], y[train], seed, labels)
                    seconds = time.perf_counter() - start
                    predicted = np.array(labels)[predict([texts[i] for i in test]).argmax(1)]
                    row = {"data": data, "k": k, "seed": seed, "method": method, "fit_seconds": seconds}
                    row["macro_f1"] = float(f1_score(y[test], predicted, average="macro"))
                    row["accuracy"] = float(accuracy_score(y[test], predicted))
                    print(json.dumps(row), flush=True)
                    key = ("data", "k", "seed", "method")
                    rows = [r for r in rows if [r[f] for f in key] != [row[f] for f in key]] + [row]
                    args.out.mkdir(parents=True, exist_ok=True)
                    saved.write_text(json.dumps(rows, indent=1))
    text = table(rows)
    (args.out / "fewshot_more.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
