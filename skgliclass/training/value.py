"""PPO value models: the baseline ``V(s)`` subtracted from rewards, one value per (text, label).

- ``"head"``: a two-layer MLP on the policy's pooled text vector, detached. Nearly free, but its
  input drifts as the policy trains, so it chases a moving state.
- ``"encoder"``: its own copy of the text backbone (mean pooling, then a linear layer). A stable
  state of its own, at about twice the memory and one more forward/backward pass per batch.
- ``None``: the batch mean of the rewards (per label), as the reference does without a value model.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from skgliclass.modeling.model import GLiClassModel

__all__ = ["ValueEncoder", "ValueHead", "batch_mean_baseline", "build_value_model"]


class _Value(nn.Module):
    """What both value models share: a last linear layer whose bias starts at the first rewards."""

    out: nn.Linear

    @torch.no_grad()
    def start_at(self, mean_reward: torch.Tensor) -> None:
        """Start ``V`` at the first batch's mean reward per label, so it needs no steps to find the scale."""
        self.out.bias.copy_(mean_reward)


class ValueHead(_Value):
    """``V(s)`` from the policy's pooled text vector (gradients never reach the policy)."""

    def __init__(self, width: int, n_labels: int) -> None:
        super().__init__()
        # LayerNorm first: cosine text vectors are unit-norm, far too small for a fresh MLP.
        self.net = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, width), nn.GELU())
        self.out = nn.Linear(width, n_labels)

    def forward(self, text_vectors: torch.Tensor, texts: list[str]) -> torch.Tensor:
        return self.out(self.net(text_vectors.detach().float()))


class ValueEncoder(_Value):
    """``V(s)`` from a separate text encoder that reads the texts alone."""

    def __init__(self, backbone: nn.Module, tokenizer: Any, max_length: int, n_labels: int) -> None:
        super().__init__()
        self.backbone = backbone
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.out = nn.Linear(int(backbone.config.hidden_size), n_labels)  # T5 maps hidden_size to d_model

    def forward(self, text_vectors: torch.Tensor, texts: list[str]) -> torch.Tensor:
        device = self.out.weight.device
        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt")
        mask = batch["attention_mask"].to(device)
        states = self.backbone(input_ids=batch["input_ids"].to(device), attention_mask=mask).last_hidden_state
        weights = mask.unsqueeze(-1).to(states.dtype)
        pooled = (states * weights).sum(1) / weights.sum(1).clamp_min(1.0)
        return self.out(pooled.float())


def text_backbone(model: GLiClassModel) -> nn.Module:
    """The module that encodes texts: the text encoder, or the encoder half of an encoder-decoder."""
    variant = model.model
    if hasattr(variant, "encoder_model"):
        return variant.encoder_model
    return variant.encoder_decoder_model.get_encoder()


def build_value_model(
    kind: str, start: GLiClassModel, tokenizer: Any, max_length: int, width: int, n_labels: int
) -> nn.Module:
    """A fresh value model of ``kind``; ``start`` is the policy before fine-tuning (its backbone is copied)."""
    if kind == "head":
        return ValueHead(width, n_labels)
    backbone = copy.deepcopy(text_backbone(start)).train()
    backbone.requires_grad_(True)
    return ValueEncoder(backbone, tokenizer, max_length, n_labels)


def batch_mean_baseline(rewards: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Per label, the mean reward over the texts where it counts, as a ``(n, C)`` baseline."""
    weights = valid.to(rewards.dtype)
    mean = (rewards * weights).sum(0) / weights.sum(0).clamp_min(1.0)
    return mean.expand_as(rewards)
