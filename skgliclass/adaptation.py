"""Adapting a cosine bi-encoder's label vectors to unlabeled texts of the user's domain.

A label's wording ("This text is about sport.") is a rough stand-in for the texts that carry
that label. Given unlabeled texts, one expectation-maximisation step of a mixture of von
Mises-Fisher components, each anchored at its label vector, moves every label vector towards the
texts the model already reads as that label::

    p_ij  = softmax_j(scale * cos(text_i, label_j))          # the zero-shot posteriors
    label_j <- normalise(prior * label_j + sum_i p_ij text_i)  # the label's wording counts as `prior` texts

One step, soft weights and a fixed prior keep it safe where iterating would drift: labels with
no texts in the data stay near their wording, and a handful of texts barely moves anything.

Adapted vectors sit closer to every text of the domain, so raw cosines rise for all labels alike
(by about 0.3 on news). Argmax decisions do not mind; independent multi-label thresholds do, so
the mean text vector is returned too, from which the estimator measures that rise per label.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch

from skgliclass.batching import chunk_inputs, label_vectors, length_batches
from skgliclass.data.prompts import InputBuilder
from skgliclass.modeling.model import GLiClassModel
from skgliclass.progress import progress_bar

__all__ = [
    "PRIOR_TEXTS",
    "Reading",
    "adapted_vectors",
    "can_adapt",
    "leave_one_out_logits",
    "read_texts",
]

# How many texts a label's own wording weighs against the texts that read like it.
PRIOR_TEXTS = 10.0


def can_adapt(model: GLiClassModel) -> bool:
    """Whether label vectors are text-independent cosine directions (a plain bi-encoder, dot scorer)."""
    config = model.config
    return config.architecture == "bi-encoder" and config.scorer == "dot" and bool(config.normalize_features)


class Reading(NamedTuple):
    """What adapting reads from the texts, once: enough to adapt to any subset of them."""

    original: torch.Tensor  # (C, D) the label vectors of the wording
    texts: torch.Tensor  # (n, D) the text vectors, in the order given
    posteriors: torch.Tensor  # (n, C) the zero-shot softmax posteriors


@torch.inference_mode()
def read_texts(
    model: GLiClassModel,
    builder: InputBuilder,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    prompt: str | None = None,
    batch_size: int = 16,
    device: torch.device,
    progress: bool = False,
) -> Reading:
    """Each text's vector and zero-shot posteriors, read once, cut to the builder's ``max_length`` (float32, CPU)."""
    if not can_adapt(model):
        raise ValueError("label vectors can be adapted only for a bi-encoder with the cosine dot scorer.")
    model.eval()
    encoded = builder.build(texts, labels, prompt=prompt)
    original = label_vectors(model, encoded.label_ids, builder.pad_id, device, batch_size).float()
    chunk = encoded.chunks[0]  # bi-encoder rows hold only the text, so one chunk covers every label
    vectors = torch.zeros(len(chunk.rows), original.shape[1])
    posteriors = torch.zeros(len(chunk.rows), original.shape[0])
    bar = progress_bar(-(-len(chunk.rows) // batch_size), progress, "adapt")
    for index in length_batches([len(r) for r in chunk.rows], batch_size):
        out = model(**chunk_inputs(chunk, index, builder.pad_id, device, original))
        rows = torch.as_tensor(index)
        posteriors[rows] = out.logits.float().softmax(dim=-1).cpu()
        vectors[rows] = out.text_embeddings.float().cpu()
        bar.update(1)
    bar.close()
    return Reading(original.cpu(), vectors, posteriors)


def adapted_vectors(reading: Reading, prior: float = PRIOR_TEXTS) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Label vectors moved towards the texts read: ``(adapted, original, centre)``, float32 on the CPU.

    ``adapted`` and ``original`` are ``(C, D)``; ``centre`` ``(D,)`` is the mean text vector, so
    ``centre @ vectors.T`` is the mean cosine of the texts with each label. Single- and multi-label alike
    use the softmax posteriors, so a text pulls hardest on the label it reads most like.
    """
    adapted = prior * reading.original + reading.posteriors.T @ reading.texts
    adapted = adapted / adapted.norm(dim=-1, keepdim=True).clamp_min(1e-8)
    return adapted, reading.original, reading.texts.mean(dim=0)


def leave_one_out_logits(
    reading: Reading, scale: float, prior: float = PRIOR_TEXTS, offsets: bool = False
) -> np.ndarray:
    """Each text's logits ``(n, C)`` against the label vectors adapted to all the other texts (exact: one
    step is a sum over texts, so leaving text ``i`` out subtracts its own pull), as a held-out text would
    score. ``offsets``: minus the multi-label offsets of those vectors (their mean rise over the other texts).
    """
    t, p = reading.texts.double(), reading.posteriors.double()
    full = prior * reading.original.double() + p.T @ t  # (C, D) unnormalised, every text
    t_full = t @ full.T  # (n, C): t_i . A_j
    t_norm2 = (t * t).sum(1, keepdim=True)  # (n, 1)
    # text i's own vectors are A - p_i t_i: their norms and dot products follow from A's without forming them
    norm = ((full * full).sum(1)[None, :] - 2 * p * t_full + p * p * t_norm2).clamp_min(1e-16).sqrt()  # (n, C)
    logits = scale * (t_full - p * t_norm2) / norm
    if offsets:
        n = len(t)
        others = (t.sum(0, keepdim=True) - t) / max(n - 1, 1)  # (n, D) the mean of the other texts
        rise = (others @ full.T - p * (others * t).sum(1, keepdim=True)) / norm  # (n, C) cos with adapted
        logits = logits - scale * (rise - others @ reading.original.double().T)
    return logits.numpy()
