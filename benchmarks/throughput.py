"""Inference speed of GLiClassZeroShot against the reference ``gliclass`` pipeline and a cross-encoder.

Texts per second, and the peak memory a call adds, versus the number of candidate labels (1 to 128)
and the text length: ``short`` (first 16 words of a BBC News article), ``medium`` (first 64 words),
``long`` (whole articles cut at 512 MiniLM tokens) and ``mixed`` (a shuffled third of each). Four
systems share the all-MiniLM-L6-v2 weights and run on one device (``--device``, the CPU by default) with
the same batch size, in fp32 (``--precision`` changes ours only):

- ``ours``: ``GLiClassZeroShot`` on a uni-encoder GLiClass checkpoint built on MiniLM (random head),
- ``reference``: ``gliclass.ZeroShotClassificationPipeline`` on that same checkpoint; its
  probabilities are checked against ours at every point (max absolute difference recorded),
- ``bi``: ``GLiClassZeroShot()`` with no model, the embedded MiniLM as a cosine bi-encoder (label
  vectors are cached after the first call, as they are in use),
- ``cross``: transformers' zero-shot-classification pipeline on MiniLM with a random NLI head, one
  forward pass per text-label pair, so it reads fewer texts (``--cross-texts``).

Only ``predict_proba`` (or the pipeline call) is timed, after one warm-up call per point; loading
and ``fit`` are not. Writes ``results/throughput.{json,md,png}`` next to this file (or under ``--out``).

Usage: ``python benchmarks/throughput.py [--quick] [--texts 64] [--labels 1,2,4,8,16,32,64,128]
[--lengths short,medium,long,mixed] [--systems ours,reference,bi,cross] [--batch-size 16] [--repeats 1]
[--cross-texts 16] [--cross-max-labels 128] [--text-first] [--device cpu] [--precision fp32] [--out DIR]``

On a GPU (bf16, batch 1 and 16): ``python benchmarks/throughput.py --device cuda --precision bf16
--systems ours,bi --lengths medium --batch-size 1`` (and again with ``--batch-size 16``).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import psutil
import torch
from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer
from transformers import logging as transformers_logging
from transformers import pipeline as transformers_pipeline

from skgliclass import GLiClassZeroShot
from skgliclass.data.prompts import InputBuilder
from skgliclass.datasets import load_bbc_news
from skgliclass.estimators._base import default_model_path

RESULTS = Path(__file__).parent / "results"
SYSTEMS = ("ours", "reference", "bi", "cross")
LENGTHS = ("short", "medium", "long", "mixed")
LABEL_COUNTS = (1, 2, 4, 8, 16, 32, 64, 128)
WORDS = {"short": 16, "medium": 64}
LONG_TOKENS = 512
MARKERS = ("<<LABEL>>", "<<SEP>>", "<<EXAMPLE>>")
PARITY_TOLERANCE = 2e-5
NAMES = {
    "ours": "ours, uni-encoder",
    "reference": "gliclass pipeline",
    "bi": "ours, bi-encoder",
    "cross": "cross-encoder (NLI)",
}
# Candidate topics; the first k are the labels at label count k.
LABELS = [
    *("sport", "politics", "technology", "business", "music", "film", "science", "health", "education", "travel"),
    *("food", "fashion", "economy", "finance", "law", "crime", "environment", "climate change", "energy"),
    *("transport", "space", "religion", "history", "art", "literature", "television", "theatre", "gaming"),
    *("cars", "aviation", "football", "cricket", "tennis", "rugby", "golf", "athletics", "boxing", "cycling"),
    *("motor racing", "swimming", "elections", "parliament", "foreign affairs", "defence", "immigration"),
    *("human rights", "terrorism", "diplomacy", "trade", "taxation", "banking", "stock markets", "employment"),
    *("housing", "retail", "agriculture", "manufacturing", "mining", "oil and gas", "telecoms", "internet"),
    *("mobile phones", "software", "computer security", "artificial intelligence", "social media", "privacy"),
    *("broadcasting", "newspapers", "advertising", "medicine", "public health", "mental health", "nutrition"),
    *("fitness", "parenting", "family", "relationships", "weddings", "celebrities", "awards", "comedy", "dance"),
    *("photography", "architecture", "design", "books", "poetry", "museums", "festivals", "weather"),
    *("natural disasters", "wildlife", "oceans", "pollution", "recycling", "farming", "forestry", "water"),
    *("tourism", "hotels", "restaurants", "wine", "beer", "coffee", "shopping", "consumer rights", "insurance"),
    *("pensions", "personal finance", "startups", "mergers", "corporate earnings", "currency", "inflation"),
    *("interest rates", "property", "construction", "railways", "shipping", "pharmaceuticals", "biotechnology"),
    *("physics", "chemistry", "astronomy", "mathematics", "archaeology", "philosophy"),
]


# ------------------------------------------------------------------ texts
def cut_to_tokens(texts: Sequence[str], limit: int = LONG_TOKENS) -> list[str]:
    """Each text cut to its first ``limit`` MiniLM tokens (at a token boundary)."""
    tokenizer = AutoTokenizer.from_pretrained(default_model_path())
    enc = tokenizer(
        list(texts), add_special_tokens=False, truncation=True, max_length=limit, return_offsets_mapping=True
    )
    return [
        text[: offsets[-1][1]] if offsets else text for text, offsets in zip(texts, enc["offset_mapping"], strict=True)
    ]


def first_words(text: str, count: int) -> str:
    return " ".join(text.split()[:count])


def make_texts(n: int, lengths: Sequence[str], seed: int = 0) -> dict[str, list[str]]:
    """``n`` texts per length, all cut from the same ``n`` articles so that only the length differs."""
    articles, _ = load_bbc_news(random_state=seed)
    articles = articles[:n]
    by_length = {
        "short": [first_words(t, WORDS["short"]) for t in articles],
        "medium": [first_words(t, WORDS["medium"]) for t in articles],
        "long": cut_to_tokens(articles),
    }
    # Equal parts of each length, shuffled, so batches hold texts of very different lengths.
    mixed = [by_length[("short", "medium", "long")[i % 3]][i] for i in range(n)]
    by_length["mixed"] = [mixed[i] for i in np.random.default_rng(seed).permutation(n)]
    return {length: by_length[length] for length in lengths}


# ------------------------------------------------------------------ models
def build_checkpoint(directory: Path, prompt_first: bool, seed: int = 0) -> Path:
    """A full-size uni-encoder GLiClass checkpoint on the real MiniLM weights, saved by ``gliclass``.

    The head is random (speed only); the encoder, tokenizer and marker tokens are as in a real checkpoint.
    """
    import gliclass

    encoder = default_model_path()
    tokenizer = AutoTokenizer.from_pretrained(encoder)
    n = len(tokenizer)
    config = gliclass.GLiClassModelConfig(
        encoder_config=AutoConfig.from_pretrained(encoder),
        encoder_model=encoder,
        class_token_index=n,
        text_token_index=n + 1,
        example_token_index=n + 2,
        architecture_type="uni-encoder",
        prompt_first=prompt_first,
    )
    torch.manual_seed(seed)
    model = gliclass.GLiClassModel(config, from_pretrained=True)
    tokenizer.add_tokens(list(MARKERS), special_tokens=True)
    model.resize_token_embeddings(len(tokenizer))
    model.save_pretrained(str(directory))
    tokenizer.save_pretrained(str(directory))
    return directory


def load_reference(checkpoint: Path, device: str = "cpu") -> Any:
    """The reference pipeline on ``checkpoint``; its max_length is the encoder's position limit."""
    import gliclass

    model = gliclass.GLiClassModel.from_pretrained(str(checkpoint)).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(checkpoint))
    # gliclass's default max_length (1024) overflows MiniLM's 512 positions and raises on long inputs.
    positions = model.config.encoder_config.max_position_embeddings
    return gliclass.ZeroShotClassificationPipeline(
        model, tokenizer, max_length=positions, classification_type="multi-label", device=device, progress_bar=False
    )


