"""Reviewers' verdicts: reading a log, turning it into partial targets, choosing what to propose."""

from __future__ import annotations

import numpy as np
import pytest

from skgliclass.feedback import (
    choose_labels,
    choose_proposals,
    feedback_targets,
    fill_unknown,
    fill_weights,
    random_rows,
    read_feedback,
)

CLASSES = ["sport", "politics", "tech"]


def test_columns_rows_and_texts_in_x_read_the_same():
    columns = {"text": ["a", "b"], "label": ["sport", "tech"], "verdict": [1, False]}
    rows = [{"text": "a", "label": "sport", "verdict": True}, {"text": "b", "label": "tech", "verdict": 0.0}]
    for log in (read_feedback(None, columns), read_feedback(None, rows), read_feedback(["a", "b"], columns)):
        assert log.texts == ["a", "b"] and log.labels == ["sport", "tech"] and log.verdicts.tolist() == [1, 0]


def test_single_label_reads_a_right_verdict_as_every_other_label_wrong():
    log = read_feedback(
        ["a", "a", "b", "c", "c", "c"],
        {"label": ["tech", "sport", "tech", "politics", "politics", "tech"], "verdict": [0, 1, 0, 1, 0, 1]},
    )
    texts, single = feedback_targets(log, CLASSES, single_label=True)
    assert texts == ["a", "b", "c"]
    # a: sport right settles the row; b: tech wrong, the rest unknown; c: politics withdrawn, tech right.
    np.testing.assert_array_equal(single, [[1, 0, 0], [-1, -1, 0], [0, 0, 1]])
    _, multi = feedback_targets(log, CLASSES, single_label=False)
    np.testing.assert_array_equal(multi, [[1, -1, 0], [-1, -1, 0], [-1, 0, 1]])


def test_a_text_judges_training_only_when_some_row_drew_it_at_random():
    log = read_feedback(
        None,
        {
            "text": ["a", "b", "b", "c", "d"],
            "label": ["tech"] * 5,
            "verdict": [1, 0, 1, 0, 1],
            "pick": ["closest", "closest", "random", None, "random"],
        },
    )
    assert log.random_texts(["a", "b", "c", "d"]).tolist() == [False, True, True, True]
    plain = read_feedback(["a"], {"label": ["tech"], "verdict": [1]})  # no pick column: every text was drawn
    assert plain.random_texts(["a"]).tolist() == [True]
    with pytest.raises(ValueError, match="a pick is one of"):
        read_feedback(["a"], {"label": ["tech"], "verdict": [1], "pick": ["nearest"]})


@pytest.mark.parametrize(
    ("x", "feedback", "error", "match"),
    [
        (None, {"label": ["sport"]}, ValueError, "missing \\['verdict'\\]"),
        (None, {"label": ["sport"], "verdict": [1]}, ValueError, "needs a 'text' column"),
        (["a", "b"], {"label": ["sport"], "verdict": [1]}, ValueError, "1 rows but there are 2 texts"),
        (["a"], {"label": ["sport"], "verdict": [0.5]}, ValueError, "must be 1 \\(right\\) or 0"),
        (["a"], {"label": ["sport"], "verdict": ["yes"]}, ValueError, "must be 1 \\(right\\) or 0"),
        ([3], {"label": ["sport"], "verdict": [1]}, TypeError, "texts must be strings"),
        (None, "sport,1", TypeError, "mapping of columns"),
        (None, [("a", "sport", 1)], TypeError, "one mapping per row"),
        (None, {"text": [], "label": [], "verdict": []}, ValueError, "empty"),
    ],
)
def test_bad_logs_are_refused_with_the_reason(x, feedback, error, match):
    with pytest.raises(error, match=match):
        read_feedback(x, feedback)


def test_labels_outside_the_classes_are_refused():
    log = read_feedback(["a"], {"label": ["weather"], "verdict": [1]})
    with pytest.raises(ValueError, match="not classes: \\['weather'\\]"):
        feedback_targets(log, CLASSES, single_label=True)


def test_uncertainty_picks_the_closest_calls_and_exploration_sets_propensities():
    proba = np.array([[0.9, 0.05, 0.05], [0.4, 0.35, 0.25], [0.5, 0.1, 0.4], [0.34, 0.33, 0.33]])
    rng = np.random.default_rng(0)
    rows, columns, propensity, picked = choose_proposals(proba, 2, 0.0, rng)
    assert rows[0] == 3 and rows[1] != 3 and columns.tolist() == [0, proba[rows[1]].argmax()]
    assert propensity.tolist() == [1.0, 1.0] and picked.tolist() == [True, False]
    wide = np.random.default_rng(1).dirichlet(np.ones(4), size=300)
    ranked = np.sort(wide, axis=1)
    closest = np.argsort(ranked[:, -1] - ranked[:, -2], kind="stable")
    order, _, _, picked = choose_proposals(wide, None, 0.0, rng)
    assert sorted(order.tolist()) == list(range(300))  # every text once
    assert picked[0::2].all() and not picked[1::2].any()  # the closest calls are marked as such
    for size in (10, 60, 300):  # any prefix: half closest calls, the rest random
        assert set(closest[: size // 2]) <= set(order[:size].tolist())
    assert np.isin(order[1:60:2], closest[:30]).mean() < 0.4  # the other half is drawn, not the closest calls
    assert random_rows(4, None, rng).tolist() == [0, 1, 2, 3]
    many = np.repeat(proba, 500, axis=0)
    columns, propensity = choose_labels(many, 0.3, rng)
    top = many.argmax(1)
    shown_top = columns == top
    assert abs(shown_top.mean() - (0.7 + 0.3 / 3)) < 0.03  # the top label, or a uniform draw that hits it
    np.testing.assert_allclose(propensity[shown_top], 0.7 + 0.1)
    np.testing.assert_allclose(propensity[~shown_top], 0.1)


def test_unknown_entries_take_the_starts_belief_given_the_verdicts():
    unknown = -100.0
    targets = np.array([[1, 0, 0], [unknown, 0, unknown], [0, 0, 0], [unknown, unknown, unknown]], dtype=np.float32)
    start = np.array([[0.2, 0.7, 0.1], [0.2, 0.6, 0.2], [0.5, 0.3, 0.2], [0.1, 0.3, 0.6]])
    single = fill_unknown(targets, start, single_label=True, unknown=unknown)
    np.testing.assert_allclose(single[0], [1, 0, 0])  # a settled row stays as the verdicts say
    np.testing.assert_allclose(single[1], [0.5, 0, 0.5])  # "not politics": the start's odds of the rest
    np.testing.assert_allclose(single[2], [0, 0, 0])  # every label judged wrong: nothing to fill
    np.testing.assert_allclose(single[3], start[3], rtol=1e-6)
    multi = fill_unknown(targets, start, single_label=False, unknown=unknown)
    np.testing.assert_allclose(multi[1], [0.2, 0, 0.2], rtol=1e-6)  # each label on its own


def test_the_starts_belief_weighs_a_fixed_number_of_texts():
    unknown = -100.0
    targets = np.full((200, 3), unknown, dtype=np.float32)
    targets[:, 0] = 1
    weights = fill_weights(targets, unknown, prior_texts=50)
    np.testing.assert_allclose(weights[:, 0], 1.0)  # a verdict always counts fully
    np.testing.assert_allclose(weights[:, 1:], 0.25)  # 50 texts' worth spread over 200
    np.testing.assert_allclose(weights[:, 1:].sum() / 2, 50)
    small = fill_weights(targets[:30], unknown, prior_texts=50)
    np.testing.assert_allclose(small, 1.0)  # a short log: the belief counts as much as a verdict
