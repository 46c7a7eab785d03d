"""Tests for ``skgliclass.modeling.scorers``: logits ``(B, C)`` from text and label vectors."""

from __future__ import annotations

import pytest
import torch

import skgliclass
from skgliclass.modeling.scorers import SCORERS, Scorer, build_scorer, register_scorer

B, C, L, HIDDEN, HEADS = 3, 4, 6, 64, 4
ENCODER_CONFIG = {"model_type": "bert", "hidden_size": HIDDEN, "vocab_size": 100, "num_hidden_layers": 2}
ALL_SCORERS = ("dot", "weighted-dot", "mlp", "hopfield", "cross-attn")
WEIGHTED_SCORERS = ("weighted-dot", "mlp", "hopfield", "cross-attn")
REFERENCE_NAMES = {
    "dot": "simple",
    "weighted-dot": "weighted-dot",
    "mlp": "mlp",
    "hopfield": "hopfield",
    "cross-attn": "cross-attn",
}


def _config(name: str, **changes) -> skgliclass.GLiClassConfig:
    return skgliclass.GLiClassConfig(
        encoder_config=ENCODER_CONFIG,
        scorer=name,
        pooler="pass" if name == "cross-attn" else "first",
        scorer_num_heads=HEADS,
        **changes,
    )


def _scorer(name: str, **changes) -> Scorer:
    return build_scorer(name, _config(name, **changes))


def _reference_scorer(name: str, config: skgliclass.GLiClassConfig) -> torch.nn.Module:
    """Build the reference scorer the way ``gliclass.model.GLiClassBaseModel.__init__`` does."""
    scorers = pytest.importorskip("gliclass.scorers")
    gliclass = pytest.importorskip("gliclass")
    reference_config = config.to_reference_dict()
    width = gliclass.GLiClassModelConfig(**reference_config).hidden_size  # the width the reference derives
    return scorers.SCORER2OBJECT[REFERENCE_NAMES[name]](
        width,
        num_heads=reference_config["scorer_num_heads"],
        scorer_mlp_hidden_size=reference_config["scorer_mlp_hidden_size"],
        attn_dropout=reference_config["scorer_attn_dropout"],
    )


def _text(name: str, batch: int = B, length: int = L, dim: int = HIDDEN) -> torch.Tensor:
    return torch.randn(batch, length, dim) if name == "cross-attn" else torch.randn(batch, dim)


def _text_mask(lengths=(6, 4, 2), length: int = L) -> torch.Tensor:
    return (torch.arange(length).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)).long()


def test_registry_holds_every_scorer():
    assert set(SCORERS) == set(ALL_SCORERS)
    assert SCORERS["cross-attn"].uses_tokens
    assert not any(SCORERS[name].uses_tokens for name in ALL_SCORERS if name != "cross-attn")
    assert not SCORERS["dot"].has_weights
    assert all(SCORERS[name].has_weights for name in WEIGHTED_SCORERS)


@pytest.mark.parametrize("name", ALL_SCORERS)
def test_build_scorer_returns_registered_class(name):
    scorer = _scorer(name)
    assert type(scorer) is SCORERS[name]
    assert scorer.hidden_size == HIDDEN
    assert build_scorer(scorer, _config(name)) is scorer


def test_build_scorer_rejects_unknown_name_listing_choices():
    with pytest.raises(ValueError) as info:
        build_scorer("bilinear", _config("dot"))
    message = str(info.value)
    assert "bilinear" in message
    for name in ALL_SCORERS:
        assert repr(name) in message


def test_register_scorer_refuses_duplicate_name():
    before = dict(SCORERS)
    with pytest.raises(ValueError, match="mlp"):

        @register_scorer("mlp")
        class _Duplicate(Scorer):  # pragma: no cover - never registered
            pass

    assert SCORERS == before


@pytest.mark.parametrize("name", ALL_SCORERS)
def test_output_shape(name):
    torch.manual_seed(0)
    scorer = _scorer(name).eval()
    text, labels = _text(name), torch.randn(B, C, HIDDEN)
    mask = _text_mask() if name == "cross-attn" else None
    with torch.no_grad():
        out = scorer(text, labels, mask)
    assert out.shape == (B, C)
    assert torch.isfinite(out).all()


def test_scorer_width_follows_hidden_size():
    torch.manual_seed(1)
    scorer = _scorer("mlp", hidden_size=32)
    assert scorer.mlp[0].in_features == 64
    assert scorer(torch.randn(B, 32), torch.randn(B, C, 32)).shape == (B, C)


