"""Scale-out: a local Dask cluster (2 worker processes) and a local Ray runtime give the
single-process probabilities, in order, and load the model once per worker or actor."""

from __future__ import annotations

import joblib
import numpy as np
import pandas as pd
import pytest

from skgliclass import GLiClassifier, GLiClassZeroShot
from skgliclass.datasets import load_bbc_news

pytestmark = pytest.mark.scaleout
LABELS = ["business", "entertainment", "politics", "sport", "tech"]


@pytest.fixture(scope="module")
def texts():
    articles, _ = load_bbc_news(random_state=0, max_chars=300)
    return articles[:2000]


@pytest.fixture(scope="module")
def fitted(reference_checkpoint):
    folder = str(reference_checkpoint(architecture="uni-encoder", backbone="bert"))
    return GLiClassZeroShot(model=folder, labels=LABELS, multi_label=True, batch_size=32).fit()


@pytest.fixture(scope="module")
def expected(fitted, texts):
    return fitted.predict_proba(texts)


def _count_restores():
    import skgliclass.estimators._base as base

    if not hasattr(base, "_restores"):
        original = base.restore_model
        base._restores = 0

        def counting(state):
            base._restores += 1
            return original(state)

        base.restore_model = counting
    base._restores = 0


def _restores():
    import skgliclass.estimators._base as base

    return base._restores


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def test_dask_series_and_bag_match_one_process(client, fitted, texts, expected):
    import dask.bag as db
    import dask.dataframe as dd

    from skgliclass.dask import predict_proba

    series = pd.Series(texts, index=np.arange(len(texts)) * 7 + 3)  # an index to keep
    client.run(_count_restores)
    frame = predict_proba(fitted, dd.from_pandas(series, npartitions=8)).compute()
    assert frame.columns.tolist() == [f"proba_{c}" for c in LABELS]
    assert frame.index.tolist() == series.index.tolist()
    np.testing.assert_allclose(frame.to_numpy(), expected, atol=1e-6)
    # Eight partitions on two workers: the estimator is rebuilt about once on each (a busy scheduler may move its
    # task once more), not once per partition.
    assert 1 <= sum(client.run(_restores).values()) <= 4
    rows = predict_proba(fitted, db.from_sequence(texts, npartitions=6)).compute()
    np.testing.assert_allclose(np.array(rows), expected, atol=1e-6)
    one_column = dd.from_pandas(series.to_frame("text"), npartitions=4)
    on_auto = predict_proba(fitted, one_column, device="auto").compute()  # each worker's own device
    np.testing.assert_allclose(on_auto.to_numpy(), expected, atol=1e-6)


def test_dask_ml_parallel_post_fit_on_a_text_column(client, fitted, texts, expected):
    import dask.dataframe as dd
    from dask_ml.wrappers import ParallelPostFit

    column = dd.from_pandas(pd.DataFrame({"text": texts}), npartitions=8)[["text"]].to_dask_array(lengths=True)
    wrapped = ParallelPostFit(fitted, predict_proba_meta=np.empty((0, len(LABELS))))
    np.testing.assert_allclose(wrapped.predict_proba(column).compute(), expected, atol=1e-6)


def test_grid_search_on_the_joblib_dask_backend(client, tiny_encoder_dir):
    from sklearn.model_selection import GridSearchCV

    x = [f"{w} number {i}" for i in range(6) for w in ("goal", "vote")]
    y = ["sport", "politics"] * 6
    model = GLiClassifier(model=str(tiny_encoder_dir("bert")), epochs=1, batch_size=4, random_state=0)
    search = GridSearchCV(model, {"pooler": ["mean", "max"]}, cv=2)
    with joblib.parallel_backend("dask"):
        search.fit(x, y)
    assert set(search.cv_results_["param_pooler"]) == {"mean", "max"}
    assert search.best_estimator_.predict(x).shape == (12,)


def test_dask_rejects_what_it_cannot_read(fitted):
    import dask.dataframe as dd

    from skgliclass.dask import predict_proba

    with pytest.raises(ValueError, match="2 columns"):
        predict_proba(fitted, dd.from_pandas(pd.DataFrame({"a": ["x"], "b": ["y"]}), npartitions=1))
    with pytest.raises(TypeError, match="Dask Series"):
        predict_proba(fitted, ["a list"])


@pytest.fixture(scope="module")
def ray_runtime():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


def test_ray_map_batches_match_one_process(ray_runtime, fitted, texts, expected, tmp_path):
    from skgliclass.ray import Predictor

    data = ray_runtime.data.from_pandas(pd.DataFrame({"id": np.arange(len(texts)), "text": texts}))
    pool = ray_runtime.data.ActorPoolStrategy(size=2)
    out = data.map_batches(
        Predictor, fn_constructor_args=(fitted,), compute=pool, batch_size=256, batch_format="pandas"
    ).to_pandas()
    out = out.sort_values("id")
    assert out["id"].tolist() == list(range(len(texts))) and out["text"].tolist() == texts
    np.testing.assert_allclose(out[[f"proba_{c}" for c in LABELS]].to_numpy(dtype=float), expected, atol=1e-6)
    # From a file each actor reads, through Parquet in and out, with dict batches.
    joblib.dump(fitted, tmp_path / "model.joblib")
    pd.DataFrame({"id": np.arange(300), "text": texts[:300]}).to_parquet(tmp_path / "in.parquet")
    ray_runtime.data.read_parquet(str(tmp_path / "in.parquet")).map_batches(
        Predictor,
        fn_constructor_args=(str(tmp_path / "model.joblib"),),
        compute=ray_runtime.data.ActorPoolStrategy(size=1),
        batch_size=100,
        batch_format="numpy",
    ).write_parquet(str(tmp_path / "out"))
    back = pd.read_parquet(tmp_path / "out").sort_values("id")
    np.testing.assert_allclose(back[[f"proba_{c}" for c in LABELS]].to_numpy(dtype=float), expected[:300], atol=1e-6)


def test_predictor_names_a_missing_column(fitted):
    from skgliclass.ray import Predictor

    with pytest.raises(KeyError, match="no column 'body'"):
        Predictor(fitted, text_column="body")(pd.DataFrame({"text": ["a"]}))
    batch = Predictor(fitted)({"text": np.array(["a", "b"], dtype=object)})
    assert batch["proba_sport"].shape == (2,)


def test_predict_proba_iter_streams_in_bounded_chunks(fitted, texts, expected):
    read = []

    def stream():
        for text in texts[:250]:
            read.append(text)
            yield text

    chunks = fitted.predict_proba_iter(stream(), chunk_size=100)
    first = next(chunks)
    assert first.shape == (100, len(LABELS)) and len(read) == 100  # nothing read ahead of the chunk
    rest = list(chunks)
    assert [c.shape[0] for c in rest] == [100, 50]
    np.testing.assert_allclose(np.vstack([first, *rest]), expected[:250], atol=1e-6)
    with pytest.raises(ValueError, match="chunk_size"):
        next(fitted.predict_proba_iter(["a"], chunk_size=0))
