"""Fine-tuning: the focal-loss loop, optimiser and schedule, LoRA adapters."""

from __future__ import annotations

from skgliclass.training.supervised import TrainSettings, train_focal

__all__ = ["TrainSettings", "train_focal"]
