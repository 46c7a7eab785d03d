"""Tests for ``skgliclass.modeling.poolers``: mask-aware reductions of token states ``(B, L, D)``."""

from __future__ import annotations

import pytest
import torch

from skgliclass.modeling.poolers import POOLERS, AttentionPooler, Pooler, build_pooler, register_pooler

B, L, D = 3, 7, 5
LENGTHS = (7, 4, 2)  # right padding, a different real length per row
ALL_POOLERS = ("first", "last", "mean", "max", "sum", "rms", "abs-max", "abs-mean", "attention", "pass")
REDUCING_POOLERS = tuple(name for name in ALL_POOLERS if name != "pass")
# our name -> the reference's name in gliclass.poolings.POOLING2OBJECT
REFERENCE_NAMES = {
    "first": "first",
    "last": "last",
    "mean": "avg",
    "max": "max",
    "sum": "sum",
    "rms": "rms",
    "abs-max": "abs_max",
    "abs-mean": "abs_avg",
}


def _right_padding_mask(lengths=LENGTHS, length=L) -> torch.Tensor:
    return (torch.arange(length).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)).long()


def _pooler(name: str) -> Pooler:
    pooler = build_pooler(name, D)
    if name == "attention":
        # non-trivial scores, so the check covers the learned weighting and not only the initial mean
        with torch.no_grad():
            pooler.score.weight.copy_(torch.randn(1, D))
            pooler.score.bias.fill_(0.3)
    return pooler.eval()


def test_registry_holds_every_pooler():
    assert set(POOLERS) == set(ALL_POOLERS)
    for name in ALL_POOLERS:
        assert issubclass(POOLERS[name], Pooler)


@pytest.mark.parametrize("name", ALL_POOLERS)
def test_build_pooler_returns_registered_class(name):
    pooler = build_pooler(name, D)
    assert type(pooler) is POOLERS[name]
    assert pooler.hidden_size == D


def test_build_pooler_passes_a_module_through():
    module = AttentionPooler(D)
    assert build_pooler(module, D) is module


def test_build_pooler_rejects_unknown_name_listing_choices():
    with pytest.raises(ValueError) as info:
        build_pooler("median", D)
    message = str(info.value)
    assert "median" in message
    for name in ALL_POOLERS:
        assert repr(name) in message


def test_register_pooler_refuses_duplicate_name():
    before = dict(POOLERS)

    with pytest.raises(ValueError, match="mean"):

        @register_pooler("mean")
        class _Duplicate(Pooler):  # pragma: no cover - never registered
            pass

    assert POOLERS == before


@pytest.mark.parametrize("junk", [1e4, -1e4])
@pytest.mark.parametrize("name", REDUCING_POOLERS)
def test_padding_is_ignored(name, junk):
    torch.manual_seed(0)
    pooler = _pooler(name)
    x = torch.randn(B, L, D)
    mask = _right_padding_mask()
    padded = x.masked_fill(mask.unsqueeze(-1) == 0, junk)
    with torch.no_grad():
        pooled = pooler(padded, mask)
        assert pooled.shape == (B, D)
        for row, n in enumerate(LENGTHS):
            alone = pooler(x[row : row + 1, :n], torch.ones(1, n, dtype=torch.long))
            torch.testing.assert_close(pooled[row], alone[0], atol=1e-6, rtol=0)


@pytest.mark.parametrize("name", REDUCING_POOLERS)
def test_padding_is_ignored_with_bool_and_float_masks(name):
    torch.manual_seed(1)
    pooler = _pooler(name)
    x = torch.randn(B, L, D)
    mask = _right_padding_mask()
    padded = x.masked_fill(mask.unsqueeze(-1) == 0, 1e4)
    with torch.no_grad():
        expected = pooler(padded, mask)
        torch.testing.assert_close(pooler(padded, mask.bool()), expected, atol=1e-6, rtol=0)
        torch.testing.assert_close(pooler(padded, mask.float()), expected, atol=1e-6, rtol=0)


