"""Uni-encoder: labels (each behind ``<<LABEL>>``) and text in one sequence through one encoder."""

from __future__ import annotations

import torch
from torch import nn

from skgliclass.config import GLiClassConfig
from skgliclass.modeling.base import GLiClassOutput, VariantBase, class_vectors, text_window
from skgliclass.modeling.encoder import build_backbone, resize_vocab

__all__ = ["UniEncoder"]


class UniEncoder(VariantBase):
    """One pass for all labels: label vectors are read at the markers, the text vector is pooled.

    Parameters
    ----------
    config : GLiClassConfig
    encoder : nn.Module
        The backbone (``encoder_model`` in the state dict).
    """

    def __init__(self, config: GLiClassConfig, encoder: nn.Module) -> None:
        super().__init__(config)
        self.encoder_model = encoder

    @classmethod
    def from_config(cls, config: GLiClassConfig, pretrained: dict[str, nn.Module] | None = None) -> UniEncoder:
        """A model with the given pretrained backbone, else one built from ``config.encoder_config``."""
        encoder = (pretrained or {}).get("encoder_model")
        encoder = build_backbone(config.encoder_config) if encoder is None else encoder
        return cls(config, resize_vocab(encoder, config.vocab_size))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, num_labels: int) -> GLiClassOutput:
        """Score the ``num_labels`` labels written into each row of ``input_ids`` ``(B, L)``."""
        outputs = self.encoder_model(
            input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=self.wants_hidden_states
        )
        states = self.select_states(outputs.last_hidden_state, outputs.hidden_states, attention_mask)  # (B, L, D)
        labels, class_mask = class_vectors(states, input_ids, attention_mask, num_labels, self.config)
        tokens, pool_mask, attend_mask = text_window(states, input_ids, attention_mask, self.config)
        text = self.text_vector(tokens, pool_mask)  # (B, D), or (B, L, D) for cross-attn
        labels = self.normalize(self.classes_projector(labels))  # (B, K, D)
        logits = self.scorer(text, labels, attend_mask)  # (B, K)
        if self.config.normalize_features:
            logits = logits * self.logit_scale
        return GLiClassOutput(logits=logits, class_mask=class_mask, class_embeddings=labels, text_embeddings=text)
