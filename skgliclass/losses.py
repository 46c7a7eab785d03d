"""Training losses: focal loss over (text, label) pairs, softmax cross-entropy over a text's labels, and the
token-level contrastive loss between labels."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["IGNORE_INDEX", "contrastive_loss", "focal_loss", "softmax_loss"]

IGNORE_INDEX = -100


def focal_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    *,
    alpha: float | None = 0.5,
    gamma: float = 2.0,
    label_smoothing: float = 0.0,
    mask: torch.Tensor | None = None,
    ignore_index: float = IGNORE_INDEX,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Sigmoid focal loss, averaged over valid entries.

    Parameters
    ----------
    logits, targets : Tensor of shape (B, C)
        ``targets`` in [0, 1]; entries equal to ``ignore_index`` (unknown or padding) do not count.
    alpha : float or None, default=0.5
        Weight of positives (negatives get ``1 - alpha``); ``None`` or negative turns it off.
    gamma : float, default=2.0
        Focusing exponent on ``(1 - p_t)``; 0 gives plain binary cross-entropy.
    label_smoothing : float, default=0.0
        Targets become ``y (1 - eps) + eps / 2``.
    mask : Tensor of shape (B, C) or None
        1 for real label slots; padded slots never count.
    weights : Tensor of shape (B, C) or None
        Each valid entry's weight (1 for all when None).

    Returns
    -------
    Tensor
        A scalar: the weighted mean of the per-entry losses over the valid entries.
    """
    valid = targets != ignore_index
    if mask is not None:
        valid = valid & mask.bool()
    y = torch.where(valid, targets, torch.zeros_like(targets)).to(logits.dtype)
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + 0.5 * label_smoothing
    loss = F.binary_cross_entropy_with_logits(logits, y, reduction="none")  # (B, C)
    if gamma > 0:
        p = torch.sigmoid(logits)
        p_t = p * y + (1 - p) * (1 - y)
        loss = loss * (1 - p_t).pow(gamma)
    if alpha is not None and alpha >= 0:
        loss = loss * (alpha * y + (1 - alpha) * (1 - y))
    valid = valid.to(loss.dtype)
    if weights is not None:
        valid = valid * weights.to(loss.dtype)
    return (loss * valid).sum() / valid.sum().clamp_min(1.0)


def softmax_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    *,
    gamma: float = 0.0,
    label_smoothing: float = 0.0,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Cross-entropy of each text's softmax over its labels (focal when ``gamma > 0``), averaged over texts.

    Parameters
    ----------
    logits, targets : Tensor of shape (B, C)
        ``targets`` one-hot: each text has exactly one label.
    gamma : float, default=0.0
        Focusing exponent on ``(1 - p_true)``; 0 gives plain cross-entropy.
    label_smoothing : float, default=0.0
        Share of the target spread over all real labels (as in ``torch.nn.functional.cross_entropy``).
    mask : Tensor of shape (B, C) or None
        1 for real label slots; padded slots get no probability.

    Returns
    -------
    Tensor
        A scalar.
    """
    if mask is not None:
        logits = logits.masked_fill(~mask.bool(), torch.finfo(logits.dtype).min)
    log_p = logits.log_softmax(dim=-1)
    log_p_true = log_p.gather(-1, targets.argmax(dim=-1, keepdim=True)).squeeze(-1)  # (B,)
    nll = -log_p_true
    if label_smoothing:
        real = torch.ones_like(log_p, dtype=torch.bool) if mask is None else mask.bool()
        spread = -(log_p.masked_fill(~real, 0.0)).sum(-1) / real.sum(-1).clamp_min(1)
        nll = (1 - label_smoothing) * nll + label_smoothing * spread
    if gamma > 0:
        nll = nll * (1 - log_p_true.exp()).pow(gamma)
    return nll.mean()


def contrastive_loss(label_vectors: torch.Tensor, mask: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Push one text's label vectors apart: cross-entropy of each label's cosine row against itself.

    Parameters
    ----------
    label_vectors : Tensor of shape (B, C, D)
    mask : Tensor of shape (B, C)
        1 for real labels; padded labels are neither rows nor candidates.
    temperature : float, default=1.0
        Divides the cosine similarities (the reference uses none, i.e. 1).

    Returns
    -------
    Tensor
        A scalar averaged over real labels.
    """
    b, c, _ = label_vectors.shape
    unit = F.normalize(label_vectors, p=2, dim=-1)
    sim = torch.bmm(unit, unit.transpose(1, 2)) / temperature  # (B, C, C)
    real = mask.bool()
    sim = sim.masked_fill(~real.unsqueeze(1), torch.finfo(sim.dtype).min)  # padded columns never win
    target = torch.arange(c, device=sim.device).expand(b, c)
    loss = F.cross_entropy(sim.reshape(b * c, c), target.reshape(-1), reduction="none").view(b, c)
    weights = real.to(loss.dtype)
    return (loss * weights).sum() / weights.sum().clamp_min(1.0)
