"""Held-out verdict likelihood at a fitted temperature: the values by hand, scale-free, ranking decides."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit, softmax

from skgliclass.training.guard import (
    calibrated_nll,
    class_balance,
    clear_gain,
    confirmed_kept,
    expected_right,
    kept_right,
    pinned,
    right_bound,
    verdict_nll,
)

TARGETS = np.array([[1, 0, 0], [-100, 0, -100], [-100, -100, -100], [0, -100, 1]])
LOGITS = np.array([[2.0, 0.0, -1.0], [0.5, 1.5, 0.0], [0.0, 0.0, 0.0], [0.3, 0.1, 0.2]])


def test_single_label_rows_score_the_chance_of_what_was_observed():
    p = softmax(LOGITS, axis=1)
    rows = verdict_nll(LOGITS, TARGETS, multilabel=False)
    # a right label: -log p(label); wrong labels only: -log(1 - their p); no verdict: 0
    np.testing.assert_allclose(rows, [-np.log(p[0, 0]), -np.log(1 - p[1, 1]), 0.0, -np.log(p[3, 2])], rtol=1e-10)


def test_multi_label_rows_average_the_judged_entries():
    p = expit(0.5 * LOGITS + 0.1)
    rows = verdict_nll(LOGITS, TARGETS, multilabel=True, scale=0.5, bias=0.1)
    first = -(np.log(p[0, 0]) + np.log(1 - p[0, 1]) + np.log(1 - p[0, 2])) / 3
    last = -(np.log(1 - p[3, 0]) + np.log(p[3, 2])) / 2
    np.testing.assert_allclose(rows, [first, -np.log(1 - p[1, 1]), 0.0, last], rtol=1e-10)


@pytest.mark.parametrize("multilabel", [False, True])
def test_a_global_scale_does_not_change_the_calibrated_loss(multilabel):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(40, 4))
    targets = np.where(rng.random((40, 4)) < 0.5, (logits + rng.normal(size=(40, 4)) > 0).astype(int), -100)
    loud, _ = calibrated_nll(5 * logits, targets, multilabel)
    quiet, rows = calibrated_nll(0.5 * logits, targets, multilabel)
    assert loud == pytest.approx(quiet, abs=1e-4) and rows.shape == (40,)
    # raw log-loss, by contrast, depends on the scale
    assert verdict_nll(5 * logits, targets, multilabel).mean() != pytest.approx(quiet, abs=1e-2)


def test_the_better_ranking_wins_even_when_less_confident():
    rng = np.random.default_rng(1)
    truth = rng.integers(0, 3, 60)
    good = np.eye(3)[truth] * 1.0 + rng.normal(scale=0.3, size=(60, 3))  # ranks well, quiet
    bad = 8 * (np.eye(3)[truth] * 1.0 + rng.normal(scale=1.0, size=(60, 3)))  # ranks worse, loud
    targets = np.eye(3, dtype=int)[truth]
    assert verdict_nll(bad, targets, False).mean() > 0  # (sanity) both are finite losses
    assert calibrated_nll(good, targets, False)[0] < calibrated_nll(bad, targets, False)[0]


def test_no_verdicts_is_zero():
    assert calibrated_nll(LOGITS[2:3], TARGETS[2:3], False)[0] == 0.0


def test_a_gain_counts_only_beyond_its_standard_error():
    before = np.array([1.0, 1.0, 1.0, 1.0])
    steady = before - np.array([0.2, 0.3, 0.2, 0.3])  # mean gain 0.25, standard error 0.029
    lucky = before - np.array([1.6, -0.2, -0.2, -0.2])  # mean gain 0.25 too, from one row: standard error 0.45
    assert clear_gain(before, steady, z=1.0) and clear_gain(before, steady, z=8.0)
    assert not clear_gain(before, steady, z=9.0)
    assert clear_gain(before, lucky, z=0.0) and not clear_gain(before, lucky, z=1.0)
    assert clear_gain(before, before - 0.1, z=5.0)  # the same gain on every row: clear at any z
    assert not clear_gain(before[:1], steady[:1], z=0.0)  # one row cannot tell
    assert not clear_gain(before, before + 0.1, z=0.0)


def test_confirmed_kept_asks_whether_each_right_label_stays_on_top():
    # rows: right label 0 on top; right label 2 behind label 0; two right labels, one of them in the top two; none
    targets = np.array([[1, 0, -100], [-100, -100, 1], [1, -100, 1], [0, -100, -100]])
    logits = np.array([[2.0, 0.0, 1.0], [0.5, 0.0, 0.2], [0.9, 1.0, 0.8], [3.0, 0.0, 0.0]])
    np.testing.assert_array_equal(confirmed_kept(logits, targets), [True, False, True, False])
    assert confirmed_kept(logits, -100 * np.ones_like(targets)).shape == (0,)  # no confirmed label: nothing to keep


def test_pinned_marks_the_one_label_left_when_every_other_was_judged_wrong():
    # two-class "wrong" names the other class; three classes with one wrong leave two open; a right row stays
    targets = np.array([[0, -1, -1], [0, 0, -1], [1, 0, 0], [-1, -1, -1]])
    np.testing.assert_array_equal(pinned(targets), [[0, -1, -1], [0, 0, 1], [1, 0, 0], [-1, -1, -1]])
    two = np.array([[0, -1], [-1, 0], [1, 0]])
    np.testing.assert_array_equal(pinned(two), [[0, 1], [1, 0], [1, 0]])
    logits = np.array([[0.0, 2.0], [0.0, 1.0], [1.0, 0.0]])
    # the moved "wrong" row counts as kept, the one still on the wrong class as lost
    np.testing.assert_array_equal(confirmed_kept(logits, pinned(two)), [True, False, True])
    assert not np.shares_memory(pinned(two), two)


def test_expected_right_counts_a_text_moved_off_a_wrong_label_as_a_guess_among_those_left():
    # a confirmed label on top; the judged-wrong label still on top; moved to one of two labels left;
    # no verdict; two labels ruled out (the third pinned) and on top; a tie at the top with the right label
    targets = np.array([[1, -1, -1], [0, -1, -1], [0, -1, -1], [-1, -1, -1], [0, 0, -1], [-1, 1, -1]])
    logits = np.array([[3.0, 1, 0], [3.0, 1, 0], [0.0, 2, 1], [1.0, 2, 3], [0.0, 1, 5], [2.0, 2, 0]])
    np.testing.assert_allclose(expected_right(logits, targets), [1.0, 0.0, 0.5, 0.0, 1.0, 1.0])
    two = np.array([[0, -1], [1, -1]])  # two classes: a "wrong" leaves one label, right for certain
    np.testing.assert_allclose(expected_right(np.array([[0.0, 1.0], [0.0, 1.0]]), two), [1.0, 0.0])


def test_right_bound_asks_that_guesses_outweigh_lost_labels_beyond_their_luck():
    # four classes: two texts confirmed right and eight judged wrong, all on the start's top label (label 0)
    targets = np.full((10, 4), -1)
    targets[:2, 0], targets[2:, 0] = 1, 0
    start = np.tile([3.0, 0.0, 0.0, 0.0], (10, 1))
    assert right_bound(start, targets) == 2.0  # nothing to guess: the two confirmed texts
    moved = start.copy()
    moved[1:, :] = [0.0, 3.0, 0.0, 0.0]  # one confirmed label lost, all eight wrong ones moved: 1 + 8/3 right
    assert right_bound(moved, targets, z=0.0) == pytest.approx(1 + 8 / 3)  # on average, more than the start
    spread = np.sqrt(8 * (1 / 3) * (2 / 3))  # 1.33: eight guesses at one in three are no sure gain
    assert right_bound(moved, targets, z=1.0) == pytest.approx(1 + 8 / 3 - spread)
    assert right_bound(moved, targets) == pytest.approx(1.0)  # two spreads cover the guesses: they add nothing
    kept = start.copy()
    kept[9] = [0.0, 0.0, 3.0, 0.0]  # both confirmed labels kept, one text moved off "wrong": never a cost
    assert right_bound(kept, targets) == 2.0
    two = np.array([[0, -1], [0, -1], [1, -1]])  # two classes: every verdict pins, no guess, no discount
    assert right_bound(np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]]), two) == 2.0


def test_kept_right_counts_confirmed_labels_multi_label_and_the_bound_single_label():
    verdicts = np.array([[1, -100, 0], [1, 1, -100], [-100, 0, -100]])
    logits = np.array([[2.0, 0.0, 1.0], [0.0, 1.0, 3.0], [0.0, 1.0, 2.0]])
    # multi-label: row 0 keeps its one confirmed label on top, row 1 keeps one of two among its top two
    assert kept_right(logits, verdicts, multilabel=True) == 2.0
    assert kept_right(logits, verdicts, multilabel=False) == right_bound(logits, verdicts)


def test_class_balance_weighs_every_class_the_same():
    # two-class verdicts: 6 rows of class 0 (4 right, 2 "1 is wrong"), 2 of class 1 (one right, one "0 is wrong")
    targets = np.array([[1, 0]] * 4 + [[-100, 0]] * 2 + [[0, 1], [0, -100], [-100, -100]])
    weights = class_balance(targets)
    assert weights[-1] == 0.0  # no verdict
    np.testing.assert_allclose(weights[:6], weights[0]) and np.testing.assert_allclose(weights[6:8], weights[6])
    assert weights[:6].sum() == pytest.approx(weights[6:8].sum()) and weights.mean() == pytest.approx(1.0)
    # three classes: "label 0 is wrong" spreads the row over labels 1 and 2
    spread = class_balance(np.array([[0, -100, -100], [-100, 1, -100], [-100, 1, -100]]))
    np.testing.assert_allclose(spread / spread[0], [1.0, 1 / 3, 1 / 3])  # class 1: 2.5 rows, class 2: half a row


def test_balanced_loss_prefers_the_model_that_keeps_the_rare_class():
    targets = np.array([[1, 0]] * 9 + [[0, 1]])  # nine of the common class, one rare
    keeps = np.array([[1.0, -1.0]] * 7 + [[-1.0, 1.0]] * 3)  # two common rows wrong, the rare one right
    common = np.array([[1.0, -1.0]] * 10)  # the common class everywhere: one row wrong, the rare one
    assert calibrated_nll(common, targets, False)[0] < calibrated_nll(keeps, targets, False)[0]  # likelier overall
    weights = class_balance(targets)
    assert calibrated_nll(keeps, targets, False, weights)[0] < calibrated_nll(common, targets, False, weights)[0]
