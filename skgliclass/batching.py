"""How texts go through the model in batches: length-sorted batches, padding, the inputs of one pass over a chunk
of labels, and label vectors encoded in batches. Shared by prediction, training, adaptation and the embedding head."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from skgliclass.data.batches import chunk_arrays, length_batches, pad_rows
from skgliclass.data.prompts import Chunk
from skgliclass.modeling.model import GLiClassModel

__all__ = ["chunk_inputs", "label_vectors", "length_batches", "pad_batch"]


def pad_batch(rows: Sequence[list[int]], pad_id: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad id lists to the longest: ``(ids, mask)``, both ``(B, L)`` long tensors on ``device``."""
    ids, mask = pad_rows(rows, pad_id)
    return torch.from_numpy(ids).to(device), torch.from_numpy(mask).to(device)


def chunk_inputs(
    chunk: Chunk, index: Sequence[int], pad_id: int, device: torch.device, vectors: torch.Tensor | None
) -> dict[str, Any]:
    """The keyword arguments of one forward pass over rows ``index`` of ``chunk``.

    ``vectors`` are the label vectors ``(C, D)`` of all labels for the bi-encoders, else None.
    """
    inputs: dict[str, Any] = {k: torch.from_numpy(v).to(device) for k, v in chunk_arrays(chunk, index, pad_id).items()}
    if vectors is not None:
        inputs["label_vectors"] = vectors[chunk.start : chunk.stop]
    else:
        inputs["num_labels"] = chunk.stop - chunk.start
    return inputs


def label_vectors(
    model: GLiClassModel, label_ids: list[list[int]], pad_id: int, device: torch.device, batch_size: int
) -> torch.Tensor:
    """Bi-encoder label vectors ``(C, D)``, encoded in length-sorted batches."""
    parts, order = [], []
    for index in length_batches([len(r) for r in label_ids], batch_size):
        ids, mask = pad_batch([label_ids[i] for i in index], pad_id, device)
        parts.append(model.model.encode_labels(ids, mask))
        order.append(torch.as_tensor(index, device=device))
    inverse = torch.argsort(torch.cat(order))  # back to label order, differentiably
    return torch.cat(parts)[inverse]
