"""Scale-out on one machine: Dask with 1 and 2 worker processes, and the memory of streaming.

1. Texts per second of ``skgliclass.dask.predict_proba`` over BBC News articles with the
   embedded zero-shot default, on a local Dask cluster of 1 and of 2 worker processes (one torch
   thread each), beside one process with one and with two torch threads.
2. Peak resident memory while ``predict_proba_iter`` streams 100,000 short texts from a generator,
   sampled along the way: it should stay flat, however many texts pass.

Writes ``results/scaleout.{json,md}`` next to this file.

Usage: ``python benchmarks/scaleout.py [--texts 1000] [--stream 100000]``
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pandas as pd
import psutil
import torch

from skgliclass import GLiClassZeroShot
from skgliclass.datasets import load_bbc_news

RESULTS = Path(__file__).parent / "results"
TOPICS = ["business", "entertainment", "politics", "sport", "tech"]


def _one_thread() -> None:
    torch.set_num_threads(1)


def dask_speed(clf: GLiClassZeroShot, texts: list[str], workers: int) -> float:
    """Texts/s on a fresh local cluster of ``workers`` processes (the model shipped in the timing)."""
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    from skgliclass.dask import predict_proba

    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        client.run(_one_thread)
        series = dd.from_pandas(pd.Series(texts), npartitions=8 * workers)
        predict_proba(clf, series.head(8, compute=False)).compute()  # workers import torch first
        start = time.perf_counter()
        predict_proba(clf, series).compute()
        return len(texts) / (time.perf_counter() - start)


def local_speed(clf: GLiClassZeroShot, texts: list[str], threads: int) -> float:
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        clf.predict_proba(texts[:8])
        start = time.perf_counter()
        clf.predict_proba(texts)
        return len(texts) / (time.perf_counter() - start)
    finally:
        torch.set_num_threads(previous)


def stream_memory(clf: GLiClassZeroShot, n: int, words: list[str]) -> dict:
    """Stream ``n`` generated texts; RSS sampled every 10,000 texts and its overall peak."""
    process = psutil.Process()
    peak, stop = [process.memory_info().rss], threading.Event()

    def sample() -> None:
        while not stop.wait(0.01):
            peak[0] = max(peak[0], process.memory_info().rss)

    def texts() -> Iterator[str]:
        rng = np.random.default_rng(0)
        for _ in range(n):
            yield " ".join(rng.choice(words, size=16))

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    start, before, done, marks = time.perf_counter(), process.memory_info().rss, 0, []
    for proba in clf.predict_proba_iter(texts(), chunk_size=1024):
        done += len(proba)
        if done % 10240 < 1024:
            marks.append({"texts": done, "rss_mib": process.memory_info().rss / 2**20})
    stop.set()
    thread.join()
    return {
        "texts": done,
        "seconds": time.perf_counter() - start,
        "rss_before_mib": before / 2**20,
        "peak_rss_mib": peak[0] / 2**20,
        "samples": marks,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=1000, help="articles for the speed part")
    parser.add_argument("--stream", type=int, default=100_000, help="texts for the memory part")
    args = parser.parse_args()
    articles, _ = load_bbc_news(random_state=0, max_chars=600)
    texts = articles[: args.texts]
    clf = GLiClassZeroShot(labels=TOPICS, device="cpu", max_length=256).fit()
    speed = {
        "one process, 1 torch thread": local_speed(clf, texts, 1),
        "one process, 2 torch threads": local_speed(clf, texts, 2),
        "Dask, 1 worker": dask_speed(clf, texts, 1),
        "Dask, 2 workers": dask_speed(clf, texts, 2),
    }
    for name, value in speed.items():
        print(json.dumps({"setup": name, "texts_per_second": value}), flush=True)
    words = " ".join(articles[:200]).split()
    memory = stream_memory(clf, args.stream, words)
    print(json.dumps({k: v for k, v in memory.items() if k != "samples"}), flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scaleout.json").write_text(json.dumps({"speed": speed, "stream": memory}, indent=1))
    base = speed["Dask, 1 worker"]
    lines = ["| setup | texts/s | vs Dask, 1 worker |", "|---|---:|---:|"]
    lines += [f"| {name} | {value:.1f} | {value / base:.2f}x |" for name, value in speed.items()]
    samples = memory["samples"]
    lines += [
        "",
        f"Streaming {memory['texts']:,} texts of 16 words through `predict_proba_iter` (chunks of 1,024): "
        f"{memory['texts'] / memory['seconds']:.0f} texts/s; resident memory {samples[0]['rss_mib']:.0f} MiB "
        f"after {samples[0]['texts']:,} texts, {samples[-1]['rss_mib']:.0f} MiB after {samples[-1]['texts']:,}; "
        f"peak {memory['peak_rss_mib']:.0f} MiB (before streaming: {memory['rss_before_mib']:.0f} MiB).",
        "",
        f"{len(texts)} BBC articles (first 600 characters, 256 tokens) for the speed rows; embedded MiniLM "
        f"zero-shot; {os.cpu_count()} CPU cores; torch {torch.__version__}.",
    ]
    table = "\n".join(lines) + "\n"
    (RESULTS / "scaleout.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
