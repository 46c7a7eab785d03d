"""int8 prediction on the CPU: the backbones' Linear layers as int8 matrix products.

Weights are quantized once, per output channel; activations per token (one scale per row), so an
outlier token or a long padded batch does not coarsen the others. Products run in
``torch._int_mm`` (int8 x int8 -> int32, VNNI where the CPU has it) and are rescaled in fp32.
Where that kernel is missing, torch's dynamic quantization (activations per batch) is used instead.
"""

from __future__ import annotations

import copy
import functools
import warnings

import torch
from torch import nn

from skgliclass.modeling.model import BACKBONE_PREFIXES, GLiClassModel

__all__ = ["Int8Linear", "quantized_copy"]


class Int8Linear(nn.Module):
    """A Linear layer computed in int8: per-channel weights, per-token activations.

    Parameters
    ----------
    linear : torch.nn.Linear
        The fp32 layer to quantize; it is not changed.

    Examples
    --------
    >>> import torch
    >>> from skgliclass.quantize import Int8Linear
    >>> layer = torch.nn.Linear(8, 4)
    >>> x = torch.randn(3, 8)
    >>> bool((Int8Linear(layer)(x) - layer(x)).abs().max() < 0.05)
    True
    """

    def __init__(self, linear: nn.Linear) -> None:
        super().__init__()
        weight = linear.weight.detach().float()
        scale = weight.abs().amax(1).clamp(min=1e-8) / 127
        codes = torch.round(weight / scale[:, None]).clamp(-127, 127).to(torch.int8)
        self.register_buffer("weight_t", codes.t().contiguous())  # (in, out): the layout _int_mm reads
        self.register_buffer("scale", scale)
        self.register_buffer("bias", None if linear.bias is None else linear.bias.detach().float().clone())
        self.in_features, self.out_features = linear.in_features, linear.out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x @ W.T + b`` with ``x`` rounded to int8 per row; fp32 out."""
        shape = x.shape
        rows = x.reshape(-1, shape[-1]).float()
        # amax and amin separately: one pass each, faster than abs().amax() or aminmax on the CPU.
        row_scale = torch.maximum(rows.amax(1, keepdim=True), rows.amin(1, keepdim=True).neg_())
        row_scale = row_scale.clamp_(min=1e-8).div_(127)
        codes = torch.div(rows, row_scale).round_().to(torch.int8)
        out = torch._int_mm(codes, self.weight_t).float().mul_(row_scale).mul_(self.scale)
        if self.bias is not None:
            out.add_(self.bias)
        return out.reshape(*shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


@functools.cache
def int8_matmul_available() -> bool:
    """Whether ``torch._int_mm`` runs on the CPU in this torch build."""
    try:
        torch._int_mm(torch.zeros(17, 8, dtype=torch.int8), torch.zeros(8, 8, dtype=torch.int8))
    except (AttributeError, RuntimeError, NotImplementedError):
        return False
    return True


def _is_backbone(name: str) -> bool:
    # The heads are small and run on a few rows per text; the backbones hold nearly all the work.
    return name.removeprefix("model.").startswith(BACKBONE_PREFIXES)


def quantized_copy(model: GLiClassModel) -> GLiClassModel:
    """A CPU copy of ``model`` whose backbone Linear layers run in int8; ``model`` is not changed.

    Parameters
    ----------
    model : GLiClassModel
        The fp32 model.

    Returns
    -------
    GLiClassModel
        The copy, in eval mode on the CPU.

    Examples
    --------
    >>> from skgliclass import GLiClassZeroShot
    >>> from skgliclass.quantize import Int8Linear, quantized_copy
    >>> clf = GLiClassZeroShot(labels=["sport", "politics"]).fit()
    >>> int8 = quantized_copy(clf.model_)
    >>> any(isinstance(m, Int8Linear) for m in int8.modules())
    True
    """
    quantized = copy.deepcopy(model).cpu().eval()
    names = [name for name, module in quantized.named_modules() if isinstance(module, nn.Linear) and _is_backbone(name)]
    if not int8_matmul_available():
        qconfig = torch.ao.quantization.per_channel_dynamic_qconfig
        with warnings.catch_warnings():  # torch points eager quantization users at torchao; it still works
            warnings.simplefilter("ignore")
            return torch.ao.quantization.quantize_dynamic(quantized, {name: qconfig for name in names})
    for name in names:
        parent, _, attribute = name.rpartition(".")
        owner = quantized.get_submodule(parent)
        setattr(owner, attribute, Int8Linear(getattr(owner, attribute)))
    return quantized