def load_cross_encoder(seed: int = 0, device: str = "cpu") -> Any:
    """transformers' zero-shot pipeline on MiniLM with a random three-way NLI head."""
    path = default_model_path()
    names = {0: "contradiction", 1: "neutral", 2: "entailment"}
    torch.manual_seed(seed)
    model = AutoModelForSequenceClassification.from_pretrained(
        path, num_labels=3, id2label=names, label2id={v: k for k, v in names.items()}
    )
    return transformers_pipeline(
        "zero-shot-classification", model=model.eval(), tokenizer=AutoTokenizer.from_pretrained(path), device=device
    )


# ------------------------------------------------------------------ measuring
class PeakMemory:
    """Peak resident memory of this process over a ``with`` block, sampled by a background thread."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self._process = psutil.Process()
        self._stop = threading.Event()
        self.before = self.peak = 0

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def __enter__(self) -> PeakMemory:
        self.before = self.peak = self._process.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)

    @property
    def increase_mib(self) -> float:
        return (self.peak - self.before) / 2**20


def measure(call: Callable[[list[str]], Any], texts: list[str], repeats: int) -> tuple[dict, Any]:
    """Median texts/s over ``repeats`` timed calls (after one warm-up call), the largest memory increase,
    and the last call's output."""
    call(texts[:2])  # first-call costs (lazy set-up, allocator growth, bi-encoder label vectors) are not timed
    seconds, memory, output = [], [], None
    for _ in range(repeats):
        gc.collect()
        with PeakMemory() as peak:
            start = time.perf_counter()
            output = call(texts)
            seconds.append(time.perf_counter() - start)
        memory.append(peak.increase_mib)
    median = statistics.median(seconds)
    stats = {
        "texts": len(texts),
        "seconds": median,
        "timings": seconds,
        "texts_per_second": len(texts) / median,
        "peak_mib": max(memory),
    }
    return stats, output


