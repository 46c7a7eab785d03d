"""Bi-encoder: texts and labels through separate encoders; label vectors can be computed once and reused."""

from __future__ import annotations

import torch
from torch import nn

from skgliclass.config import GLiClassConfig
from skgliclass.modeling.base import GLiClassOutput, VariantBase
from skgliclass.modeling.encoder import build_backbone, resize_vocab
from skgliclass.modeling.layers import Projector

__all__ = ["BiEncoder"]


class BiEncoder(VariantBase):
    """Text vector from ``encoder_model``, label vectors from ``label_encoder``; ``logits = scale * score``.

    Parameters
    ----------
    config : GLiClassConfig
    encoder, label_encoder : nn.Module
        Text and label backbones.
    """

    def __init__(self, config: GLiClassConfig, encoder: nn.Module, label_encoder: nn.Module) -> None:
        super().__init__(config)
        self.encoder_model = encoder
        self.label_encoder = label_encoder
        # The reference's label projector has no dropout layer.
        self.biencoder_projector = Projector(
            config.label_hidden_size,
            config.projector_size,
            config.encoder_hidden_size,
            config.projector_hidden_act,
            None,
        )

    @classmethod
    def from_config(cls, config: GLiClassConfig, pretrained: dict[str, nn.Module] | None = None) -> BiEncoder:
        """A model with the given pretrained backbones, else ones built from the config."""
        pretrained = pretrained or {}
        encoder = pretrained.get("encoder_model")
        encoder = build_backbone(config.encoder_config) if encoder is None else encoder
        label_encoder = pretrained.get("label_encoder")
        label_encoder = build_backbone(config.label_model_config or {}) if label_encoder is None else label_encoder
        return cls(config, resize_vocab(encoder, config.vocab_size), label_encoder)

    def encode_labels(self, label_ids: torch.Tensor, label_mask: torch.Tensor) -> torch.Tensor:
        """Label vectors ``(C, D)`` from tokenised labels ``(C, Lc)``; independent of the texts."""
        states = self.label_encoder(input_ids=label_ids, attention_mask=label_mask).last_hidden_state
        vectors = self.biencoder_projector(self.pooler(states, label_mask))  # (C, D)
        return self.normalize(self.classes_projector(vectors))

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, label_vectors: torch.Tensor
    ) -> GLiClassOutput:
        """Score texts ``(B, L)`` against label vectors ``(C, D)`` from :meth:`encode_labels`."""
        outputs = self.encoder_model(
            input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=self.wants_hidden_states
        )
        states = self.select_states(outputs.last_hidden_state, outputs.hidden_states, attention_mask)
        text = self.text_vector(states, attention_mask)  # (B, D)
        labels = label_vectors.unsqueeze(0).expand(text.shape[0], -1, -1)  # (B, C, D)
        logits = self.scorer(text, labels) * self.logit_scale
        class_mask = torch.ones(logits.shape, dtype=torch.long, device=logits.device)
        return GLiClassOutput(logits=logits, class_mask=class_mask, class_embeddings=labels, text_embeddings=text)
