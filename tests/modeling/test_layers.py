"""Tests for ``skgliclass.modeling.layers``: projectors, their identity init, and layer re-weighting."""

from __future__ import annotations

import pytest
import torch

from skgliclass.modeling.layers import LayerReweighting, Projector, identity_init_

D = 8


def _state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in module.state_dict().items()}


# ---------------------------------------------------------------- Projector


def test_projector_layout_and_formula():
    torch.manual_seed(0)
    projector = Projector(D, 3 * D, 5, "gelu", 0.1).eval()
    assert list(projector.state_dict()) == ["linear_1.weight", "linear_1.bias", "linear_2.weight", "linear_2.bias"]
    assert projector.linear_1.weight.shape == (3 * D, D)
    assert projector.linear_2.weight.shape == (5, 3 * D)
    x = torch.randn(2, 4, D)
    expected = projector.linear_2(torch.nn.functional.gelu(projector.linear_1(x)))
    torch.testing.assert_close(projector(x), expected, atol=1e-6, rtol=1e-6)


def test_projector_dropout_none_has_no_dropout():
    torch.manual_seed(1)
    projector = Projector(D, 2 * D, D, "gelu", None).train()
    x = torch.randn(4, D)
    assert torch.equal(projector(x), projector(x))
    assert isinstance(projector.dropout, torch.nn.Identity)


def test_projector_dropout_active_in_training():
    torch.manual_seed(2)
    projector = Projector(D, 2 * D, D, "gelu", 0.5).train()
    x = torch.randn(16, D)
    assert not torch.allclose(projector(x), projector(x))


@pytest.mark.parametrize("act", ["gelu", "gelu_new", "silu"])
def test_identity_init_makes_an_exact_identity(act):
    torch.manual_seed(3)
    projector = Projector(D, 2 * D, D, act, 0.1)
    assert identity_init_(projector) is True
    projector.eval()
    x = torch.randn(4, 5, D) * 3
    torch.testing.assert_close(projector(x), x, atol=1e-5, rtol=0)
    eye = torch.eye(D)
    torch.testing.assert_close(projector.linear_1.weight, torch.cat([eye, -eye], dim=0), atol=0, rtol=0)
    torch.testing.assert_close(projector.linear_2.weight, torch.cat([eye, -eye], dim=1), atol=0, rtol=0)
    assert torch.count_nonzero(projector.linear_1.bias) == 0
    assert torch.count_nonzero(projector.linear_2.bias) == 0


def test_identity_init_keeps_gradients_enabled():
    torch.manual_seed(4)
    projector = Projector(D, 2 * D, D, "gelu", 0.1)
    identity_init_(projector)
    assert all(p.requires_grad for p in projector.parameters())
    x = torch.randn(3, D)
    projector(x).sum().backward()
    assert all(p.grad is not None for p in projector.parameters())


@pytest.mark.parametrize(
    ("sizes", "act"),
    [
        ((D, 3 * D, D), "gelu"),  # inner width is not 2 * in
        ((D, 2 * D, D + 1), "gelu"),  # out width differs from in
        ((D, 2 * D, D), "tanh"),  # tanh(x) - tanh(-x) != x
        ((D, 2 * D, D), "sigmoid"),
    ],
)
def test_identity_init_refuses_and_leaves_weights(sizes, act):
    torch.manual_seed(5)
    projector = Projector(*sizes, act, 0.1)
    before = _state(projector)
    assert identity_init_(projector) is False
    after = projector.state_dict()
    assert before.keys() == after.keys()
    for key in before:
        assert torch.equal(before[key], after[key]), key


# --------------------------------------------------------- LayerReweighting


def _states(k: int, b: int = 2, length: int = 5, d: int = D) -> tuple[torch.Tensor, ...]:
    return tuple(torch.randn(b, length, d) for _ in range(k))


def test_layer_reweighting_layout_matches_reference_keys():
    module = LayerReweighting(num_states=5, hidden_size=D)
    shapes = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    assert shapes == {
        "squeeze.weight": (1, D),
        "squeeze.bias": (1,),
        "W1.weight": (2, 5),
        "W1.bias": (2,),
        "W2.weight": (5, 2),
        "W2.bias": (5,),
        "output_projection.weight": (D, D),
        "output_projection.bias": (D,),
    }


