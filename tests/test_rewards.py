"""PPO rewards: set metrics against sklearn, unknown entries, user functions, weighted sums, errors."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score

from skgliclass.training.rewards import REWARDS, make_reward

RNG = np.random.default_rng(0)
ACTIONS = RNG.integers(0, 2, (40, 6))
TARGETS = RNG.integers(0, 2, (40, 6))
ALL = np.ones_like(ACTIONS, dtype=bool)


@pytest.mark.parametrize(
    "name, metric",
    [("f1", f1_score), ("precision", precision_score), ("recall", recall_score)],
)
def test_set_metrics_match_sklearn_per_text(name, metric):
    got = REWARDS[name](ACTIONS, TARGETS, ALL)
    expected = [metric(t, a, zero_division=1.0) for a, t in zip(ACTIONS, TARGETS, strict=True)]
    if name == "precision":  # choosing nothing is rewarded only when nothing is true
        expected = [e if a.any() or not t.any() else 0.0 for e, a, t in zip(expected, ACTIONS, TARGETS, strict=True)]
    np.testing.assert_allclose(got, expected)
    assert got.shape == (40,)


def test_accuracy_and_edge_rows():
    actions = np.array([[0, 0, 0], [1, 1, 0], [1, 0, 1], [0, 0, 0]])
    targets = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 0, 0]])
    np.testing.assert_allclose(REWARDS["accuracy"](actions, targets, np.ones((4, 3), bool)), [1, 2 / 3, 0, 2 / 3])
    np.testing.assert_allclose(REWARDS["f1"](actions, targets, np.ones((4, 3), bool)), [1, 2 / 3, 0, 0])
    np.testing.assert_allclose(REWARDS["recall"](actions, targets, np.ones((4, 3), bool)), [1, 1, 0, 0])


def test_unknown_entries_are_ignored():
    known = RNG.random(ACTIONS.shape) < 0.5
    flipped = np.where(known, ACTIONS, 1 - ACTIONS)  # actions on unknown entries must not matter
    for function in REWARDS.values():
        np.testing.assert_allclose(function(ACTIONS, TARGETS, known), function(flipped, TARGETS, known))
    masked = np.where(known, TARGETS, 0)
    expected = [f1_score(t[k], a[k], zero_division=1.0) for a, t, k in zip(ACTIONS, masked, known, strict=True)]
    np.testing.assert_allclose(REWARDS["f1"](ACTIONS, TARGETS, known), expected)


def test_weighted_sum_of_names_and_functions():
    def rater(texts, actions, probs):
        return np.where(actions == 1, 1.0, np.nan)  # feedback on chosen labels only

    reward = make_reward({"f1": 0.5, rater: 2.0})
    assert reward.needs_targets
    values = reward(["t"] * 40, ACTIONS, np.full(ACTIONS.shape, 0.5), TARGETS, ALL)
    total, parts = values.total, values.parts
    f1 = REWARDS["f1"](ACTIONS, TARGETS, ALL)
    np.testing.assert_allclose(values.from_labels, 0.5 * f1)
    chosen = ACTIONS == 1
    np.testing.assert_allclose(total[chosen], np.broadcast_to(0.5 * f1[:, None] + 2.0, total.shape)[chosen])
    assert np.isnan(total[~chosen]).all()
    assert set(parts) == {"f1", "rater"} and parts["rater"] == 1.0
    assert parts["f1"] == pytest.approx(f1.mean())


def test_user_function_sees_class_ordered_copies():
    seen = {}

    def spy(texts, actions, probs):
        seen.update(texts=texts, actions=actions, probs=probs)
        actions[:] = 0  # a function that scribbles on its input changes nothing
        return actions.sum(1).astype(float)

    reward = make_reward(spy)
    assert not reward.needs_targets
    actions = ACTIONS.copy()
    total = reward(["a"] * 40, actions, np.zeros((40, 6)), None, ALL).total
    np.testing.assert_array_equal(actions, ACTIONS)
    assert total.shape == (40, 6) and seen["texts"] == ["a"] * 40


def test_flipped_rewards_change_one_decision_at_a_time():
    reward = make_reward({"f1": 1.0, "accuracy": 0.5})
    flipped = reward.flipped(ACTIONS, TARGETS, ALL)
    for i, j in [(0, 0), (3, 5), (17, 2)]:
        changed = ACTIONS.copy()
        changed[i, j] = 1 - changed[i, j]
        expected = reward(["t"] * 40, changed, np.zeros((40, 6)), TARGETS, ALL).from_labels[i]
        assert flipped[i, j] == pytest.approx(expected)


@pytest.mark.parametrize(
    "spec, error, match",
    [
        ("f-1", ValueError, "reward='f-1' is not valid.*Did you mean 'f1'"),
        ({}, ValueError, "empty dict"),
        ({"f1": "high"}, ValueError, "weight of 'f1'"),
        ({"f1": float("nan")}, ValueError, "finite"),
        (3, TypeError, "callable reward"),
    ],
)
def test_bad_reward_specs(spec, error, match):
    with pytest.raises(error, match=match):
        make_reward(spec)


@pytest.mark.parametrize(
    "returned, match",
    [
        (np.ones(3), r"shape \(3,\).*\(40,\)"),
        (np.full(40, np.inf), "infinite"),
        ("good", "must return numbers"),
    ],
)
def test_bad_user_reward_outputs(returned, match):
    reward = make_reward(lambda texts, actions, probs: returned)
    with pytest.raises((ValueError, TypeError), match=match):
        reward(["t"] * 40, ACTIONS, np.zeros((40, 6)), None, ALL)
