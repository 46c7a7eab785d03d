"""Classify a Ray Dataset: a callable class for ``Dataset.map_batches`` that loads the model once per actor.

Ray builds one :class:`Predictor` per actor of the pool and calls it on each batch, so the model
is deserialized (or read from disk) once per actor, on the actor's own device (``num_gpus`` in
``map_batches`` gives each actor a GPU; ``device="auto"`` then picks it).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from skgliclass._workers import on_device, proba_columns, proba_of

__all__ = ["Predictor"]


class Predictor:
    """Appends one probability column per class to each batch of a Ray Dataset.

    Parameters
    ----------
    estimator : GLiClassZeroShot, GLiClassifier, str or path-like
        A fitted estimator (Ray pickles it into each actor), or the path of one saved with
        ``joblib.dump`` (``.joblib``/``.pkl``) or ``skops.io.dump`` (``.skops``; its types are
        trusted as :data:`skgliclass.TRUSTED_TYPES`), read by each actor.
    text_column : str, default="text"
        The column holding the texts.
    prefix : str, default ``"proba_"``
        Column names are ``prefix + class``.
    device : str or None, default=None
        Move the estimator to this device in each actor (``"auto"``: the actor's GPU if Ray gave
        it one); None keeps the estimator's own.

    Examples
    --------
    >>> import ray  # doctest: +SKIP
    >>> from skgliclass.ray import Predictor  # doctest: +SKIP
    >>> ds = ray.data.read_parquet("texts.parquet")  # doctest: +SKIP
    >>> ds.map_batches(Predictor, fn_constructor_args=(clf,), compute=ray.data.ActorPoolStrategy(size=2),
    ...                batch_size=256, batch_format="pandas").write_parquet("out/")  # doctest: +SKIP
    """

    def __init__(
        self, estimator: Any, text_column: str = "text", prefix: str = "proba_", device: str | None = None
    ) -> None:
        self.estimator = on_device(_load(estimator), device)
        self.text_column = text_column
        self.columns = proba_columns(self.estimator, prefix)

    def __call__(self, batch: Any) -> Any:
        """``batch`` (a pandas DataFrame or a dict of arrays) with the probability columns added."""
        if self.text_column not in batch:
            raise KeyError(f"the batch has no column {self.text_column!r}; pass text_column=... to Predictor.")
        texts = [str(t) for t in list(batch[self.text_column])]
        proba = proba_of(self.estimator, texts)
        batch = dict(batch) if isinstance(batch, dict) else batch.copy()
        for j, column in enumerate(self.columns):
            batch[column] = np.ascontiguousarray(proba[:, j], dtype=np.float64)
        return batch


def _load(estimator: Any) -> Any:
    if not isinstance(estimator, (str, os.PathLike)):
        return estimator
    path = os.fspath(estimator)
    if path.endswith(".skops"):
        import skops.io as sio

        from skgliclass import TRUSTED_TYPES

        return sio.load(path, trusted=TRUSTED_TYPES)
    import joblib

    return joblib.load(path)
