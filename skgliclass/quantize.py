"""int8 prediction on the CPU: the backbones' Linear layers as int8 matrix products.

Each operand is written as two int8 "digits": its codes at a step, and the codes of what rounding
left over, at 1/254 of that step. Activations get one step per token (an outlier token does not
coarsen the others), weights one per output channel. The
product keeps the three terms that matter (high x high, high x low, low x high), as exact as
~15-bit operands: one int8 digit on a cosine-scored model moves probabilities by up to 0.1, two
digits by under 0.001. The terms run in ``torch._int_mm`` (int8 x int8 -> int32, VNNI where the
CPU has it), two calls per block of rows, and are rescaled in fp32.
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

#: Rows per block of the product and per thread: a block's digits and products stay in cache.
ROW_BLOCK = 256
#: The low digit's step is the high digit's step over this (rounding leaves at most half a step).
LOW_DIGIT = 254
#: Largest int32 a sum of int8 x int8 terms may reach.
INT32_MAX = 2**31 - 1


def _two_digits(values: torch.Tensor, step: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Integer-valued float codes ``high``, ``low`` in [-127, 127] with ``values ~= step * (high + low / 254)``."""
    steps = values / step
    high = steps.round()
    low = steps.sub_(high).mul_(LOW_DIGIT).round_()  # |steps - high| <= 1/2, so |low| <= 127
    return high, low


class Int8Linear(nn.Module):
    """A Linear layer computed in int8, each operand as two int8 digits (per-token activations).

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
    >>> bool((Int8Linear(layer)(x) - layer(x)).abs().max() < 1e-3)
    True
    """

    def __init__(self, linear: nn.Linear) -> None:
        super().__init__()
        weight = linear.weight.detach().float().t()  # (in, out): the layout _int_mm reads
        step = weight.abs().amax(0).clamp(min=1e-8) / 127  # per output channel
        high, low = _two_digits(weight, step)
        self.register_buffer("weight_t", high.to(torch.int8).contiguous())
        # Stacked under the activations' [high | low]: one call gives x_high @ w_low + x_low @ w_high.
        self.register_buffer("cross_t", torch.cat([low, high]).to(torch.int8).contiguous())
        self.register_buffer("step", step / LOW_DIGIT)  # per output channel, in low-digit units
        bias = torch.zeros(linear.out_features) if linear.bias is None else linear.bias.detach().float()
        self.register_buffer("bias", bias.clone())
        self.in_features, self.out_features = linear.in_features, linear.out_features
        # 254 * high x high + the cross terms fit in int32 for short rows; longer ones add in fp32.
        self.int32_sum = (LOW_DIGIT + 2) * 127 * 127 * self.in_features <= INT32_MAX

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x @ W.T + b`` with ``x`` written as two int8 digits per row; fp32 out."""
        shape = x.shape
        rows = x.reshape(-1, self.in_features).float()
        out = torch.empty(rows.shape[0], self.out_features)
        size = ROW_BLOCK * torch.get_num_threads()
        digits = torch.empty(min(rows.shape[0], size), 2 * self.in_features, dtype=torch.int8)
        for start in range(0, rows.shape[0], size):
            block = rows[start : start + size]
            codes = digits[: block.shape[0]]
            # amax and amin separately: one pass each, faster than abs().amax() or aminmax on the CPU.
            row_step = torch.maximum(block.amax(1, keepdim=True), block.amin(1, keepdim=True).neg_())
            row_step = row_step.clamp_(min=1e-8).div_(127)
            high, low = _two_digits(block, row_step)
            codes[:, : self.in_features].copy_(high)
            codes[:, self.in_features :].copy_(low)
            product = torch._int_mm(codes, self.cross_t)
            main = torch._int_mm(codes[:, : self.in_features], self.weight_t)
            if self.int32_sum:
                product = product.add_(main, alpha=LOW_DIGIT).float()
            else:
                product = product.float().add_(main, alpha=LOW_DIGIT)
            torch.addcmul(self.bias, product.mul_(row_step), self.step, out=out[start : start + size])
        return out.reshape(*shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"


@functools.cache
def int8_matmul_available() -> bool:
    """Whether ``torch._int_mm`` runs on the CPU in this torch build."""
    try:
        torch._int_mm(torch.zeros(17, 8, dtype=torch.int8), torch.zeros(8, 8, dtype=torch.int8))
    except (AttributeError, RuntimeError, NotImplementedError):
        return False
    return True


#: CPU flags of int8 dot-product instructions; without them the three int8 products cost more than fp32.
INT8_DOT_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8", "asimddp")


@functools.cache
def cpu_has_int8_dot() -> bool | None:
    """Whether the CPU has int8 dot-product instructions (VNNI, AMX, Arm dot product); None if unknown."""
    try:
        with open("/proc/cpuinfo") as info:
            flags = {word for line in info if line.startswith(("flags", "Features")) for word in line.split()}
    except OSError:
        return None
    return any(flag in flags for flag in INT8_DOT_FLAGS) if flags else None


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
    if cpu_has_int8_dot() is False:
        warnings.warn(
            "precision='int8': this CPU has no int8 dot-product instructions (VNNI), so int8 products are "
            "slower than fp32 here; use precision='fp32' (or 'bf16' on CPUs with native bf16).",
            UserWarning,
            stacklevel=3,
        )
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
