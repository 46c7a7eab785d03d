"""Batches in numpy alone: length-sorted batches, right padding, and the loop that scores every chunk of labels.

Shared by torch prediction (:func:`skgliclass.inference.predict_logits`) and the torch-free ONNX runtime,
so both read the same rows in the same batches and combine windows of long texts the same way.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from skgliclass.data.prompts import Chunk, EncodedInputs

__all__ = ["batch_count", "chunk_arrays", "length_batches", "pad_rows", "score_chunks"]


def length_batches(lengths: Sequence[int], batch_size: int) -> Iterator[np.ndarray]:
    """Indices in batches of similar length (longest first), so padding is small."""
    order = np.argsort(-np.asarray(lengths), kind="stable")
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


def pad_rows(rows: Sequence[list[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad id lists to the longest: ``(ids, mask)``, both ``(B, L)`` int64 arrays."""
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    mask = np.arange(lengths.max(initial=0)) < lengths[:, None]
    ids = np.full(mask.shape, pad_id, dtype=np.int64)
    ids[mask] = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64, count=int(lengths.sum()))
    return ids, mask.astype(np.int64)


def chunk_arrays(chunk: Chunk, index: Sequence[int], pad_id: int) -> dict[str, np.ndarray]:
    """The id arrays of one forward pass over rows ``index`` of ``chunk``: ``input_ids`` and ``attention_mask``
    ``(B, L)``, and for an encoder-decoder the label prompt as ``decoder_input_ids`` / ``decoder_attention_mask``."""
    ids, mask = pad_rows([chunk.rows[i] for i in index], pad_id)
    arrays = {"input_ids": ids, "attention_mask": mask}
    if chunk.decoder_ids is not None:
        decoder = np.tile(np.asarray(chunk.decoder_ids, dtype=np.int64), (len(index), 1))
        arrays["decoder_input_ids"], arrays["decoder_attention_mask"] = decoder, np.ones_like(decoder)
    return arrays


def score_chunks(
    encoded: EncodedInputs,
    n_texts: int,
    n_labels: int,
    batch_size: int,
    run: Callable[[Chunk, np.ndarray], np.ndarray],
    step: Callable[[], object] = lambda: None,
) -> np.ndarray:
    """Logits ``(n_texts, n_labels)`` float32: ``run(chunk, rows)`` scores rows of a chunk against its labels.

    Rows are scored in length-sorted batches; ``step`` is called after each (a progress bar's update).
    Where long texts were read in windows, each label keeps its best window's score.
    """
    out = np.zeros((n_texts, n_labels), dtype=np.float32)
    for chunk in encoded.chunks:
        rows = np.zeros((len(chunk.rows), chunk.stop - chunk.start), dtype=np.float32)
        for index in length_batches([len(r) for r in chunk.rows], batch_size):
            rows[index] = run(chunk, index)
            step()
        if chunk.owners is None:
            out[:, chunk.start : chunk.stop] = rows
        else:
            best = np.full((n_texts, rows.shape[1]), -np.inf, dtype=np.float32)
            np.maximum.at(best, np.asarray(chunk.owners), rows)
            out[:, chunk.start : chunk.stop] = best
    return out


def batch_count(encoded: EncodedInputs, batch_size: int) -> int:
    """How many batches :func:`score_chunks` runs (a progress bar's total)."""
    return sum(-(-len(c.rows) // batch_size) for c in encoded.chunks)
