"""Supervised fine-tuning with focal loss (plus the optional contrastive loss between label vectors)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from skgliclass.data.prompts import InputBuilder
from skgliclass.losses import focal_loss, softmax_loss
from skgliclass.modeling.model import GLiClassModel
from skgliclass.training.forward import forward_batch
from skgliclass.training.loop import LoopSettings, guarded_update, run_epochs
from skgliclass.training.optim import build_optimizer, linear_schedule

__all__ = ["TrainSettings", "load_optimizer_state", "optimizer_and_schedule", "optimizer_state", "train_focal"]


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
    prompt: str | None = None
    objective: str = "focal"  # "focal", "softmax" (one label per text) or both summed: "focal+softmax"


def optimizer_and_schedule(
    model: GLiClassModel, settings: TrainSettings, updates: int
) -> tuple[torch.optim.AdamW, torch.optim.lr_scheduler.LambdaLR]:
    """AdamW with the backbone/head learning rates of ``settings`` and a warmup/decay over ``updates`` steps."""
    optimizer = build_optimizer(
        model,
        learning_rate=settings.learning_rate,
        encoder_learning_rate=settings.encoder_learning_rate,
        weight_decay=settings.weight_decay,
    )
    return optimizer, linear_schedule(optimizer, updates, settings.warmup_ratio)


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
    loop: LoopSettings | None = None,
) -> dict[str, list[float]]:
    """Fine-tune ``model`` in place on ``texts`` against ``targets`` ``(n, C)`` (1, 0, or -100 for unknown).

    Every step scores a batch of texts against all labels (in a fresh random order when
    ``shuffle_labels``, so no label learns its position). Returns the history: loss per step,
    mean loss per epoch, learning rates and seconds per epoch. ``loop`` sets what happens on
    bad batches, and checkpoints.
    """
    n = len(texts)
    optimizer, schedule = optimizer_and_schedule(model, settings, settings.epochs * math.ceil(n / settings.batch_size))
    history: dict[str, list[float]] = {"loss": [], "epoch_loss": [], "learning_rate": [], "epoch_seconds": []}
    target_tensor = torch.as_tensor(targets, dtype=torch.float32)

    def train_batch(batch: np.ndarray) -> dict[str, float]:
        order = rng.permutation(len(labels)) if settings.shuffle_labels else np.arange(len(labels))
        loss = _step_loss(
            model, builder, [texts[i] for i in batch], labels, target_tensor[batch], order, settings, device
        )
        guarded_update(loss, optimizer, schedule, model.parameters(), settings.max_grad_norm)
        return {"loss": float(loss.detach()), "learning_rate": float(schedule.get_last_lr()[-1])}

    def end_epoch(stats: list[dict[str, float]], seconds: float) -> None:
        history["epoch_loss"].append(float(np.mean([s["loss"] for s in stats])) if stats else math.nan)
        history["epoch_seconds"].append(seconds)

    model.train()
    run_epochs(
        train_batch,
        n=n,
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        rng=rng,
        model=model,
        history=history,
        end_epoch=end_epoch,
        state=lambda: optimizer_state(optimizer, schedule),
        load_state=lambda state: load_optimizer_state(optimizer, schedule, state),
        zero_grad=lambda: optimizer.zero_grad(set_to_none=True),
        loop=loop or LoopSettings(),
        progress=progress,
    )
    model.eval()
    return history


def optimizer_state(optimizer: torch.optim.Optimizer, schedule: Any) -> dict[str, Any]:
    """What a checkpoint keeps of the optimiser and its schedule."""
    return {"optimizer": optimizer.state_dict(), "schedule": schedule.state_dict()}


def load_optimizer_state(optimizer: torch.optim.Optimizer, schedule: Any, state: dict[str, Any]) -> None:
    """Put back what :func:`optimizer_state` kept."""
    optimizer.load_state_dict(state["optimizer"])
    schedule.load_state_dict(state["schedule"])


def _step_loss(
    model: GLiClassModel,
    builder: InputBuilder,
    texts: list[str],
    labels: Sequence[str],
    targets: torch.Tensor,
    order: np.ndarray,
    settings: TrainSettings,
    device: torch.device,
) -> torch.Tensor:
    """The objective's loss of one batch over every label (plus the weighted contrastive loss)."""
    out = forward_batch(
        model,
        builder,
        texts,
        labels,
        device,
        order=order,
        prompt=settings.prompt,
        contrastive=settings.contrastive_coef > 0,
    )
    shared = {"gamma": settings.focal_gamma, "label_smoothing": settings.label_smoothing, "mask": out.mask}
    targets = targets.to(device)
    terms = settings.objective.split("+")
    loss = out.contrastive * settings.contrastive_coef
    if "focal" in terms:
        loss = loss + focal_loss(out.logits, targets, alpha=settings.focal_alpha, **shared)
    if "softmax" in terms:
        loss = loss + softmax_loss(out.logits, targets, **shared)
    return loss
