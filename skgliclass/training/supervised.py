"""Supervised fine-tuning with focal loss (plus the optional contrastive loss between label vectors)."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from skgliclass.data.prompts import InputBuilder
from skgliclass.inference import chunk_inputs, label_vectors, progress_bar
from skgliclass.losses import contrastive_loss, focal_loss
from skgliclass.modeling.model import GLiClassModel
from skgliclass.training.optim import build_optimizer, linear_schedule

__all__ = ["TrainSettings", "train_focal"]


@dataclass
class TrainSettings:
    """What a fit needs beyond the data (see :class:`~skgliclass.GLiClassifier` for each meaning)."""

    epochs: int
    batch_size: int
    learning_rate: float
    encoder_learning_rate: float
    weight_decay: float
    warmup_ratio: float
    focal_alpha: float | None
    focal_gamma: float
    label_smoothing: float
    contrastive_coef: float
    shuffle_labels: bool = True
    max_grad_norm: float = 1.0


def train_focal(
    model: GLiClassModel,
    builder: InputBuilder,
    texts: Sequence[str],
    targets: np.ndarray,
    labels: Sequence[str],
    settings: TrainSettings,
    rng: np.random.Generator,
    device: torch.device,
    progress: bool = False,
) -> dict[str, list[float]]:
    """Fine-tune ``model`` in place on ``texts`` against ``targets`` ``(n, C)`` (1, 0, or -100 for unknown).

    Every step scores a batch of texts against all labels (in a fresh random order when
    ``shuffle_labels``, so no label learns its position). Returns the history: loss per step,
    mean loss per epoch, learning rates and seconds per epoch.
    """
    n = len(texts)
    steps_per_epoch = math.ceil(n / settings.batch_size)
    total = steps_per_epoch * settings.epochs
    optimizer = build_optimizer(
        model,
        learning_rate=settings.learning_rate,
        encoder_learning_rate=settings.encoder_learning_rate,
        weight_decay=settings.weight_decay,
    )
    schedule = linear_schedule(optimizer, total, settings.warmup_ratio)
    pad_id = builder.pad_id
    history: dict[str, list[float]] = {"loss": [], "epoch_loss": [], "learning_rate": [], "epoch_seconds": []}
    target_tensor = torch.as_tensor(targets, dtype=torch.float32)
    model.train()
    bar = progress_bar(total, progress, "fit")
    for _ in range(settings.epochs):
        start, losses = time.perf_counter(), []
        for batch in np.array_split(rng.permutation(n), steps_per_epoch):
            order = rng.permutation(len(labels)) if settings.shuffle_labels else np.arange(len(labels))
            loss = _step_loss(
                model,
                builder,
                [texts[i] for i in batch],
                [labels[j] for j in order],
                target_tensor[batch][:, order],
                settings,
                pad_id,
                device,
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), settings.max_grad_norm)
            optimizer.step()
            schedule.step()
            losses.append(float(loss.detach()))
            history["loss"].append(losses[-1])
            history["learning_rate"].append(float(schedule.get_last_lr()[-1]))
            bar.update(1)
            bar.set_postfix(loss=f"{losses[-1]:.4f}")
        history["epoch_loss"].append(float(np.mean(losses)))
        history["epoch_seconds"].append(time.perf_counter() - start)
    bar.close()
    model.eval()
    return history


def _step_loss(
    model: GLiClassModel,
    builder: InputBuilder,
    texts: list[str],
    labels: list[str],
    targets: torch.Tensor,
    settings: TrainSettings,
    pad_id: int,
    device: torch.device,
) -> torch.Tensor:
    """Loss of one batch over every label chunk (one chunk unless the labels overflow ``max_length``)."""
    encoded = builder.build(texts, labels)
    vectors = None
    if encoded.label_ids is not None:
        vectors = label_vectors(model, encoded.label_ids, pad_id, device, max(len(labels), 1))
    targets = targets.to(device)
    total = torch.zeros((), device=device)
    for chunk in encoded.chunks:
        out = model(**chunk_inputs(chunk, range(len(texts)), pad_id, device, vectors))
        y = targets[:, chunk.start : chunk.stop]
        loss = focal_loss(
            out.logits,
            y,
            alpha=settings.focal_alpha,
            gamma=settings.focal_gamma,
            label_smoothing=settings.label_smoothing,
            mask=out.class_mask,
        )
        if settings.contrastive_coef > 0 and out.class_embeddings is not None:
            loss = loss + settings.contrastive_coef * contrastive_loss(out.class_embeddings, out.class_mask)
        total = total + loss * (chunk.stop - chunk.start) / len(labels)
    return total
