"""Fine-tuning: the shared epoch loop, supervised (focal, softmax) and PPO training, optimiser and schedule, LoRA."""

from __future__ import annotations

from skgliclass.training.settings import TrainSettings
from skgliclass.training.supervised import train_supervised

__all__ = ["TrainSettings", "train_supervised"]
