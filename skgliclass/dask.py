"""Classify Dask collections with a fitted estimator: partitions run on the workers, in order.

The estimator goes into the graph once, as its own task (``dask.delayed``), so each worker
deserializes it once and every partition on that worker reuses it. A Series gives a DataFrame of
probability columns with the Series' index and divisions; a Bag gives a Bag of probability rows.
For ``dask_ml.wrappers.ParallelPostFit``, pass texts as an ``(n, 1)`` Dask array (see the docs).
"""

from __future__ import annotations

from typing import Any

from skgliclass._workers import on_device, proba_columns, proba_of

__all__ = ["predict_proba"]


def _frame_part(texts: Any, estimator: Any, columns: list[str], device: str | None) -> Any:
    import pandas as pd

    return pd.DataFrame(proba_of(on_device(estimator, device), texts.tolist()), index=texts.index, columns=columns)


def _bag_part(texts: list[str], estimator: Any, device: str | None) -> list[list[float]]:
    return proba_of(on_device(estimator, device), texts).tolist()


def predict_proba(estimator: Any, texts: Any, *, prefix: str = "proba_", device: str | None = None) -> Any:
    """Probabilities for a Dask Series (or one-column DataFrame) or Bag of texts, computed lazily.

    Parameters
    ----------
    estimator : GLiClassZeroShot or GLiClassifier
        A fitted estimator.
    texts : dask.dataframe.Series, dask.dataframe.DataFrame with one column, or dask.bag.Bag
        The texts; nothing is computed until you call ``.compute()`` (or write the result).
    prefix : str, default ``"proba_"``
        Column names are ``prefix + class``.
    device : str or None, default=None
        Move the estimator to this device on each worker (``"auto"``: the worker's GPU if it has
        one), once per worker; None keeps the device it was fitted on (the CPU where that is missing).

    Returns
    -------
    dask.dataframe.DataFrame or dask.bag.Bag
        One probability column per class with the input's index and partitions; for a Bag, one
        list of probabilities per text, in order.

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> from skgliclass import GLiClassZeroShot
    >>> from skgliclass.dask import predict_proba
    >>> clf = GLiClassZeroShot(labels=["sport", "politics"]).fit()
    >>> texts = dd.from_pandas(pd.Series(["The striker scored.", "The senate voted."]), npartitions=2)
    >>> predict_proba(clf, texts).compute().round(2).columns.tolist()
    ['proba_sport', 'proba_politics']
    """
    import dask
    import dask.bag as db
    import dask.dataframe as dd
    import pandas as pd
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    shared = dask.delayed(estimator, pure=True)  # one task: deserialized once per worker that needs it
    if isinstance(texts, db.Bag):
        return texts.map_partitions(_bag_part, shared, device)
    if isinstance(texts, dd.DataFrame):
        if len(texts.columns) != 1:
            raise ValueError(f"texts has {len(texts.columns)} columns; pass the text column, e.g. ddf['text'].")
        texts = texts[texts.columns[0]]
    if not isinstance(texts, dd.Series):
        raise TypeError(f"texts must be a Dask Series, one-column DataFrame or Bag, got {type(texts).__name__}.")
    columns = proba_columns(estimator, prefix)
    meta = pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})
    return texts.map_partitions(_frame_part, shared, columns, device, meta=meta)
