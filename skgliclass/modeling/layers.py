"""Shared layers: projectors and layer-wise attention re-weighting."""

from __future__ import annotations

import torch
from torch import nn
from transformers.activations import ACT2FN

__all__ = ["LayerReweighting", "Projector", "identity_init_"]


class Projector(nn.Module):
    """``linear_2(dropout(act(linear_1(x))))``: the reference's FeaturesProjector layout.

    Parameters
    ----------
    in_size, hidden_size, out_size : int
        Input, inner and output widths.
    act : str
        Activation name (``transformers`` ``ACT2FN``).
    dropout : float or None
        Dropout after the activation; ``None`` omits the layer (the bi-encoder label projector has none).
    """

    def __init__(self, in_size: int, hidden_size: int, out_size: int, act: str, dropout: float | None) -> None:
        super().__init__()
        self.linear_1 = nn.Linear(in_size, hidden_size)
        self.act = ACT2FN[act]
        self.dropout = nn.Dropout(dropout) if dropout is not None else nn.Identity()
        self.linear_2 = nn.Linear(hidden_size, out_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear_2(self.dropout(self.act(self.linear_1(x))))


@torch.no_grad()
def identity_init_(projector: Projector) -> bool:
    """Make a GELU projector an exact identity map, if its widths allow; return whether it did.

    With ``W1 = [I; -I]`` and ``W2 = [I, -I]``: ``gelu(x) - gelu(-x) = x (Phi(x) + Phi(-x)) = x``.
    A fresh head then keeps a pretrained encoder's geometry (zero-shot works before any training).
    """
    l1, l2 = projector.linear_1, projector.linear_2
    d = l1.in_features
    if l1.out_features != 2 * d or l2.out_features != d or not _is_exact_gelu(projector.act):
        return False
    eye = torch.eye(d, dtype=l1.weight.dtype)
    l1.weight.copy_(torch.cat([eye, -eye], dim=0))
    l2.weight.copy_(torch.cat([eye, -eye], dim=1))
    l1.bias.zero_()
    l2.bias.zero_()
    return True


def _is_exact_gelu(act: nn.Module) -> bool:
    probe = torch.linspace(-4, 4, 17)
    return torch.allclose(act(probe) - act(-probe), probe, atol=1e-6)


class LayerReweighting(nn.Module):
    """Squeeze-excitation over all hidden states (the paper's layer-wise attention, eqs. 3-6).

    ``z_k = mean_l(w . U_kl + b)`` over real tokens, ``s = sigmoid(W2 relu(W1 z))``,
    output ``W_o sum_k s_k U_k``. Built for every hidden state the backbone returns (layers + 1,
    the embeddings included), which is what makes the shapes fit; key names match the reference.

    Parameters
    ----------
    num_states : int
        Number of hidden states mixed (``num_hidden_layers + 1``).
    hidden_size : int
        Width of each hidden state.
    """

    def __init__(self, num_states: int, hidden_size: int) -> None:
        super().__init__()
        self.num_states = num_states
        self.squeeze = nn.Linear(hidden_size, 1)
        self.W1 = nn.Linear(num_states, max(num_states // 2, 1))
        self.W2 = nn.Linear(max(num_states // 2, 1), num_states)
        self.output_projection = nn.Linear(hidden_size, hidden_size)

    @torch.no_grad()
    def reset_parameters_(self) -> None:
        """Start as the mean of the hidden states: gates near 0.5, ``W_o = 2/K * I``."""
        for layer in (self.squeeze, self.W1, self.W2):
            nn.init.normal_(layer.weight, std=0.02)
            nn.init.zeros_(layer.bias)
        n = self.output_projection.in_features
        self.output_projection.weight.copy_(torch.eye(n) * (2.0 / self.num_states))
        self.output_projection.bias.zero_()

    def forward(self, hidden_states: tuple[torch.Tensor, ...], mask: torch.Tensor | None = None) -> torch.Tensor:
        if len(hidden_states) != self.num_states:
            raise ValueError(
                f"layer re-weighting was built for {self.num_states} hidden states, got {len(hidden_states)}."
            )
        states = torch.stack(hidden_states, dim=1)  # (B, K, L, D)
        z = self.squeeze(states).squeeze(-1)  # (B, K, L)
        if mask is not None:
            m = mask.to(z.dtype).unsqueeze(1)  # (B, 1, L)
            z = (z * m).sum(-1) / m.sum(-1).clamp_min(1.0)  # (B, K)
        else:
            z = z.mean(-1)
        gates = torch.sigmoid(self.W2(torch.relu(self.W1(z))))  # (B, K)
        mixed = (states * gates[:, :, None, None]).sum(dim=1)  # (B, L, D)
        return self.output_projection(mixed)
