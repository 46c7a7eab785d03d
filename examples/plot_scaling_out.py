"""
Scaling out: Dask, Ray and streaming
====================================

The same fitted estimator classifies a corpus three ways: streamed in bounded memory on one
machine, as a Dask DataFrame on a local cluster of two worker processes, and as a Ray
Dataset read from and written back to Parquet. Each gives the probabilities of a plain
``predict_proba``, in the input's order. On a real cluster, only the ``Client(...)`` address
and the ``ray.init(...)`` call change.
"""

# %%
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from skgliclass import GLiClassZeroShot
from skgliclass.datasets import load_bbc_news

if __name__ == "__main__":  # worker processes import this file too
    articles, topics = load_bbc_news(n_per_class=40, random_state=0, max_chars=500)
    clf = GLiClassZeroShot(labels=["business", "entertainment", "politics", "sports", "tech"], max_length=256).fit()
    expected = clf.predict_proba(articles)
    folder = Path(tempfile.mkdtemp())

    # %%
    # Streaming: a generator in, one array per chunk out; only one chunk is held at a time.
    streamed = np.vstack(list(clf.predict_proba_iter((a for a in articles), chunk_size=64)))
    print(f"streamed {len(streamed)} texts, largest difference {np.abs(streamed - expected).max():.1e}")

    # %%
    # Dask: a Series of texts becomes a DataFrame of probability columns, index kept. The
    # estimator enters the graph once, so each worker deserializes the model once.
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    from skgliclass.dask import predict_proba

    series = pd.Series(articles, index=[f"article-{i}" for i in range(len(articles))])
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster),
    ):
        table = predict_proba(clf, dd.from_pandas(series, npartitions=4, sort=False)).compute()
    print(table.head(3).round(3))
    print(
        f"Dask: index kept {table.index.equals(series.index)}, largest difference "
        f"{np.abs(table.to_numpy() - expected).max():.1e}"
    )

    # %%
    # Ray: Parquet in, one Predictor per actor, Parquet out.
    import ray

    from skgliclass.ray import Predictor

    pd.DataFrame({"id": range(len(articles)), "text": articles}).to_parquet(folder / "in.parquet")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    ray.data.read_parquet(str(folder / "in.parquet")).map_batches(
        Predictor,
        fn_constructor_args=(clf,),
        compute=ray.data.ActorPoolStrategy(size=1),  # actors; each loads the model once
        batch_size=100,
        batch_format="pandas",
    ).write_parquet(str(folder / "out"))
    ray.shutdown()
    labelled = pd.read_parquet(folder / "out").sort_values("id")
    columns = [f"proba_{c}" for c in clf.classes_]
    worst = max(
        np.abs(streamed - expected).max(),
        np.abs(table.to_numpy() - expected).max(),
        np.abs(labelled[columns].to_numpy(dtype=float) - expected).max(),
    )
    print(
        f"Ray: {len(labelled)} rows written, largest difference "
        f"{np.abs(labelled[columns].to_numpy(dtype=float) - expected).max():.1e}"
    )
    print(f"largest difference over all three: {worst:.1e}")
    assert worst < 1e-5
