"""Fused bi-encoder: label-encoder vectors are written into the text encoder's input at the markers."""

from __future__ import annotations

import torch

from skgliclass.modeling.architectures.bi_encoder import BiEncoder
from skgliclass.modeling.base import GLiClassOutput

__all__ = ["BiEncoderFused"]


class BiEncoderFused(BiEncoder):
    """Label vectors from the label encoder replace the ``<<LABEL>>`` input embeddings of the text pass;
    the label vectors scored are the text encoder's outputs at those positions."""

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, label_vectors: torch.Tensor
    ) -> GLiClassOutput:
        """Score rows ``(B, L)`` holding one marker per label against label vectors ``(C, D)``."""
        marker = input_ids == self.config.class_token_index  # (B, L)
        counts = marker.sum(-1)
        num_labels = label_vectors.shape[0]
        if not torch.compiler.is_exporting() and bool((counts != num_labels).any()):  # a graph holds no checks
            raise ValueError(f"every row must hold {num_labels} label markers, found {counts.tolist()}.")
        embeds = self.encoder_model.get_input_embeddings()(input_ids)  # (B, L, D)
        # Dense, not nonzero(): the k-th marker of a row gets label k, with shapes that do not depend on the ids.
        slot = (marker.long().cumsum(-1) - 1).clamp(0, num_labels - 1)  # (B, L)
        embeds = torch.where(marker.unsqueeze(-1), label_vectors[slot].to(embeds.dtype), embeds)
        outputs = self.encoder_model(
            inputs_embeds=embeds, attention_mask=attention_mask, output_hidden_states=self.wants_hidden_states
        )
        states = self.select_states(outputs.last_hidden_state, outputs.hidden_states, attention_mask)  # (B, L, D)
        k = torch.arange(num_labels, device=input_ids.device).view(1, -1, 1)
        select = (marker.unsqueeze(1) & (slot.unsqueeze(1) == k)).to(states.dtype)  # (B, C, L) one-hot
        labels = torch.einsum("bcl,bld->bcd", select, states)  # (B, C, D)
        text = self.text_vector(states, attention_mask)
        logits = self.scorer(text, labels) * self.logit_scale
        class_mask = torch.ones(logits.shape, dtype=torch.long, device=logits.device)
        return GLiClassOutput(logits=logits, class_mask=class_mask, class_embeddings=labels, text_embeddings=text)
