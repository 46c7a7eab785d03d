"""AdamW with separate learning rates for the backbones and the head, a linear warmup/decay schedule, and
what a checkpoint keeps of them."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from skgliclass.modeling.model import BACKBONE_PREFIXES
from skgliclass.training.settings import TrainSettings

__all__ = [
    "build_optimizer",
    "linear_schedule",
    "load_optimizer_state",
    "optimizer_and_schedule",
    "optimizer_state",
]

# Parameters that never get weight decay: biases and normalisation weights.
_NO_DECAY = ("bias", "LayerNorm.weight", "layer_norm.weight", "norm.weight", "logit_scale")


def build_optimizer(
    model: nn.Module, *, learning_rate: float, encoder_learning_rate: float, weight_decay: float
) -> torch.optim.AdamW:
    """AdamW over four groups: {backbone, head} x {decayed, not decayed}; frozen parameters are left out."""
    groups: dict[tuple[bool, bool], list[nn.Parameter]] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        inner = name.removeprefix("model.")
        backbone = inner.startswith(BACKBONE_PREFIXES)
        decay = param.ndim > 1 and not any(name.endswith(s) or f"{s}" in name for s in _NO_DECAY)
        groups.setdefault((backbone, decay), []).append(param)
    return torch.optim.AdamW(
        [
            {
                "params": params,
                "lr": encoder_learning_rate if backbone else learning_rate,
                "weight_decay": weight_decay if decay else 0.0,
            }
            for (backbone, decay), params in groups.items()
        ]
    )


def linear_schedule(
    optimizer: torch.optim.Optimizer, total_steps: int, warmup_ratio: float
) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warmup over ``warmup_ratio`` of the steps, then linear decay to zero."""
    warmup = round(total_steps * warmup_ratio)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def optimizer_and_schedule(
    model: nn.Module, settings: TrainSettings, updates: int
) -> tuple[torch.optim.AdamW, torch.optim.lr_scheduler.LambdaLR]:
    """AdamW with the backbone/head learning rates of ``settings`` and a warmup/decay over ``updates`` steps."""
    optimizer = build_optimizer(
        model,
        learning_rate=settings.learning_rate,
        encoder_learning_rate=settings.encoder_learning_rate,
        weight_decay=settings.weight_decay,
    )
    return optimizer, linear_schedule(optimizer, updates, settings.warmup_ratio)


def optimizer_state(optimizer: torch.optim.Optimizer, schedule: Any) -> dict[str, Any]:
    """What a checkpoint keeps of the optimiser and its schedule."""
    return {"optimizer": optimizer.state_dict(), "schedule": schedule.state_dict()}


def load_optimizer_state(optimizer: torch.optim.Optimizer, schedule: Any, state: dict[str, Any]) -> None:
    """Put back what :func:`optimizer_state` kept."""
    optimizer.load_state_dict(state["optimizer"])
    schedule.load_state_dict(state["schedule"])
