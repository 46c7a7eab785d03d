"""Poolers: reduce token states ``(B, L, D)`` to one vector per row ``(B, D)``, never counting padding."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

__all__ = ["POOLERS", "AttentionPooler", "Pooler", "build_pooler", "register_pooler"]


class Pooler(nn.Module):
    """Base pooler: ``forward(x, mask)`` with ``x`` ``(B, L, D)`` and ``mask`` ``(B, L)`` (1 = real token)."""

    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.hidden_size = hidden_size

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        raise NotImplementedError


POOLERS: dict[str, type[Pooler]] = {}


def register_pooler(name: str) -> Callable[[type[Pooler]], type[Pooler]]:
    """Class decorator adding a pooler to :data:`POOLERS` under ``name``."""

    def add(cls: type[Pooler]) -> type[Pooler]:
        if name in POOLERS:
            raise ValueError(f"pooler {name!r} is already registered by {POOLERS[name].__name__}")
        POOLERS[name] = cls
        return cls

    return add


def _mask(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    if mask is None:
        return torch.ones(x.shape[:2], dtype=x.dtype, device=x.device)
    return mask.to(x.dtype)


def _masked_mean(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    m = _mask(x, mask).unsqueeze(-1)  # (B, L, 1)
    return (x * m).sum(1) / m.sum(1).clamp_min(1.0)


@register_pooler("first")
class FirstPooler(Pooler):
    """State of the first real token (``[CLS]`` for BERT-like models)."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        index = _mask(x, mask).argmax(dim=1)  # (B,) first position holding a 1
        return x[torch.arange(x.shape[0], device=x.device), index]


@register_pooler("last")
class LastPooler(Pooler):
    """State of the last real token."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        positions = torch.arange(x.shape[1], device=x.device).unsqueeze(0)  # (1, L)
        index = (positions * _mask(x, mask).long()).argmax(dim=1)  # (B,)
        return x[torch.arange(x.shape[0], device=x.device), index]


@register_pooler("mean")
class MeanPooler(Pooler):
    """Mean over real tokens."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return _masked_mean(x, mask)


@register_pooler("max")
class MaxPooler(Pooler):
    """Element-wise maximum over real tokens."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        pad = _mask(x, mask).unsqueeze(-1) == 0  # (B, L, 1)
        return x.masked_fill(pad, torch.finfo(x.dtype).min).amax(dim=1)


@register_pooler("sum")
class SumPooler(Pooler):
    """Sum over real tokens."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return (x * _mask(x, mask).unsqueeze(-1)).sum(dim=1)


@register_pooler("rms")
class RMSPooler(Pooler):
    """Root mean square over real tokens."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        # A feature that is 0 on every token has an infinite sqrt gradient; the floor keeps it finite.
        return _masked_mean(x.pow(2), mask).clamp_min(1e-12).sqrt()


@register_pooler("abs-max")
class AbsMaxPooler(Pooler):
    """Maximum absolute value over real tokens."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return (x.abs() * _mask(x, mask).unsqueeze(-1)).amax(dim=1)


@register_pooler("abs-mean")
class AbsMeanPooler(Pooler):
    """Mean absolute value over real tokens."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return _masked_mean(x.abs(), mask)


@register_pooler("attention")
class AttentionPooler(Pooler):
    """Learned attention-weighted mean: ``softmax_l(w . x_l + b)`` over real tokens."""

    def __init__(self, hidden_size: int) -> None:
        super().__init__(hidden_size)
        self.score = nn.Linear(hidden_size, 1)
        self.reset_parameters_()

    @torch.no_grad()
    def reset_parameters_(self) -> None:
        """Zero weights: the pooler starts as a plain mean, so a fresh head keeps the backbone's geometry."""
        nn.init.zeros_(self.score.weight)
        nn.init.zeros_(self.score.bias)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        logits = self.score(x).squeeze(-1)  # (B, L)
        logits = logits.masked_fill(_mask(x, mask) == 0, torch.finfo(logits.dtype).min)
        weights = torch.softmax(logits, dim=-1).unsqueeze(-1)  # (B, L, 1)
        return (weights * x).sum(dim=1)


@register_pooler("pass")
class PassPooler(Pooler):
    """No pooling: the token states go on unchanged (for the cross-attn scorer)."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return x


def build_pooler(name: str | Pooler, hidden_size: int) -> Pooler:
    """Return a pooler module from a registered name, or the given module unchanged."""
    if isinstance(name, Pooler):
        return name
    if name not in POOLERS:
        raise ValueError(f"pooler={name!r} is not valid; choose one of {', '.join(map(repr, POOLERS))}.")
    return POOLERS[name](hidden_size)