@pytest.mark.parametrize("name", REDUCING_POOLERS)
def test_no_mask_equals_all_ones_mask(name):
    torch.manual_seed(2)
    pooler = _pooler(name)
    x = torch.randn(B, L, D)
    with torch.no_grad():
        torch.testing.assert_close(pooler(x), pooler(x, torch.ones(B, L)), atol=1e-6, rtol=0)


def test_first_and_last_pick_the_real_tokens():
    torch.manual_seed(3)
    x = torch.randn(B, L, D)
    mask = _right_padding_mask()
    first = build_pooler("first", D)(x, mask)
    last = build_pooler("last", D)(x, mask)
    for row, n in enumerate(LENGTHS):
        torch.testing.assert_close(first[row], x[row, 0], atol=0, rtol=0)
        torch.testing.assert_close(last[row], x[row, n - 1], atol=0, rtol=0)


def test_first_pooler_skips_left_padding():
    torch.manual_seed(4)
    x = torch.randn(2, 5, D)
    mask = torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]])
    out = build_pooler("first", D)(x, mask)
    torch.testing.assert_close(out[0], x[0, 2], atol=0, rtol=0)
    torch.testing.assert_close(out[1], x[1, 0], atol=0, rtol=0)


HAND_FORMULAS = {
    "first": lambda x: x[:, 0],
    "last": lambda x: x[:, -1],
    "mean": lambda x: x.mean(1),
    "max": lambda x: x.amax(1),
    "sum": lambda x: x.sum(1),
    "rms": lambda x: x.pow(2).mean(1).sqrt(),
    "abs-max": lambda x: x.abs().amax(1),
    "abs-mean": lambda x: x.abs().mean(1),
}


@pytest.mark.parametrize("name", sorted(HAND_FORMULAS))
def test_values_match_hand_formulas(name):
    torch.manual_seed(5)
    x = torch.randn(B, L, D)
    out = build_pooler(name, D)(x, torch.ones(B, L, dtype=torch.long))
    torch.testing.assert_close(out, HAND_FORMULAS[name](x), atol=1e-6, rtol=0)


def test_hand_values_on_a_tiny_example():
    x = torch.tensor([[[1.0, -4.0], [3.0, 2.0], [100.0, 100.0]]])  # third token is padding
    mask = torch.tensor([[1, 1, 0]])
    expected = {
        "first": [1.0, -4.0],
        "last": [3.0, 2.0],
        "mean": [2.0, -1.0],
        "max": [3.0, 2.0],
        "sum": [4.0, -2.0],
        "rms": [5.0**0.5, 10.0**0.5],
        "abs-max": [3.0, 4.0],
        "abs-mean": [2.0, 3.0],
        "attention": [2.0, -1.0],  # zero-initialised scores: a plain mean
    }
    for name, values in expected.items():
        out = build_pooler(name, 2)(x, mask)
        torch.testing.assert_close(out, torch.tensor([values]), atol=1e-6, rtol=0, msg=name)


def test_max_pooler_with_all_negative_values():
    x = -torch.arange(1.0, 1.0 + L * D).view(1, L, D) - 10.0
    mask = torch.zeros(1, L, dtype=torch.long)
    mask[0, 3:5] = 1
    out = build_pooler("max", D)(x, mask)
    torch.testing.assert_close(out[0], x[0, 3], atol=0, rtol=0)


@pytest.mark.parametrize("name", sorted(REFERENCE_NAMES))
def test_matches_reference_pooler_without_padding(name):
    poolings = pytest.importorskip("gliclass.poolings")
    torch.manual_seed(6)
    x = torch.randn(B, L, D)
    reference = poolings.POOLING2OBJECT[REFERENCE_NAMES[name]]()
    ours = build_pooler(name, D)
    torch.testing.assert_close(ours(x, torch.ones(B, L)), reference(x), atol=1e-6, rtol=0)
    torch.testing.assert_close(ours(x), reference(x), atol=1e-6, rtol=0)


def test_pass_pooler_returns_the_tokens_unchanged():
    torch.manual_seed(7)
    x = torch.randn(B, L, D)
    out = build_pooler("pass", D)(x, _right_padding_mask())
    assert out.shape == (B, L, D)
    assert torch.equal(out, x)