def test_layer_reweighting_same_keys_as_reference_module():
    layers = pytest.importorskip("gliclass.layers")
    torch.manual_seed(6)
    reference = layers.LayerwiseAttention(4, D)
    ours = LayerReweighting(num_states=4, hidden_size=D)
    ref_shapes = {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == ref_shapes
    ours.load_state_dict(reference.state_dict())
    states = _states(4)
    with torch.no_grad():
        # without a mask the squeeze mean runs over every token, as the reference's does
        torch.testing.assert_close(ours(states), reference(list(states)), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("k", [2, 3, 5])
def test_layer_reweighting_output_shape(k):
    torch.manual_seed(7)
    module = LayerReweighting(num_states=k, hidden_size=D)
    out = module(_states(k, b=3, length=6), torch.ones(3, 6))
    assert out.shape == (3, 6, D)


@pytest.mark.parametrize("k", [3, 4, 7])
def test_layer_reweighting_reset_starts_as_mean(k):
    torch.manual_seed(8)
    module = LayerReweighting(num_states=k, hidden_size=D)
    module.reset_parameters_()
    torch.testing.assert_close(module.output_projection.weight, torch.eye(D) * (2.0 / k), atol=0, rtol=0)
    assert torch.count_nonzero(module.output_projection.bias) == 0
    states = _states(k, b=3, length=6)
    mask = torch.ones(3, 6)
    mask[1, 4:] = 0
    with torch.no_grad():
        out = module(states, mask)
    mean = torch.stack(states).mean(0)
    scale = mean.abs().max()
    torch.testing.assert_close(out, mean, atol=0.05 * float(scale), rtol=0.0)
    # and the fit is much tighter than the tolerance: gates are within ~1e-3 of 0.5
    assert (out - mean).abs().max() < 1e-2 * float(scale)


def test_layer_reweighting_is_padding_invariant_for_real_tokens():
    torch.manual_seed(9)
    k, n_real, length = 4, 3, 6
    module = LayerReweighting(num_states=k, hidden_size=D).eval()
    with torch.no_grad():
        module.squeeze.weight.mul_(10.0)  # make the gates sensitive to the token states
    states = _states(k, b=2, length=length)
    padded = []
    for s in states:
        s = s.clone()
        s[1, n_real:] = 1e3 * torch.randn(length - n_real, D)  # junk in the padded positions of row 1
        padded.append(s)
    mask = torch.ones(2, length)
    mask[1, n_real:] = 0
    with torch.no_grad():
        out = module(tuple(padded), mask)
        alone = module(tuple(s[1:2, :n_real] for s in states), torch.ones(1, n_real))
        alone_no_mask = module(tuple(s[1:2, :n_real] for s in states))
        full_row0 = module(tuple(s[0:1] for s in states), torch.ones(1, length))
    torch.testing.assert_close(out[1, :n_real], alone[0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(alone, alone_no_mask, atol=1e-6, rtol=0)
    torch.testing.assert_close(out[0], full_row0[0], atol=1e-5, rtol=1e-5)


def test_layer_reweighting_mask_changes_gates():
    """Sanity check that the padding test can fail: ignoring the mask would let the junk in."""
    torch.manual_seed(10)
    k, length = 3, 6
    module = LayerReweighting(num_states=k, hidden_size=D).eval()
    states = tuple(s.index_fill(1, torch.tensor([4, 5]), 1e3) for s in _states(k, b=1, length=length))
    mask = torch.ones(1, length)
    mask[0, 4:] = 0
    with torch.no_grad():
        assert not torch.allclose(module(states, mask)[0, :4], module(states)[0, :4], atol=1e-3)


@pytest.mark.parametrize("given", [2, 4])
def test_layer_reweighting_wrong_number_of_states(given):
    module = LayerReweighting(num_states=3, hidden_size=D)
    with pytest.raises(ValueError, match="3"):
        module(_states(given))


def test_layer_reweighting_gradients_reach_every_layer():
    torch.manual_seed(11)
    k = 4
    module = LayerReweighting(num_states=k, hidden_size=D)
    with torch.no_grad():
        module.W1.bias.fill_(1.0)  # keep the ReLU open so W1/W2 weights get a gradient
    states = tuple(s.requires_grad_(True) for s in _states(k))
    mask = torch.ones(2, 5)
    mask[0, 3:] = 0
    (module(states, mask) * torch.randn(2, 5, D)).sum().backward()
    for name in ("squeeze", "W1", "W2", "output_projection"):
        layer = getattr(module, name)
        for param_name in ("weight", "bias"):
            grad = getattr(layer, param_name).grad
            assert grad is not None, f"{name}.{param_name}"
            assert torch.isfinite(grad).all(), f"{name}.{param_name}"
            assert torch.count_nonzero(grad) > 0, f"{name}.{param_name}"
    assert all(torch.isfinite(s.grad).all() for s in states)


def test_layer_reweighting_gradients_after_reset():
    torch.manual_seed(12)
    k = 4
    module = LayerReweighting(num_states=k, hidden_size=D)
    module.reset_parameters_()
    states = _states(k)
    (module(states, torch.ones(2, 5)) * torch.randn(2, 5, D)).sum().backward()
    for name in ("squeeze", "W2", "output_projection"):
        assert torch.count_nonzero(getattr(module, name).weight.grad) > 0, name
    assert module.W2.bias.grad is not None and torch.count_nonzero(module.W2.bias.grad) > 0
