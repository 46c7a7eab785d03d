"""Fine-tuning: the shared epoch loop, supervised (focal, softmax) and PPO training, optimiser and schedule, LoRA."""

from __future__ import annotations

from skgliclass.training.supervised import TrainSettings, train_supervised

__all__ = ["TrainSettings", "train_supervised"]