def test_parameter_free_poolers_have_no_parameters():
    for name in ALL_POOLERS:
        n = sum(p.numel() for p in build_pooler(name, D).parameters())
        assert (n > 0) == (name == "attention"), name


def test_attention_pooler_starts_as_masked_mean():
    torch.manual_seed(8)
    pooler = AttentionPooler(D)
    assert torch.count_nonzero(pooler.score.weight) == 0
    assert torch.count_nonzero(pooler.score.bias) == 0
    x = torch.randn(B, L, D)
    mask = _right_padding_mask()
    out = pooler(x.masked_fill(mask.unsqueeze(-1) == 0, 1e4), mask)
    for row, n in enumerate(LENGTHS):
        torch.testing.assert_close(out[row], x[row, :n].mean(0), atol=1e-6, rtol=0)


def test_attention_pooler_weights_high_scoring_tokens():
    torch.manual_seed(9)
    pooler = AttentionPooler(D)
    x = torch.randn(1, L, D)
    x[0, :, 0].clamp_(max=1.0)
    x[0, 2, 0] = 3.0  # token 2 scores highest along feature 0
    x[0, 5, 0] = 50.0  # ... except the padded one
    mask = torch.ones(1, L, dtype=torch.long)
    mask[0, 5:] = 0
    mean = pooler(x, mask)
    with torch.no_grad():
        pooler.score.weight.zero_()
        pooler.score.weight[0, 0] = 20.0
    out = pooler(x, mask)

    # exact softmax-weighted formula over the real tokens
    real = x[0, :5]
    weights = torch.softmax(20.0 * real[:, 0], dim=0)
    torch.testing.assert_close(out[0], (weights.unsqueeze(-1) * real).sum(0), atol=1e-6, rtol=1e-6)
    # closer to the top token than the plain mean is
    assert torch.dist(out[0], x[0, 2]) < 0.1 * torch.dist(mean[0], x[0, 2])
    assert weights[2] > 0.9


def test_attention_pooler_gradients_flow():
    torch.manual_seed(10)
    pooler = AttentionPooler(D)
    with torch.no_grad():
        pooler.score.weight.normal_()
    x = torch.randn(B, L, D, requires_grad=True)
    mask = _right_padding_mask()
    (pooler(x, mask) * torch.randn(B, D)).sum().backward()
    assert pooler.score.weight.grad is not None and torch.count_nonzero(pooler.score.weight.grad) > 0
    assert pooler.score.bias.grad is not None and torch.isfinite(pooler.score.bias.grad).all()
    assert torch.isfinite(x.grad).all()
    # padded tokens receive no gradient
    assert torch.count_nonzero(x.grad[mask == 0]) == 0
    assert torch.count_nonzero(x.grad[mask == 1]) > 0


def test_attention_pooler_gradients_flow_from_zero_init():
    torch.manual_seed(11)
    pooler = AttentionPooler(D)
    x = torch.randn(B, L, D)
    (pooler(x, _right_padding_mask()) * torch.randn(B, D)).sum().backward()
    assert torch.count_nonzero(pooler.score.weight.grad) > 0


@pytest.mark.parametrize("name", REDUCING_POOLERS)
def test_gradients_are_finite_with_junk_padding(name):
    torch.manual_seed(12)
    pooler = _pooler(name).train()
    mask = _right_padding_mask()
    x = torch.randn(B, L, D).masked_fill(mask.unsqueeze(-1) == 0, 1e4).requires_grad_(True)
    pooler(x, mask).sum().backward()
    assert torch.isfinite(x.grad).all()
    assert torch.count_nonzero(x.grad[mask == 0]) == 0


def test_rms_pooler_gradient_stays_finite_where_a_feature_is_all_zero():
    x = torch.randn(2, 5, 4)
    x[:, :, 1] = 0.0  # a feature that is 0 on every token (real backbones have some)
    x.requires_grad_(True)
    out = POOLERS["rms"](4)(x, torch.ones(2, 5, dtype=torch.long))
    out.sum().backward()
    assert torch.isfinite(x.grad).all()
    torch.testing.assert_close(out[:, 0], x[:, :, 0].pow(2).mean(1).sqrt())
