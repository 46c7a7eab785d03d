"""Fine-tuning: the shared epoch loop, supervised (focal, softmax) and PPO training, optimiser and schedule, LoRA."""

from __future__ import annotations

from skgliclass.training.loop import Trainer, run_epochs
from skgliclass.training.ppo import PPOTrainer
from skgliclass.training.settings import TrainSettings
from skgliclass.training.supervised import SupervisedTrainer

__all__ = ["PPOTrainer", "SupervisedTrainer", "TrainSettings", "Trainer", "run_epochs"]