def reference_matrix(results: list[list[dict]], labels: Sequence[str]) -> np.ndarray:
    """The reference's per-text ``{label, score}`` lists as a matrix in label order (NaN where missing)."""
    out = np.full((len(results), len(labels)), np.nan)
    column = {label: j for j, label in enumerate(labels)}
    for i, row in enumerate(results):
        for item in row:
            out[i, column[item["label"]]] = item["score"]
    return out


def reference_labels_kept(pipe: Any, texts: list[str], labels: list[str]) -> np.ndarray:
    """How many ``<<LABEL>>`` tokens survive the reference's truncation, per text."""
    inputs = pipe.pipe.prepare_inputs(texts, labels, True)
    return (inputs["input_ids"] == pipe.pipe.model.config.class_token_index).sum(dim=1).numpy()


def our_passes(clf: GLiClassZeroShot, labels: list[str]) -> int:
    """Encoder passes per text: labels that crowd out the text are scored in several passes."""
    builder = InputBuilder(clf.tokenizer_, clf.config_, clf.max_length_)
    return len(builder.build(["a"], labels).chunks)


def parity(ours: np.ndarray, reference: np.ndarray, kept: np.ndarray, k: int) -> dict:
    """Largest probability difference, over the texts where the reference kept every label."""
    whole = kept == k
    diff = float(np.abs(ours[whole] - reference[whole]).max()) if whole.any() else None
    return {
        "max_abs_diff": diff,
        "parity_ok": None if diff is None else diff <= PARITY_TOLERANCE,
        "texts_compared": int(whole.sum()),
        "texts_with_labels_cut": int((~whole).sum()),
        "min_labels_kept": int(kept.min()),
    }