def test_dot_equals_einsum_by_hand():
    torch.manual_seed(2)
    scorer = _scorer("dot")
    assert list(scorer.state_dict()) == []
    text, labels = torch.randn(B, HIDDEN), torch.randn(B, C, HIDDEN)
    expected = (text.unsqueeze(1) * labels).sum(-1)
    torch.testing.assert_close(scorer(text, labels), expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(scorer(text, labels), torch.einsum("bd,bcd->bc", text, labels), atol=0, rtol=0)


@pytest.mark.parametrize("name", ALL_SCORERS)
def test_state_dict_layout_matches_reference(name):
    torch.manual_seed(3)
    config = _config(name)
    ours = build_scorer(name, config).state_dict()
    reference = _reference_scorer(name, config).state_dict()
    assert list(ours) == list(reference)
    assert {k: tuple(v.shape) for k, v in ours.items()} == {k: tuple(v.shape) for k, v in reference.items()}


@pytest.mark.parametrize("name", ALL_SCORERS)
def test_outputs_match_reference_after_loading_its_weights(name):
    torch.manual_seed(4)
    config = _config(name)
    reference = _reference_scorer(name, config).eval()
    ours = build_scorer(name, config).eval()
    ours.load_state_dict(reference.state_dict(), strict=True)
    text, labels = _text(name), torch.randn(B, C, HIDDEN)
    with torch.no_grad():
        if name == "cross-attn":
            mask = _text_mask()
            expected = reference(text, labels, text_mask=mask.bool())
            got = ours(text, labels, mask)
            # also without a mask
            torch.testing.assert_close(ours(text, labels), reference(text, labels), atol=1e-5, rtol=1e-5)
        else:
            expected = reference(text, labels)
            got = ours(text, labels)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", ["weighted-dot", "hopfield", "mlp", "dot"])
def test_permuting_labels_permutes_scores(name):
    torch.manual_seed(5)
    scorer = _scorer(name).eval()
    text, labels = torch.randn(B, HIDDEN), torch.randn(B, C, HIDDEN)
    perm = torch.tensor([2, 0, 3, 1])
    with torch.no_grad():
        out = scorer(text, labels)
        out_perm = scorer(text, labels[:, perm])
    torch.testing.assert_close(out_perm, out[:, perm], atol=1e-5, rtol=1e-5)


def test_cross_attn_permuting_labels_permutes_scores():
    torch.manual_seed(6)
    scorer = _scorer("cross-attn").eval()
    text, labels, mask = torch.randn(B, L, HIDDEN), torch.randn(B, C, HIDDEN), _text_mask()
    perm = torch.tensor([3, 1, 0, 2])
    with torch.no_grad():
        torch.testing.assert_close(
            scorer(text, labels[:, perm], mask), scorer(text, labels, mask)[:, perm], atol=1e-5, rtol=1e-5
        )


def test_hopfield_labels_interact_through_softmax():
    """The softmax runs over labels: changing one label can change another label's score."""
    torch.manual_seed(7)
    scorer = _scorer("hopfield").eval()
    with torch.no_grad():
        scorer.v_proj.weight.mul_(50.0)  # make the update visible
    text, labels = torch.randn(1, HIDDEN), torch.randn(1, C, HIDDEN)
    changed = labels.clone()
    changed[0, 3] = torch.randn(HIDDEN) * 3
    with torch.no_grad():
        a, b = scorer(text, labels), scorer(text, changed)
    assert not torch.allclose(a[0, :3], b[0, :3], atol=1e-6)


def test_scores_depend_on_the_text():
    torch.manual_seed(8)
    for name in ALL_SCORERS:
        scorer = _scorer(name).eval()
        labels = torch.randn(B, C, HIDDEN)
        with torch.no_grad():
            a = scorer(_text(name), labels)
            b = scorer(_text(name), labels)
        assert not torch.allclose(a, b), name


def test_cross_attn_ignores_padded_text_tokens():
    torch.manual_seed(9)
    scorer = _scorer("cross-attn").eval()
    lengths = (6, 4, 2)
    mask = _text_mask(lengths)
    text = torch.randn(B, L, HIDDEN)
    labels = torch.randn(B, C, HIDDEN)
    junk = text.masked_fill(mask.unsqueeze(-1) == 0, 1e4)
    with torch.no_grad():
        out = scorer(text, labels, mask)
        torch.testing.assert_close(scorer(junk, labels, mask), out, atol=1e-5, rtol=1e-5)
        for row, n in enumerate(lengths):
            alone = scorer(text[row : row + 1, :n], labels[row : row + 1], torch.ones(1, n))
            torch.testing.assert_close(out[row], alone[0], atol=1e-5, rtol=1e-5)


def test_cross_attn_mask_matters():
    torch.manual_seed(10)
    scorer = _scorer("cross-attn").eval()
    text, labels, mask = torch.randn(B, L, HIDDEN), torch.randn(B, C, HIDDEN), _text_mask()
    with torch.no_grad():
        assert not torch.allclose(scorer(text, labels, mask), scorer(text, labels))


def test_cross_attn_heads_must_divide_width():
    with pytest.raises(ValueError, match="scorer_num_heads"):
        _scorer("cross-attn", hidden_size=30)  # 30 is not a multiple of 4


def test_cross_attn_dropout_only_in_training():
    torch.manual_seed(11)
    scorer = _scorer("cross-attn", scorer_attn_dropout=0.5)
    text, labels = torch.randn(B, L, HIDDEN), torch.randn(B, C, HIDDEN)
    scorer.eval()
    with torch.no_grad():
        assert torch.equal(scorer(text, labels), scorer(text, labels))
    scorer.train()
    with torch.no_grad():
        assert not torch.allclose(scorer(text, labels), scorer(text, labels))


@pytest.mark.parametrize("name", WEIGHTED_SCORERS)
def test_gradients_reach_every_parameter(name):
    torch.manual_seed(12)
    scorer = _scorer(name).train()
    text = _text(name).requires_grad_(True)
    labels = torch.randn(B, C, HIDDEN, requires_grad=True)
    mask = _text_mask() if name == "cross-attn" else None
    (scorer(text, labels, mask) * torch.randn(B, C)).sum().backward()
    for key, param in scorer.named_parameters():
        assert param.grad is not None, key
        assert torch.isfinite(param.grad).all(), key
        assert torch.count_nonzero(param.grad) > 0, key
    assert torch.isfinite(text.grad).all() and torch.isfinite(labels.grad).all()
