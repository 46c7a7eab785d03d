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

import torch

from skgliclass.batching import chunk_inputs, label_vectors, length_batches
from skgliclass.data.prompts import InputBuilder
from skgliclass.modeling.model import GLiClassModel
from skgliclass.progress import progress_bar

__all__ = ["PRIOR_TEXTS", "adapt_label_vectors", "can_adapt"]

# How many texts a label's own wording weighs against the texts that read like it.
PRIOR_TEXTS = 10.0


def can_adapt(model: GLiClassModel) -> bool:
    """Whether label vectors are text-independent cosine directions (a plain bi-encoder, dot scorer)."""
    config = model.config
    return config.architecture == "bi-encoder" and config.scorer == "dot" and bool(config.normalize_features)


@torch.inference_mode()
def adapt_label_vectors(
    model: GLiClassModel,
    builder: InputBuilder,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    prompt: str | None = None,
    batch_size: int = 16,
    device: torch.device,
    prior: float = PRIOR_TEXTS,
    progress: bool = False,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Label vectors moved towards ``texts``: ``(adapted, original, centre)``, float32 on the CPU.

    ``adapted`` and ``original`` are ``(C, D)``; ``centre`` ``(D,)`` is the mean text vector, so
    ``centre @ vectors.T`` is the mean cosine of the texts with each label.

    Each text is read once, cut to the builder's ``max_length``; single- and multi-label alike use
    the softmax posteriors, so a text pulls hardest on the label it reads most like.
    """
    if not can_adapt(model):
        raise ValueError("label vectors can be adapted only for a bi-encoder with the cosine dot scorer.")
    model.eval()
    encoded = builder.build(texts, labels, prompt=prompt)
    original = label_vectors(model, encoded.label_ids, builder.pad_id, device, batch_size).float()
    pulled = torch.zeros_like(original)
    total = torch.zeros_like(original[0])
    chunk = encoded.chunks[0]  # bi-encoder rows hold only the text, so one chunk covers every label
    bar = progress_bar(-(-len(chunk.rows) // batch_size), progress, "adapt")
    for index in length_batches([len(r) for r in chunk.rows], batch_size):
        out = model(**chunk_inputs(chunk, index, builder.pad_id, device, original))
        weights = out.logits.float().softmax(dim=-1)  # (B, C)
        pulled += weights.T @ out.text_embeddings.float()
        total += out.text_embeddings.float().sum(dim=0)
        bar.update(1)
    bar.close()
    adapted = prior * original + pulled
    adapted = adapted / adapted.norm(dim=-1, keepdim=True).clamp_min(1e-8)
    return adapted.cpu(), original.cpu(), (total / max(len(chunk.rows), 1)).cpu()