# ------------------------------------------------------------------ running
def run(args: argparse.Namespace, checkpoint: Path) -> list[dict]:
    texts = make_texts(args.texts, args.lengths)
    reference = load_reference(checkpoint, args.device) if "reference" in args.systems else None
    cross = load_cross_encoder(device=args.device) if "cross" in args.systems else None
    rows = []
    for length in args.lengths:
        for k in args.labels:
            labels = LABELS[:k]
            ours_proba, passes = None, None
            for system in args.systems:
                if system == "cross" and k > args.cross_max_labels:
                    continue
                sample = texts[length][: args.cross_texts] if system == "cross" else texts[length]
                extra: dict[str, Any] = {}
                if system in ("ours", "bi"):
                    model = str(checkpoint) if system == "ours" else None
                    clf = GLiClassZeroShot(
                        model=model,
                        labels=labels,
                        batch_size=args.batch_size,
                        multi_label=True,
                        device=args.device,
                        precision=args.precision,
                    ).fit()
                    stats, output = measure(clf.predict_proba, sample, args.repeats)
                    if system == "ours":
                        ours_proba, passes = output, our_passes(clf, labels)
                        extra["passes"] = passes
                elif system == "reference":
                    stats, output = measure(
                        lambda batch, labels=labels: reference(
                            batch, labels, threshold=0.0, batch_size=args.batch_size
                        ),
                        sample,
                        args.repeats,
                    )
                    if ours_proba is not None:
                        kept = reference_labels_kept(reference, sample, labels)
                        extra.update(parity(ours_proba, reference_matrix(output, labels), kept, k))
                        extra["ours_passes"] = passes
                elif system == "cross":
                    stats, _ = measure(
                        lambda batch, labels=labels: cross(
                            batch, candidate_labels=labels, multi_label=True, batch_size=args.batch_size
                        ),
                        sample,
                        args.repeats,
                    )
                else:
                    raise ValueError(f"unknown system {system!r}")
                row = {"system": system, "length": length, "labels": k, **stats, **extra}
                rows.append(row)
                print(json.dumps(row), flush=True)
    return rows


def speed(rows: list[dict], system: str, length: str, k: int) -> float | None:
    found = [r["texts_per_second"] for r in rows if (r["system"], r["length"], r["labels"]) == (system, length, k)]
    return found[0] if found else None


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


# Ratio columns: (name, numerator system, denominator system, denominator at the fewest labels).
RATIOS = (
    ("ours/reference", "ours", "reference", False),
    ("ours/cross", "ours", "cross", False),
    ("bi/cross", "bi", "cross", False),
    ("ours(k)/ours(1)", "ours", "ours", True),
    ("reference(k)/reference(1)", "reference", "reference", True),
    ("bi(k)/bi(1)", "bi", "bi", True),
)


def ratios(rows: list[dict]) -> list[dict]:
    """Every ratio column at every (length, label count) measured."""
    out = []
    for length in dict.fromkeys(r["length"] for r in rows):
        counts = sorted({r["labels"] for r in rows if r["length"] == length})
        for k in counts:
            entry: dict[str, Any] = {"length": length, "labels": k}
            for name, top, bottom, at_one in RATIOS:
                entry[name] = ratio(
                    speed(rows, top, length, k), speed(rows, bottom, length, counts[0] if at_one else k)
                )
            out.append(entry)
    return out


def point(length: str, k: int) -> str:
    return f"{length}, {k} label{'' if k == 1 else 's'}"


def summary(rows: list[dict]) -> list[dict]:
    """The headline ratios, each at the point named in its ``at`` field (the nearest point measured)."""
    lengths = list(dict.fromkeys(r["length"] for r in rows))
    focus = "mixed" if "mixed" in lengths else lengths[0]
    uniform = [length for length in lengths if length != "mixed"]
    out = []

    def counts(system: str, length: str) -> list[int]:
        return sorted(r["labels"] for r in rows if r["system"] == system and r["length"] == length)

    shared = sorted(set(counts("ours", focus)) & set(counts("reference", focus)))
    if shared:
        k = 16 if 16 in shared else shared[-1]
        value = ratio(speed(rows, "ours", focus, k), speed(rows, "reference", focus, k))
        out.append({"ratio": "ours/reference", "at": point(focus, k), "value": value})
    pairs = [
        (ratio(speed(rows, "ours", length, k), speed(rows, "reference", length, k)), point(length, k))
        for length in uniform
        for k in sorted(set(counts("ours", length)) & set(counts("reference", length)))
    ]
    if pairs:
        value, at = min(pairs, key=lambda p: p[0])
        out.append({"ratio": "min ours/reference over uniform lengths and label counts", "at": at, "value": value})
    shared = sorted(set(counts("ours", focus)) & set(counts("cross", focus)))
    if shared:
        k = shared[-1]
        value = ratio(speed(rows, "ours", focus, k), speed(rows, "cross", focus, k))
        out.append({"ratio": "ours/cross at the most labels both ran", "at": point(focus, k), "value": value})
    bi = counts("bi", focus)
    if len(bi) > 1:
        value = ratio(speed(rows, "bi", focus, bi[-1]), speed(rows, "bi", focus, bi[0]))
        out.append({"ratio": f"bi({bi[-1]})/bi({bi[0]})", "at": focus, "value": value})
    ours = counts("ours", focus)
    if len(ours) > 1:
        value = ratio(speed(rows, "ours", focus, ours[-1]), speed(rows, "ours", focus, ours[0]))
        out.append({"ratio": f"ours({ours[-1]})/ours({ours[0]})", "at": focus, "value": value})
    return out


