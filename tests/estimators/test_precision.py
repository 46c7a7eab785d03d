"""precision on the CPU: an int8 copy for prediction (the fitted fp32 model stays as it is), bf16 autocast."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import torch

from skgliclass import GLiClassZeroShot
from skgliclass.inference import autocast_context, cpu_supports_bf16
from skgliclass.quantize import ROW_BLOCK, Int8Linear, int8_matmul_available, quantized_copy

TEXTS = ["the team won the cup", "the senate passed the bill", "a new phone chip", "rain in the city"]
LABELS = ["sport", "politics", "tech"]


@pytest.fixture(scope="module")
def fitted(reference_checkpoint):
    folder = str(reference_checkpoint(architecture="uni-encoder", backbone="bert"))
    return GLiClassZeroShot(model=folder, labels=LABELS, multi_label=True).fit()


def _kinds(model) -> set[str]:
    return {f"{type(m).__module__}.{type(m).__name__}" for m in model.modules() if type(m).__name__ == "Linear"}


def test_int8_predicts_close_to_fp32_and_leaves_the_model_alone(fitted):
    fp32 = fitted.set_params(precision="fp32").predict_proba(TEXTS)
    int8 = fitted.set_params(precision="int8").predict_proba(TEXTS)
    assert _kinds(fitted.model_) == {"torch.nn.modules.linear.Linear"}
    quantized = {type(m).__name__ for n, m in fitted._quantized.named_modules() if ".encoder_model." in f".{n}."}
    assert ("Int8Linear" if int8_matmul_available() else "Linear") in quantized
    # Two int8 digits per operand: within 2e-3 of fp32 where _int_mm runs (one digit moved these by ~0.05).
    tolerance = 2e-3 if int8_matmul_available() else 0.05
    assert not np.array_equal(int8, fp32) and np.abs(int8 - fp32).max() < tolerance
    np.testing.assert_array_equal(fitted.set_params(precision="fp32").predict_proba(TEXTS), fp32)


def test_int8_estimator_pickles_without_its_quantized_copy(fitted):
    fitted.set_params(precision="int8")
    expected = fitted.predict_proba(TEXTS)
    state = fitted.__getstate__()
    assert "_quantized" not in state
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.predict_proba(TEXTS), expected)
    fitted.set_params(precision="fp32")


def test_unknown_precision_is_named():
    with pytest.raises(ValueError, match="precision='int4'"):
        GLiClassZeroShot(labels=LABELS, precision="int4").fit()


@pytest.mark.skipif(not int8_matmul_available(), reason="torch._int_mm does not run on this CPU")
def test_int8_linear_matches_fp32_per_token():
    torch.manual_seed(0)
    layer = torch.nn.Linear(64, 32)
    # One row 100x larger than the rest: per-token scales keep the small rows accurate.
    x = torch.randn(2, 5, 64)
    x[0, 0] *= 100
    out = Int8Linear(layer)(x)
    expected = layer(x).detach()
    assert out.shape == expected.shape == (2, 5, 32)
    relative = (out - expected).norm(dim=-1) / expected.norm(dim=-1)
    assert relative.max() < 2e-4  # two digits: ~15 bits; one int8 digit alone gives ~1e-2
    no_bias = torch.nn.Linear(64, 32, bias=False)
    assert torch.allclose(Int8Linear(no_bias)(x[1]), no_bias(x[1]).detach(), atol=1e-3)


@pytest.mark.skipif(not int8_matmul_available(), reason="torch._int_mm does not run on this CPU")
@pytest.mark.parametrize("in_features", [384, 1536])  # int32 sums for short rows, fp32 sums for long ones
def test_int8_linear_blocks_of_rows_and_both_sum_paths(in_features):
    torch.manual_seed(1)
    layer = torch.nn.Linear(in_features, 48)
    rows = 2 * ROW_BLOCK * torch.get_num_threads() + 88  # three row blocks, the last one partial
    x = torch.randn(rows, in_features) * torch.logspace(-2, 2, rows)[:, None]
    out = Int8Linear(layer)(x)
    expected = layer(x).detach()
    relative = (out - expected).norm(dim=-1) / expected.norm(dim=-1)
    assert relative.max() < 2e-4
    assert Int8Linear(layer).int32_sum == (in_features == 384)


def test_quantized_copy_keeps_heads_in_fp32_and_leaves_the_model_alone(fitted):
    before = {k: v.clone() for k, v in fitted.model_.state_dict().items()}
    copy = quantized_copy(fitted.model_)
    head = [m for n, m in copy.named_modules() if n and not n.removeprefix("model.").startswith("encoder_model")]
    assert not any(isinstance(m, Int8Linear) for m in head)
    after = fitted.model_.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_bf16_autocast_on_the_cpu(fitted):
    assert autocast_context(torch.device("cpu"), "fp32").__class__.__name__ == "nullcontext"
    assert autocast_context(torch.device("cpu"), "fp16").__class__.__name__ == "nullcontext"
    assert isinstance(autocast_context(torch.device("cpu"), "bf16"), torch.autocast)
    auto = autocast_context(torch.device("cpu"), "auto")
    assert isinstance(auto, torch.autocast) == cpu_supports_bf16()
    fp32 = fitted.set_params(precision="fp32").predict_proba(TEXTS)
    bf16 = fitted.set_params(precision="bf16").predict_proba(TEXTS)
    fitted.set_params(precision="fp32")
    assert bf16.dtype == fp32.dtype and not np.array_equal(bf16, fp32)
    np.testing.assert_allclose(bf16, fp32, atol=0.05)


def test_int8_warns_on_a_cpu_without_int8_dot_products(fitted, monkeypatch):
    import skgliclass.quantize as quantize

    monkeypatch.setattr(quantize, "cpu_has_int8_dot", lambda: False)
    with pytest.warns(UserWarning, match="no int8 dot-product instructions"):
        quantized_copy(fitted.model_)
    monkeypatch.setattr(quantize, "cpu_has_int8_dot", lambda: None)  # unknown CPU: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quantized_copy(fitted.model_)
