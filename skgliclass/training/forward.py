"""One training forward pass: a batch of texts scored against every label, chunks joined, label order restored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from skgliclass.batching import chunk_inputs, label_vectors
from skgliclass.data.prompts import EncodedInputs, InputBuilder
from skgliclass.losses import contrastive_loss
from skgliclass.modeling.model import GLiClassModel

__all__ = ["BatchOutput", "encode_batch", "forward_batch"]


@dataclass
class BatchOutput:
    """Scores of one batch, columns in the caller's label order.

    Attributes
    ----------
    logits : Tensor of shape (B, C)
    mask : Tensor of shape (B, C), bool
        True where the label slot is real.
    text : Tensor of shape (B, D)
        Pooled text vectors (of the first label chunk; token states are averaged for the pass pooler).
    contrastive : Tensor
        The contrastive loss between label vectors (0 when not asked for or not available).
    """

    logits: torch.Tensor
    mask: torch.Tensor
    text: torch.Tensor
    contrastive: torch.Tensor


def encode_batch(
    builder: InputBuilder,
    texts: Sequence[str],
    labels: Sequence[str],
    order: np.ndarray | None = None,
    prompt: str | None = None,
) -> EncodedInputs:
    """Token ids of ``texts`` against ``labels`` read in ``order`` (all of them when None)."""
    order = np.arange(len(labels)) if order is None else np.asarray(order)
    return builder.build(list(texts), [labels[j] for j in order], prompt=prompt)


def forward_batch(
    model: GLiClassModel,
    builder: InputBuilder,
    texts: Sequence[str],
    labels: Sequence[str],
    device: torch.device,
    *,
    order: np.ndarray | None = None,
    prompt: str | None = None,
    contrastive: bool = False,
    encoded: EncodedInputs | None = None,
) -> BatchOutput:
    """Score ``texts`` against all ``labels`` with gradients, reading the labels in ``order``.

    The model reads the labels permuted by ``order`` (so no label learns its position) and the
    returned columns are put back into the order of ``labels``. ``encoded`` (from
    :func:`encode_batch` with the same texts, labels, order and prompt) skips tokenising again.
    """
    order = np.arange(len(labels)) if order is None else np.asarray(order)
    if encoded is None:
        encoded = encode_batch(builder, texts, labels, order, prompt)
    pad_id = builder.pad_id
    vectors = None
    if encoded.label_ids is not None:
        vectors = label_vectors(model, encoded.label_ids, pad_id, device, max(len(labels), 1))
    logits, masks, extra = [], [], torch.zeros((), device=device)
    text = None
    for chunk in encoded.chunks:
        out = model(**chunk_inputs(chunk, range(len(texts)), pad_id, device, vectors))
        logits.append(out.logits)
        masks.append(out.class_mask.bool())
        if text is None:
            text = out.text_embeddings if out.text_embeddings.ndim == 2 else out.text_embeddings.mean(1)
        if contrastive and out.class_embeddings is not None:
            extra = extra + contrastive_loss(out.class_embeddings, out.class_mask) * (chunk.stop - chunk.start)
    inverse = torch.as_tensor(np.argsort(order), device=device)
    return BatchOutput(
        logits=torch.cat(logits, 1)[:, inverse],
        mask=torch.cat(masks, 1)[:, inverse],
        text=text,
        contrastive=extra / len(labels),
    )