# ------------------------------------------------------------------ reporting
def fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def markdown(rows: list[dict], env: dict) -> str:
    systems = list(dict.fromkeys(r["system"] for r in rows))
    table = ratios(rows)
    names = [name for name, top, bottom, _ in RATIOS if top in systems and bottom in systems]
    setting = f"{env.get('device', 'cpu')}, {env.get('precision', 'fp32')}, {env['cpu_count']} CPU cores"
    lines = [f"# Throughput, texts/s ({setting}, batch size {env['batch_size']})", ""]
    for length in dict.fromkeys(r["length"] for r in rows):
        lines += [
            f"## {length}",
            "",
            "| labels | " + " | ".join(NAMES[s] for s in systems) + " | " + " | ".join(names) + " |",
            "|---:|" + "---:|" * (len(systems) + len(names)),
        ]
        for entry in (e for e in table if e["length"] == length):
            k = entry["labels"]
            cells = [fmt(speed(rows, s, length, k), 1) for s in systems] + [fmt(entry[n]) for n in names]
            lines.append(f"| {k} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["## Peak memory added by a call (MiB)", "", "| length | labels | " + " | ".join(systems) + " |"]
    lines.append("|---|---:|" + "---:|" * len(systems))
    for entry in table:
        found = {
            r["system"]: r["peak_mib"] for r in rows if (r["length"], r["labels"]) == (entry["length"], entry["labels"])
        }
        cells = [fmt(found.get(s), 0) for s in systems]
        lines.append(f"| {entry['length']} | {entry['labels']} | " + " | ".join(cells) + " |")
    checked = [r for r in rows if "max_abs_diff" in r]
    if checked:
        lines += [
            "",
            f"## Parity with the reference (probabilities, tolerance {PARITY_TOLERANCE:g})",
            "",
            "| length | labels | max abs diff | texts compared | texts with labels cut | our passes per text |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for r in checked:
            diff = "–" if r["max_abs_diff"] is None else f"{r['max_abs_diff']:.1e}"
            lines.append(
                f"| {r['length']} | {r['labels']} | {diff} | {r['texts_compared']} | {r['texts_with_labels_cut']} "
                f"| {r['ours_passes']} |"
            )
    lines += ["", "## Summary", "", "| ratio | at | value |", "|---|---|---:|"]
    lines += [f"| {s['ratio']} | {s['at']} | {fmt(s['value'])} |" for s in summary(rows)]
    cross = [r["texts"] for r in rows if r["system"] == "cross"]
    lines += [
        "",
        f"{max(r['texts'] for r in rows)} texts per point"
        + (f" ({cross[0]} for the cross-encoder)" if cross else "")
        + f"; median of {env['repeats']} timed call(s) after one warm-up call. Same all-MiniLM-L6-v2 weights "
        f"for every system; torch {env['torch']}, gliclass {env['gliclass']}, {env['torch_threads']} torch threads.",
        "",
    ]
    return "\n".join(lines)


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lengths = list(dict.fromkeys(r["length"] for r in rows))
    systems = list(dict.fromkeys(r["system"] for r in rows))
    fig, axes = plt.subplots(1, len(lengths), figsize=(3.6 * len(lengths), 3.4), sharey=True, squeeze=False)
    for ax, length in zip(axes[0], lengths, strict=True):
        for system in systems:
            points = sorted(
                (r["labels"], r["texts_per_second"]) for r in rows if (r["system"], r["length"]) == (system, length)
            )
            if points:
                ax.plot(*zip(*points, strict=True), marker="o", label=NAMES[system])
        ax.set_xscale("log", base=2)
        counts = sorted({r["labels"] for r in rows if r["length"] == length})
        ax.set_xticks(counts, [str(k) for k in counts])
        ax.set_yscale("log")
        ax.set_title(length)
        ax.set_xlabel("labels")
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("texts / s")
    axes[0][-1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def environment(args: argparse.Namespace, checkpoint: Path) -> dict:
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "transformers": version("transformers"),
        "gliclass": version("gliclass"),
        "skgliclass": version("skgliclass"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "batch_size": args.batch_size,
        "device": args.device,
        "precision": args.precision,
        "repeats": args.repeats,
        "prompt_first": not args.text_first,
        "checkpoint": f"uni-encoder on all-MiniLM-L6-v2, random head, built with gliclass ({checkpoint.name})",
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    def ints(text: str) -> list[int]:
        return [int(x) for x in text.split(",")]

    def names(allowed: Sequence[str]) -> Callable[[str], list[str]]:
        def parse(text: str) -> list[str]:
            chosen = text.split(",")
            unknown = set(chosen) - set(allowed)
            if unknown:
                raise argparse.ArgumentTypeError(f"unknown {sorted(unknown)}; choose from {list(allowed)}")
            return chosen

        return parse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=64, help="texts per length")
    parser.add_argument("--labels", type=ints, default=list(LABEL_COUNTS), help="label counts, e.g. 1,4,16")
    parser.add_argument("--lengths", type=names(LENGTHS), default=list(LENGTHS))
    parser.add_argument("--systems", type=names(SYSTEMS), default=list(SYSTEMS))
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, ... for every system")
    parser.add_argument(
        "--precision", default="fp32", help="ours only: fp32, bf16, fp16, int8 (parity is then not expected)"
    )
    parser.add_argument("--repeats", type=int, default=1, help="timed calls per point (the median is kept)")
    parser.add_argument("--cross-texts", type=int, default=16, help="texts per point for the cross-encoder")
    parser.add_argument("--cross-max-labels", type=int, default=128, help="largest label count for the cross-encoder")
    parser.add_argument("--text-first", action="store_true", help="checkpoint with the text before the labels")
    parser.add_argument("--quick", action="store_true", help="16 texts, labels 1,4,16, short and mixed texts")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.quick:
        args.texts, args.labels, args.lengths, args.cross_max_labels = 16, [1, 4, 16], ["short", "mixed"], 4
    if max(args.labels) > len(LABELS) or min(args.labels) < 1:
        parser.error(f"label counts must lie in 1..{len(LABELS)}")
    # Ours runs first at every point: the reference's parity check compares against its output.
    args.systems = [s for s in SYSTEMS if s in args.systems]
    args.labels = sorted(set(args.labels))
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    assert len(set(LABELS)) == len(LABELS) == 128, "the label list must hold 128 distinct names"
    transformers_logging.set_verbosity_error()
    # Long texts are cut to fit beside their labels, by design; the warning would repeat at every call.
    warnings.filterwarnings("ignore", message=r".*were cut at the end")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        checkpoint = build_checkpoint(Path(folder) / "gliclass-minilm-uni", prompt_first=not args.text_first)
        env = environment(args, checkpoint)
        rows = run(args, checkpoint)
    env["total_seconds"] = time.perf_counter() - started
    args.out.mkdir(parents=True, exist_ok=True)
    settings = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    report = {"environment": env, "settings": settings, "rows": rows, "ratios": ratios(rows), "summary": summary(rows)}
    (args.out / "throughput.json").write_text(json.dumps(report, indent=1))
    text = markdown(rows, env)
    (args.out / "throughput.md").write_text(text)
    print(text)
    plot(rows, args.out / "throughput.png")


if __name__ == "__main__":
    main()
