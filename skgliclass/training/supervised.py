"""Supervised fine-tuning (:class:`SupervisedTrainer`): focal (per-pair) and softmax losses, plus the optional
contrastive loss between label vectors; validation on held-out texts after each epoch, early stopping, and the best
epoch's weights kept."""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from skgliclass.data.prompts import InputBuilder
from skgliclass.losses import focal_loss, softmax_loss
from skgliclass.modeling.model import GLiClassModel
from skgliclass.training import guard
from skgliclass.training.forward import BatchOutput, forward_batch
from skgliclass.training.guard import FEEDBACK_KEEP, FEEDBACK_Z, guard_loss
from skgliclass.training.loop import BestEpoch, Trainer, guarded_update
from skgliclass.training.optim import load_optimizer_state, optimizer_and_schedule, optimizer_state
from skgliclass.training.settings import TrainSettings, Validation

__all__ = ["SupervisedTrainer", "Validation", "evaluate"]


class SupervisedTrainer(Trainer):
    """Supervised fine-tuning, a :class:`~skgliclass.training.loop.Trainer`: ``fit()`` trains ``model`` in place
    on ``texts`` against ``targets`` ``(n, C)`` (1, 0, or -100 for unknown).

    Every step scores a batch of texts against all labels (in a fresh random order when
    ``shuffle_labels``, so no label learns its position). The history: loss per step, mean
    loss and training score per epoch, learning rates and seconds per epoch; with
    ``validation``, also its loss and score per epoch, and ``best_epoch``.

    With ``validation``, the model ends with the weights of the epoch of lowest validation loss,
    and training stops once ``settings.n_iter_no_change`` epochs in a row have not lowered it by
    ``settings.tol``.
    """

    desc = "fit"

    def __init__(
        self,
        model: GLiClassModel,
        builder: InputBuilder,
        texts: Sequence[str],
        targets: np.ndarray,
        labels: Sequence[str],
        settings: TrainSettings,
        rng: np.random.Generator,
        device: torch.device,
        validation: Validation | None = None,
        weights: np.ndarray | None = None,
    ) -> None:
        self.model, self.builder, self.texts, self.labels = model, builder, texts, labels
        self.settings, self.rng, self.device, self.validation = settings, rng, device, validation
        self.targets = torch.as_tensor(targets, dtype=torch.float32)
        self.weights = None if weights is None else torch.as_tensor(weights, dtype=torch.float32)
        updates = settings.epochs * math.ceil(len(texts) / settings.batch_size)
        self.optimizer, self.schedule = optimizer_and_schedule(model, settings, updates)
        self.history: dict[str, list[float]] = {
            "loss": [],
            "epoch_loss": [],
            "train_score": [],
            "learning_rate": [],
            "epoch_seconds": [],
        }
        self.best = BestEpoch()
        if validation is not None and validation.calibrated:  # reviewers' verdicts: the stricter guard
            self.best = BestEpoch(z=FEEDBACK_Z, keep=FEEDBACK_KEEP)
        if validation is not None:  # epoch 0: the model as it starts, kept when no epoch does better
            self.history.update(validation_loss=[], validation_score=[], best_epoch=[])
            loss, score, rows, kept = evaluate(model, builder, validation, labels, settings, device)
            model.train()
            self.history.update(start_validation_loss=[loss], start_validation_score=[score])
            self.best.update(loss, 0, model, settings, rows, kept)

    def train_batch(self, batch: np.ndarray) -> dict[str, float]:
        n_labels = len(self.labels)
        order = self.rng.permutation(n_labels) if self.settings.shuffle_labels else np.arange(n_labels)
        texts, targets = [self.texts[i] for i in batch], self.targets[batch]
        settings, device = self.settings, self.device
        weights = None if self.weights is None else self.weights[batch].to(device)
        loss, logits = _step_loss(
            self.model, self.builder, texts, self.labels, targets, order, settings, device, weights
        )
        guarded_update(loss, self.optimizer, self.schedule, self.model.parameters(), self.settings.max_grad_norm)
        right = _score(logits.detach(), targets.to(self.device), self.settings.multilabel)
        return {"loss": float(loss.detach()), "learning_rate": float(self.schedule.get_last_lr()[-1]), "right": right}

    def end_epoch(self, stats: list[dict[str, float]], seconds: float) -> bool:
        history = self.history
        history["epoch_loss"].append(float(np.mean([s["loss"] for s in stats])) if stats else math.nan)
        history["train_score"].append(float(np.mean([s["right"] for s in stats])) if stats else math.nan)
        history["epoch_seconds"].append(seconds)
        if self.validation is None:
            return False
        loss, score, rows, kept = evaluate(
            self.model, self.builder, self.validation, self.labels, self.settings, self.device
        )
        self.model.train()
        history["validation_loss"].append(loss)
        history["validation_score"].append(score)
        return self.best.update(loss, len(history["validation_loss"]), self.model, self.settings, rows, kept)

    def state(self) -> dict[str, Any]:
        return {**optimizer_state(self.optimizer, self.schedule), "best": self.best.state()}

    def load_state(self, state: dict[str, Any]) -> None:
        load_optimizer_state(self.optimizer, self.schedule, state)
        self.best.load_state(state.get("best"))

    def zero_grad(self) -> None:
        self.optimizer.zero_grad(set_to_none=True)

    def finish(self) -> None:
        self.history.pop("right", None)  # per-step counts behind train_score
        if self.validation is not None and self.best.weights is not None:
            self.model.load_state_dict(self.best.weights)
            self.history["best_epoch"] = [float(self.best.epoch)]


