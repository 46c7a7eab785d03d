"""Encoder-decoder: text through the encoder, the label prompt through a bidirectional decoder."""

from __future__ import annotations

import torch
from torch import nn

from skgliclass.config import GLiClassConfig
from skgliclass.modeling.base import GLiClassOutput, VariantBase, class_vectors
from skgliclass.modeling.encoder import build_backbone, resize_vocab

__all__ = ["EncoderDecoder"]


class EncoderDecoder(VariantBase):
    """Label vectors are the decoder states at the markers; the decoder cross-attends to the text.

    Parameters
    ----------
    config : GLiClassConfig
    model : nn.Module
        A ``transformers`` encoder-decoder (T5) without LM head (``encoder_decoder_model``).
    """

    def __init__(self, config: GLiClassConfig, model: nn.Module) -> None:
        super().__init__(config)
        self.encoder_decoder_model = model

    @classmethod
    def from_config(cls, config: GLiClassConfig, pretrained: dict[str, nn.Module] | None = None) -> EncoderDecoder:
        """A model with the given pretrained T5, else one built from ``config.encoder_config``."""
        backbone = (pretrained or {}).get("encoder_decoder_model")
        if backbone is None:
            backbone = build_backbone(config.encoder_config, encoder_only=False)
        return cls(config, resize_vocab(backbone, config.vocab_size))

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        decoder_input_ids: torch.Tensor,
        decoder_attention_mask: torch.Tensor,
        num_labels: int,
    ) -> GLiClassOutput:
        """Score texts ``(B, L)`` against the label prompt ``(B, Ld)`` (the decoder input, not shifted)."""
        dtype = next(self.encoder_decoder_model.parameters()).dtype
        # A 4-D additive mask replaces the decoder's causal mask, so every label sees every other.
        pad = (1.0 - decoder_attention_mask.to(dtype))[:, None, None, :] * torch.finfo(dtype).min
        length = decoder_input_ids.shape[1]
        outputs = self.encoder_decoder_model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            decoder_input_ids=decoder_input_ids,
            decoder_attention_mask=pad.expand(-1, 1, length, length),
            output_hidden_states=self.wants_hidden_states,
        )
        decoder_states = outputs.last_hidden_state  # (B, Ld, D)
        labels, class_mask = class_vectors(
            decoder_states, decoder_input_ids, decoder_attention_mask, num_labels, self.config
        )
        text_states = self.select_states(
            outputs.encoder_last_hidden_state, outputs.encoder_hidden_states, attention_mask
        )
        text = self.text_vector(text_states, attention_mask)  # (B, D)
        labels = self.normalize(self.classes_projector(labels))
        logits = self.scorer(text, labels)
        if self.config.normalize_features:
            logits = logits * self.logit_scale
        return GLiClassOutput(logits=logits, class_mask=class_mask, class_embeddings=labels, text_embeddings=text)
