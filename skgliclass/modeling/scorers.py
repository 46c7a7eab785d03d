"""Scorers: one logit per (text, label) pair from a text vector ``(B, D)`` and label vectors ``(B, C, D)``.

Module layouts (attribute names, ``nn.Sequential`` indices, widths) match the reference package so that
its checkpoints load unchanged.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from skgliclass.config import GLiClassConfig

__all__ = ["SCORERS", "Scorer", "build_scorer", "register_scorer"]

# The reference's mlp and hopfield scorers ignore the configured width and always use 256.
_REFERENCE_MLP_WIDTH = 256


class Scorer(nn.Module):
    """Base scorer: ``forward(text, labels, text_mask)`` returns logits ``(B, C)``.

    ``text`` is ``(B, D)``, or ``(B, L, D)`` token states when :attr:`uses_tokens` is true;
    ``labels`` is ``(B, C, D)``; ``text_mask`` is ``(B, L)`` and only read by token scorers.
    """

    uses_tokens = False
    has_weights = True

    def __init__(self, config: GLiClassConfig) -> None:
        super().__init__()
        self.hidden_size = config.projector_size

    def forward(self, text: torch.Tensor, labels: torch.Tensor, text_mask: torch.Tensor | None = None) -> torch.Tensor:
        raise NotImplementedError


SCORERS: dict[str, type[Scorer]] = {}


def register_scorer(name: str) -> Callable[[type[Scorer]], type[Scorer]]:
    """Class decorator adding a scorer to :data:`SCORERS` under ``name``."""

    def add(cls: type[Scorer]) -> type[Scorer]:
        if name in SCORERS:
            raise ValueError(f"scorer {name!r} is already registered by {SCORERS[name].__name__}")
        SCORERS[name] = cls
        return cls

    return add


def _mlp(sizes: list[int], act: type[nn.Module]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


@register_scorer("dot")
class DotScorer(Scorer):
    """Dot product ``t . c`` (cosine when the features are normalised); no weights."""

    has_weights = False

    def forward(self, text: torch.Tensor, labels: torch.Tensor, text_mask: torch.Tensor | None = None) -> torch.Tensor:
        return torch.einsum("bd,bcd->bc", text, labels)


@register_scorer("weighted-dot")
class WeightedDotScorer(Scorer):
    """``MLP([t1; c1; t2 * c2])`` where ``[t1, t2]`` and ``[c1, c2]`` are learned double-width projections."""

    def __init__(self, config: GLiClassConfig) -> None:
        super().__init__(config)
        d = self.hidden_size
        self.proj_text = nn.Linear(d, 2 * d)
        self.proj_label = nn.Linear(d, 2 * d)
        self.out_mlp = nn.Sequential(nn.Linear(3 * d, 4 * d), nn.Dropout(0.1), nn.ReLU(), nn.Linear(4 * d, 1))

    def forward(self, text: torch.Tensor, labels: torch.Tensor, text_mask: torch.Tensor | None = None) -> torch.Tensor:
        t1, t2 = self.proj_text(text).unsqueeze(1).chunk(2, dim=-1)  # each (B, 1, D)
        c1, c2 = self.proj_label(labels).chunk(2, dim=-1)  # each (B, C, D)
        t1 = t1.expand_as(c1)
        features = torch.cat([t1, c1, t2 * c2], dim=-1)  # (B, C, 3D)
        return self.out_mlp(features).squeeze(-1)


@register_scorer("mlp")
class MLPScorer(Scorer):
    """``MLP([t; c])`` with widths 2D -> 256 -> 128 -> 1 and ReLU."""

    def __init__(self, config: GLiClassConfig) -> None:
        super().__init__(config)
        w = _REFERENCE_MLP_WIDTH
        self.mlp = _mlp([2 * self.hidden_size, w, w // 2, 1], nn.ReLU)

    def forward(self, text: torch.Tensor, labels: torch.Tensor, text_mask: torch.Tensor | None = None) -> torch.Tensor:
        text = text.unsqueeze(1).expand_as(labels)  # (B, C, D)
        return self.mlp(torch.cat([text, labels], dim=-1)).squeeze(-1)


@register_scorer("hopfield")
class HopfieldScorer(Scorer):
    """One Hopfield update of the label vectors towards the text, then ``MLP(c)``.

    ``a = softmax_over_labels(beta * (W_q c) . (W_k t))``; ``c <- c + a * W_v t``.
    """

    beta = 4.0

    def __init__(self, config: GLiClassConfig) -> None:
        super().__init__(config)
        d, w = self.hidden_size, _REFERENCE_MLP_WIDTH
        self.q_proj = nn.Linear(d, d, bias=False)
        self.k_proj = nn.Linear(d, d, bias=False)
        self.v_proj = nn.Linear(d, d, bias=False)
        self.mlp = _mlp([d, w, w // 2, 1], nn.ReLU)

    def forward(self, text: torch.Tensor, labels: torch.Tensor, text_mask: torch.Tensor | None = None) -> torch.Tensor:
        text = text.unsqueeze(1)  # (B, 1, D)
        attn = torch.bmm(self.q_proj(labels), self.k_proj(text).transpose(1, 2))  # (B, C, 1)
        attn = torch.softmax(attn * self.beta, dim=1)  # over labels
        labels = labels + attn * self.v_proj(text)  # (B, C, D)
        return self.mlp(labels).squeeze(-1)


@register_scorer("cross-attn")
class CrossAttentionScorer(Scorer):
    """Each label attends over the text tokens; ``MLP([LN(W_o ctx); c])`` scores it."""

    uses_tokens = True

    def __init__(self, config: GLiClassConfig) -> None:
        super().__init__(config)
        d, heads, m = self.hidden_size, config.scorer_num_heads, config.scorer_mlp_hidden_size
        if d % heads:
            raise ValueError(f"scorer_num_heads={heads} must divide the scorer width {d}.")
        self.num_heads = heads
        self.attn_dropout = config.scorer_attn_dropout
        self.q_norm = nn.LayerNorm(d)
        self.kv_norm = nn.LayerNorm(d)
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, d)
        self.out = nn.Linear(d, d)
        self.norm = nn.LayerNorm(d)
        self.score_mlp = _mlp([2 * d, m, m // 2, 1], nn.GELU)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        return x.view(b, n, self.num_heads, d // self.num_heads).transpose(1, 2)  # (B, H, N, d/H)

    def forward(self, text: torch.Tensor, labels: torch.Tensor, text_mask: torch.Tensor | None = None) -> torch.Tensor:
        b, c, d = labels.shape
        q = self._heads(self.q(self.q_norm(labels)))
        k = self._heads(self.k(self.kv_norm(text)))
        v = self._heads(self.v(text))
        attn_mask = None if text_mask is None else text_mask.bool()[:, None, None, :]  # (B, 1, 1, L)
        dropout = self.attn_dropout if self.training else 0.0
        context = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=dropout)  # (B, H, C, d/H)
        context = self.norm(self.out(context.transpose(1, 2).reshape(b, c, d)))
        return self.score_mlp(torch.cat([context, labels], dim=-1)).squeeze(-1)


def build_scorer(name: str | Scorer, config: GLiClassConfig) -> Scorer:
    """Return a scorer module from a registered name, or the given module unchanged."""
    if isinstance(name, Scorer):
        return name
    if name not in SCORERS:
        raise ValueError(f"scorer={name!r} is not valid; choose one of {', '.join(map(repr, SCORERS))}.")
    return SCORERS[name](config)