@torch.no_grad()
def evaluate(
    model: GLiClassModel,
    builder: InputBuilder,
    validation: Validation,
    labels: Sequence[str],
    settings: TrainSettings,
    device: torch.device,
) -> tuple[float, float, np.ndarray | None, float | None]:
    """Mean loss (the objective without the contrastive term, or the calibrated verdict NLL when
    ``validation.calibrated``) and score of ``model`` on the validation texts (eval mode, labels in order), and
    with ``validation.calibrated`` the per-row NLL of the judged texts and what it keeps right
    (:func:`~skgliclass.training.guard.kept_right`); both None otherwise.
    Single-label verdicts are weighted so that every class weighs the same
    (:func:`~skgliclass.training.guard.class_balance`)."""
    model.eval()
    targets = torch.as_tensor(validation.targets, dtype=torch.float32)
    losses, scores, sizes, all_logits = [], [], [], []
    order = np.arange(len(labels))
    plain = dataclasses.replace(settings, contrastive_coef=0.0)
    for start in range(0, len(validation.texts), settings.batch_size):
        part = slice(start, start + settings.batch_size)
        loss, logits = _step_loss(
            model, builder, list(validation.texts[part]), labels, targets[part], order, plain, device
        )
        batch = targets[part].to(device)
        all_logits.append(logits.cpu().numpy())
        losses.append(float(loss))
        scores.append(_score(logits, batch, settings.multilabel))
        sizes.append(len(batch))
    score = float(np.average(scores, weights=sizes))
    if validation.calibrated:
        logits = np.concatenate(all_logits)
        mean, rows = guard_loss(logits, validation.targets, settings.multilabel)
        return mean, score, rows, guard.kept_right(logits, validation.targets, settings.multilabel)
    return float(np.average(losses, weights=sizes)), score, None, None


def _score(logits: torch.Tensor, targets: torch.Tensor, multilabel: bool) -> float:
    """Accuracy of the top label (single-label), or share of right (text, label) decisions at p = 0.5."""
    known = targets >= 0
    if multilabel:
        right = ((logits > 0).float() == targets) & known
        return float(right.sum() / known.sum().clamp(min=1))
    return float((targets.gather(1, logits.argmax(1, keepdim=True)) == 1).float().mean())


def _step_loss(
    model: GLiClassModel,
    builder: InputBuilder,
    texts: list[str],
    labels: Sequence[str],
    targets: torch.Tensor,
    order: np.ndarray,
    settings: TrainSettings,
    device: torch.device,
    weights: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The loss of one batch over every label (entries weighted by ``weights`` in the focal loss), and its logits
    ``(B, C)`` in fp32 (bf16 autocast when asked)."""
    mixed = torch.autocast(device.type, dtype=torch.bfloat16) if settings.autocast else contextlib.nullcontext()
    with mixed:
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
    # Losses in fp32: the logits of a bf16 pass carry about 3 significant digits.
    out.logits, out.contrastive = out.logits.float(), out.contrastive.float()
    return _loss(out, targets.to(device), settings, weights), out.logits


def _loss(
    out: BatchOutput, targets: torch.Tensor, settings: TrainSettings, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """The objective's loss of one batch over every label (plus the weighted contrastive loss)."""
    shared = {"gamma": settings.focal_gamma, "label_smoothing": settings.label_smoothing, "mask": out.mask}
    terms = settings.objective.split("+")
    loss = out.contrastive * settings.contrastive_coef
    if "focal" in terms:
        loss = loss + focal_loss(out.logits, targets, alpha=settings.focal_alpha, weights=weights, **shared)
    if "softmax" in terms:
        loss = loss + softmax_loss(out.logits, targets, **shared)
    return loss
