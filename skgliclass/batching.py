"""Batching helpers shared by prediction, adaptation and the embedding head."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

__all__ = ["length_batches"]


def length_batches(lengths: Sequence[int], batch_size: int) -> Iterator[np.ndarray]:
    """Indices in batches of similar length (longest first), so padding is small."""
    order = np.argsort(-np.asarray(lengths), kind="stable")
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]
