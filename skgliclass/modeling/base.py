"""What every GLiClass variant shares: projectors, pooler, scorer, logit scale and label-vector extraction."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from skgliclass.config import GLiClassConfig
from skgliclass.modeling.layers import LayerReweighting, Projector
from skgliclass.modeling.poolers import build_pooler
from skgliclass.modeling.scorers import build_scorer

__all__ = ["GLiClassOutput", "VariantBase", "class_vectors", "text_window"]


@dataclass
class GLiClassOutput:
    """Result of a forward pass.

    Attributes
    ----------
    logits : Tensor of shape (B, C)
        One logit per (text, label).
    class_mask : Tensor of shape (B, C)
        1 where the label slot is real.
    class_embeddings : Tensor of shape (B, C, D) or None
        Label vectors as scored (for the contrastive loss).
    text_embeddings : Tensor or None
        Pooled, projected text vectors.
    """

    logits: torch.Tensor
    class_mask: torch.Tensor
    class_embeddings: torch.Tensor | None = None
    text_embeddings: torch.Tensor | None = None


class VariantBase(nn.Module):
    """Head parts shared by the variants (attribute names match the reference's state-dict keys)."""

    def __init__(self, config: GLiClassConfig) -> None:
        super().__init__()
        self.config = config
        h_enc, width = config.encoder_hidden_size, config.projector_size
        act, drop = config.projector_hidden_act, config.dropout
        self.text_projector = Projector(h_enc, width, h_enc, act, drop)
        self.classes_projector = Projector(h_enc, width, h_enc, act, drop)
        self.pooler = build_pooler(config.pooler, h_enc)
        self.scorer = build_scorer(config.scorer, config)
        self.dropout = nn.Dropout(config.dropout)
        self.logit_scale = nn.Parameter(torch.tensor(float(config.logit_scale_init_value)))
        if config.layer_reweighting:
            self.layer_wise_attention = LayerReweighting(config.num_hidden_layers + 1, h_enc)

    def select_states(
        self, last: torch.Tensor, hidden_states: tuple[torch.Tensor, ...] | None, mask: torch.Tensor
    ) -> torch.Tensor:
        """The token states the head reads: the last layer, a chosen layer, or the re-weighted mix of all."""
        if self.config.layer_reweighting:
            return self.layer_wise_attention(hidden_states, mask)
        if self.config.encoder_layer_id is not None:
            return hidden_states[self.config.encoder_layer_id]  # type: ignore[index]
        return last

    @property
    def wants_hidden_states(self) -> bool:
        """Whether the backbone must return every hidden state."""
        return self.config.layer_reweighting or self.config.encoder_layer_id is not None

    def text_vector(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Pool, project and (optionally) normalise text tokens ``(B, L, D)``."""
        pooled = self.pooler(tokens, mask)  # (B, D), or (B, L, D) for the pass pooler
        return self.normalize(self.dropout(self.text_projector(pooled)))

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """L2-normalise with the reference's ``x / (|x| + 1e-8)`` when ``normalize_features`` is on."""
        if not self.config.normalize_features:
            return x
        return x / (x.norm(p=2, dim=-1, keepdim=True) + 1e-8)


def class_vectors(
    states: torch.Tensor,
    input_ids: torch.Tensor,
    mask: torch.Tensor,
    num_labels: int,
    config: GLiClassConfig,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Label vectors read at the ``<<LABEL>>`` markers.

    Parameters
    ----------
    states : Tensor (B, L, D)
    input_ids, mask : Tensor (B, L)
    num_labels : int
        K, the number of label slots returned.
    config : GLiClassConfig

    Returns
    -------
    vectors : Tensor (B, K, D)
        Zero for slots beyond the markers present.
    class_mask : Tensor (B, K)
    """
    marker = input_ids == config.class_token_index  # (B, L)
    count = marker.long().cumsum(dim=-1)  # (B, L) running marker count
    k = torch.arange(num_labels, device=states.device).view(1, -1, 1)  # (1, K, 1)
    if config.class_token_pooling == "average":
        if config.extract_text_features:
            before_text = (input_ids == config.text_token_index).long().cumsum(-1) == 0
        else:
            before_text = torch.ones_like(marker)
        # The k-th span runs from the k-th marker to the next (the last one to the end of the row).
        span = (count.unsqueeze(1) == k + 1) & before_text.unsqueeze(1) & mask.bool().unsqueeze(1)  # (B, K, L)
        if not config.embed_class_token:
            span = span & ~marker.unsqueeze(1)
        weights = span.to(states.dtype)
        vectors = torch.einsum("bkl,bld->bkd", weights, states) / weights.sum(-1, keepdim=True).clamp_min(1.0)
    else:
        select = marker.unsqueeze(1) & (count.unsqueeze(1) - 1 == k)  # (B, K, L) one-hot at the k-th marker
        if not config.embed_class_token:
            select = torch.nn.functional.pad(select[:, :, :-1], (1, 0))  # the token after the marker
        vectors = torch.einsum("bkl,bld->bkd", select.to(states.dtype), states)
    present = marker.sum(-1, keepdim=True)  # (B, 1)
    class_mask = (torch.arange(num_labels, device=states.device).unsqueeze(0) < present).long()  # (B, K)
    return vectors, class_mask


def text_window(
    states: torch.Tensor, input_ids: torch.Tensor, mask: torch.Tensor, config: GLiClassConfig
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The text tokens the head reads: all tokens, or (``extract_text_features``) those from ``<<SEP>>`` on.

    Returns ``(tokens, pool_mask, attend_mask)``. The extracted window is shifted to position 0 and
    zero-filled; as in the reference, its zero-filled slots up to the row's own length count for pooling
    (``pool_mask``) but not for attention (``attend_mask``); batch padding never counts.
    """
    if not config.extract_text_features:
        return states, mask, mask
    batch, length = input_ids.shape
    start = (input_ids == config.text_token_index).int().argmax(dim=-1)  # (B,) first <<SEP>>, 0 if none
    target = torch.arange(length, device=states.device).unsqueeze(0)  # (1, L)
    row_length = mask.long().sum(-1, keepdim=True)  # (B, 1) real tokens of the row
    source = (start.unsqueeze(1) + target).clamp(max=length - 1)  # (B, L)
    rows = torch.arange(batch, device=states.device).unsqueeze(1)
    inside = (target < row_length - start.unsqueeze(1)).to(states.dtype)  # (B, L) window before zero fill
    window = states[rows, source] * inside.unsqueeze(-1)
    pool_mask = (target < row_length).long()  # (B, L) the row's length, zero-filled slots included
    return window, pool_mask, inside.long()
