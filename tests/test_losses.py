"""Tests for ``skgliclass.losses``: the focal loss and the contrastive loss between label vectors."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from skgliclass.losses import IGNORE_INDEX, contrastive_loss, focal_loss, softmax_loss

B, C, D = 4, 5, 16


def _reference():
    return pytest.importorskip("gliclass.loss_functions")


def _logits_and_targets(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(seed)
    logits = torch.randn(B, C) * 2
    targets = (torch.rand(B, C) > 0.6).float()
    targets[0, 4] = IGNORE_INDEX
    targets[2, 1] = IGNORE_INDEX
    targets[3, 3:] = IGNORE_INDEX
    return logits, targets


# ------------------------------------------------------------------ focal


def test_ignore_index_constant():
    assert IGNORE_INDEX == -100


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
@pytest.mark.parametrize("gamma", [0.0, 2.0])
@pytest.mark.parametrize("alpha", [0.25, 0.5, -1.0])
def test_focal_matches_reference(alpha, gamma, label_smoothing):
    reference = _reference()
    logits, targets = _logits_and_targets(0)
    valid = targets != IGNORE_INDEX
    per_entry = reference.focal_loss_with_logits(
        logits, targets, alpha=alpha, gamma=gamma, reduction="none", label_smoothing=label_smoothing
    )
    expected = per_entry[valid].sum() / valid.sum()
    got = focal_loss(logits, targets, alpha=alpha, gamma=gamma, label_smoothing=label_smoothing)
    assert got.dim() == 0
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
@pytest.mark.parametrize("gamma", [0.0, 2.0])
@pytest.mark.parametrize("alpha", [0.25, 0.5, -1.0])
def test_focal_with_mask_matches_reference(alpha, gamma, label_smoothing):
    reference = _reference()
    logits, targets = _logits_and_targets(1)
    mask = torch.ones(B, C, dtype=torch.long)
    mask[1, 3:] = 0
    mask[0, 0] = 0
    reference_targets = targets.masked_fill(mask == 0, IGNORE_INDEX)
    valid = reference_targets != IGNORE_INDEX
    per_entry = reference.focal_loss_with_logits(
        logits, reference_targets, alpha=alpha, gamma=gamma, reduction="none", label_smoothing=label_smoothing
    )
    expected = per_entry[valid].sum() / valid.sum()
    got = focal_loss(logits, targets, alpha=alpha, gamma=gamma, label_smoothing=label_smoothing, mask=mask)
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=1e-5)


def test_focal_default_is_alpha_half_gamma_two():
    reference = _reference()
    logits, targets = _logits_and_targets(2)
    valid = targets != IGNORE_INDEX
    per_entry = reference.focal_loss_with_logits(logits, targets, alpha=0.5, gamma=2, reduction="none")
    torch.testing.assert_close(focal_loss(logits, targets), per_entry[valid].sum() / valid.sum(), atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("extreme", [1e4, -1e4, 80.0, -80.0])
@pytest.mark.parametrize(("alpha", "gamma", "label_smoothing"), [(0.5, 2.0, 0.0), (0.25, 0.0, 0.1), (None, 0.0, 0.0)])
def test_focal_ignored_and_masked_entries_do_not_count(extreme, alpha, gamma, label_smoothing):
    logits, targets = _logits_and_targets(3)
    mask = torch.ones(B, C)
    mask[1, 2:] = 0
    kwargs = {"alpha": alpha, "gamma": gamma, "label_smoothing": label_smoothing}
    base = focal_loss(logits, targets, mask=mask, **kwargs)
    out = (targets == IGNORE_INDEX) | (mask == 0)
    moved = logits.masked_fill(out, extreme)
    changed_targets = torch.where(mask == 0, torch.ones_like(targets), targets)  # masked slots claim positives
    torch.testing.assert_close(focal_loss(moved, changed_targets, mask=mask, **kwargs), base, atol=1e-6, rtol=1e-6)
    # equal to the mean over the valid entries only
    keep = ~out
    alone = focal_loss(logits[keep].view(1, -1), targets[keep].view(1, -1), **kwargs)
    torch.testing.assert_close(base, alone, atol=1e-6, rtol=1e-6)


def test_focal_gamma0_no_alpha_is_plain_bce():
    torch.manual_seed(4)
    logits = torch.randn(B, C) * 3
    targets = (torch.rand(B, C) > 0.5).float()
    expected = F.binary_cross_entropy_with_logits(logits, targets)
    torch.testing.assert_close(focal_loss(logits, targets, alpha=None, gamma=0.0), expected, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(focal_loss(logits, targets, alpha=-1.0, gamma=0.0), expected, atol=1e-6, rtol=1e-6)


def test_focal_gamma0_no_alpha_with_ignored_entries_is_bce_over_valid():
    logits, targets = _logits_and_targets(5)
    valid = targets != IGNORE_INDEX
    expected = F.binary_cross_entropy_with_logits(logits[valid], targets[valid])
    torch.testing.assert_close(focal_loss(logits, targets, alpha=None, gamma=0.0), expected, atol=1e-6, rtol=1e-6)


def test_focal_hand_value():
    # one positive at logit 0: p = 0.5, bce = log 2, (1 - p_t)^2 = 1/4, alpha_t = 0.25
    got = focal_loss(torch.zeros(1, 1), torch.ones(1, 1), alpha=0.25, gamma=2.0)
    torch.testing.assert_close(got, torch.tensor(math.log(2) * 0.25 * 0.25), atol=1e-7, rtol=1e-6)
    # with label smoothing 0.2 the target is 0.9: bce(0, 0.9) = log 2 still, p_t = 0.5
    got = focal_loss(torch.zeros(1, 1), torch.ones(1, 1), alpha=0.5, gamma=2.0, label_smoothing=0.2)
    torch.testing.assert_close(got, torch.tensor(math.log(2) * 0.25 * 0.5), atol=1e-7, rtol=1e-6)


def test_focal_downweights_easy_examples():
    logits = torch.tensor([[4.0, 0.2]])
    targets = torch.ones(1, 2)
    plain = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    per_entry = [focal_loss(logits[:, i : i + 1], targets[:, i : i + 1], alpha=None, gamma=2.0) for i in range(2)]
    assert per_entry[0] / plain[0, 0] < per_entry[1] / plain[0, 1]


def test_focal_all_entries_ignored_is_zero_not_nan():
    logits = torch.randn(2, 3)
    targets = torch.full((2, 3), float(IGNORE_INDEX))
    out = focal_loss(logits, targets)
    assert torch.isfinite(out) and out.item() == 0.0


def test_focal_weights_give_the_weighted_mean_over_valid_entries():
    logits, targets = _logits_and_targets(3)
    targets[0, 1] = IGNORE_INDEX
    weights = torch.rand(B, C) + 0.1
    each = focal_loss(logits, targets, weights=None, alpha=None, gamma=0.0)  # mean BCE over the valid entries
    per_entry = F.binary_cross_entropy_with_logits(logits, targets.clamp_min(0), reduction="none")
    valid = (targets != IGNORE_INDEX).float()
    assert math.isclose(float(each), float((per_entry * valid).sum() / valid.sum()), rel_tol=1e-6)
    weighted = focal_loss(logits, targets, weights=weights, alpha=None, gamma=0.0)
    expected = (per_entry * valid * weights).sum() / (valid * weights).sum()
    assert math.isclose(float(weighted), float(expected), rel_tol=1e-6)
    assert not math.isclose(float(weighted), float(each), rel_tol=1e-3)
    ones = focal_loss(logits, targets, weights=torch.ones(B, C))
    assert math.isclose(float(ones), float(focal_loss(logits, targets)), rel_tol=1e-6)


def test_focal_accepts_integer_targets():
    logits, targets = _logits_and_targets(6)
    torch.testing.assert_close(focal_loss(logits, targets.long()), focal_loss(logits, targets), atol=0, rtol=0)


@pytest.mark.parametrize("gamma", [0.0, 2.0])
@pytest.mark.parametrize("alpha", [0.25, None])
def test_focal_gradients_finite_and_zero_on_ignored(alpha, gamma):
    logits, targets = _logits_and_targets(7)
    mask = torch.ones(B, C)
    mask[1, 2:] = 0
    out = (targets == IGNORE_INDEX) | (mask == 0)
    logits = logits.masked_fill(out, 1e4)
    logits[2, 2] = -1e4  # an extreme but valid entry too
    logits.requires_grad_(True)
    focal_loss(logits, targets, alpha=alpha, gamma=gamma, label_smoothing=0.1, mask=mask).backward()
    assert torch.isfinite(logits.grad).all()
    assert torch.count_nonzero(logits.grad[out]) == 0
    assert torch.count_nonzero(logits.grad[~out]) > 0


# ------------------------------------------------------------ contrastive


def test_contrastive_matches_reference_with_all_real_mask():
    reference = _reference()
    torch.manual_seed(10)
    vectors = torch.randn(B, C, D)
    mask = torch.ones(B, C)
    expected = reference.sequence_contrastive_loss(vectors, mask)
    torch.testing.assert_close(contrastive_loss(vectors, mask), expected, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(contrastive_loss(vectors, mask, temperature=1.0), expected, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(contrastive_loss(vectors, mask.long()), expected, atol=1e-6, rtol=1e-6)


def test_contrastive_padded_labels_neither_change_nor_count():
    reference = _reference()
    torch.manual_seed(11)
    vectors = torch.randn(2, 4, D)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]])
    vectors[1, 2:] = 1e3 * torch.randn(2, D)  # junk in the padded slots
    got = contrastive_loss(vectors, mask)
    row0 = reference.sequence_contrastive_loss(vectors[0:1], torch.ones(1, 4)) * 4
    row1 = reference.sequence_contrastive_loss(vectors[1:2, :2], torch.ones(1, 2)) * 2
    torch.testing.assert_close(got, (row0 + row1) / 6, atol=1e-6, rtol=1e-6)


def test_contrastive_adding_a_padded_slot_changes_nothing():
    torch.manual_seed(12)
    vectors = torch.randn(B, C, D)
    mask = torch.ones(B, C)
    mask[2, 3:] = 0
    base = contrastive_loss(vectors, mask)
    for junk in (torch.randn(B, 1, D) * 1e3, vectors[:, :1].clone(), torch.zeros(B, 1, D)):
        extended = torch.cat([vectors, junk], dim=1)
        extended_mask = torch.cat([mask, torch.zeros(B, 1)], dim=1)
        torch.testing.assert_close(contrastive_loss(extended, extended_mask), base, atol=1e-6, rtol=1e-6)


def test_contrastive_orthogonal_labels_beat_identical_ones():
    c = 3
    orthogonal = torch.eye(c, D).unsqueeze(0)
    identical = torch.ones(1, c, D)
    mask = torch.ones(1, c)
    low, high = contrastive_loss(orthogonal, mask), contrastive_loss(identical, mask)
    assert low < high
    torch.testing.assert_close(low, torch.tensor(-1.0 + math.log(math.e + c - 1)), atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(high, torch.tensor(math.log(c)), atol=1e-6, rtol=1e-6)


def test_contrastive_is_scale_invariant():
    torch.manual_seed(13)
    vectors = torch.randn(B, C, D)
    mask = torch.ones(B, C)
    scaled = contrastive_loss(vectors * 7.5, mask)
    torch.testing.assert_close(scaled, contrastive_loss(vectors, mask), atol=1e-6, rtol=1e-6)


def test_contrastive_temperature_divides_cosines():
    torch.manual_seed(14)
    vectors = torch.randn(2, C, D)
    mask = torch.ones(2, C)
    unit = F.normalize(vectors, dim=-1)
    sim = unit @ unit.transpose(1, 2) / 0.5
    expected = F.cross_entropy(sim.reshape(-1, C), torch.arange(C).repeat(2))
    torch.testing.assert_close(contrastive_loss(vectors, mask, temperature=0.5), expected, atol=1e-6, rtol=1e-6)


def test_contrastive_rows_without_real_labels_are_finite():
    torch.manual_seed(15)
    vectors = torch.randn(2, C, D)
    mask = torch.ones(2, C)
    mask[1] = 0
    out = contrastive_loss(vectors, mask)
    torch.testing.assert_close(out, contrastive_loss(vectors[:1], mask[:1]), atol=1e-6, rtol=1e-6)
    assert torch.isfinite(contrastive_loss(vectors, torch.zeros(2, C)))


def test_contrastive_gradients_finite_and_zero_on_padding():
    torch.manual_seed(16)
    vectors = torch.randn(B, C, D)
    mask = torch.ones(B, C)
    mask[0, 2:] = 0
    vectors[0, 2:] = 1e3
    vectors.requires_grad_(True)
    contrastive_loss(vectors, mask).backward()
    assert torch.isfinite(vectors.grad).all()
    assert torch.count_nonzero(vectors.grad[0, 2:]) == 0
    assert torch.count_nonzero(vectors.grad[mask.bool()]) > 0


def test_softmax_loss_is_torch_cross_entropy_and_ignores_padded_slots():
    torch.manual_seed(0)
    logits, true = torch.randn(6, 4), torch.tensor([0, 3, 1, 2, 2, 0])
    targets = torch.nn.functional.one_hot(true, 4).float()
    torch.testing.assert_close(softmax_loss(logits, targets), F.cross_entropy(logits, true))
    smoothed = softmax_loss(logits, targets, label_smoothing=0.2)
    torch.testing.assert_close(smoothed, F.cross_entropy(logits, true, label_smoothing=0.2))
    # a padded fifth slot, however large its logit, takes no probability
    padded = torch.cat([logits, torch.full((6, 1), 50.0)], dim=1)
    mask = torch.cat([torch.ones(6, 4), torch.zeros(6, 1)], dim=1)
    wide = torch.cat([targets, torch.zeros(6, 1)], dim=1)
    torch.testing.assert_close(softmax_loss(padded, wide, mask=mask), F.cross_entropy(logits, true))
    torch.testing.assert_close(
        softmax_loss(padded, wide, mask=mask, label_smoothing=0.2), F.cross_entropy(logits, true, label_smoothing=0.2)
    )
    # focal: each text's cross-entropy weighed by (1 - p_true) ** gamma
    p_true = logits.softmax(-1).gather(1, true[:, None]).squeeze(1)
    per_text = F.cross_entropy(logits, true, reduction="none")
    torch.testing.assert_close(softmax_loss(logits, targets, gamma=2.0), ((1 - p_true) ** 2 * per_text).mean())
