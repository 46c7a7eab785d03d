"""GLiClassifier.fit(X, feedback=log): learning from reviewers' verdicts, and propose() to collect them."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from _tiny_texts import X, Y

from skgliclass import GLiClassifier, feedback
from skgliclass.estimators.classifier import HELD_OUT_VERDICTS, RATER_HELD_OUT_TEXTS, feedback_held_out
from skgliclass.losses import focal_loss
from skgliclass.training import guard, supervised
from skgliclass.training.guard import FEEDBACK_KEEP, FEEDBACK_Z, calibrated_nll, clear_gain, right_bound

CLASSES = ["politics", "sport", "tech"]


@pytest.fixture(scope="module")
def encoder(tiny_encoder_dir):
    return str(tiny_encoder_dir("bert"))


def _clf(encoder, **kwargs):
    params = dict(
        model=encoder,
        labels=CLASSES,
        label_descriptions={c: c for c in CLASSES},  # bare names: the tiny random encoder reads little else
        epochs=6,
        batch_size=4,
        learning_rate=5e-3,
        encoder_learning_rate=5e-4,
        train_precision="fp32",
        early_stopping=False,
        calibration=None,  # feedback fits are not mapped: fits from labels compared with them are not either
        random_state=0,
    )
    return GLiClassifier(**{**params, **kwargs})


def test_right_verdicts_on_every_text_train_exactly_as_labels_do(encoder):
    from_labels = _clf(encoder, method="focal", average_fits=1).fit(X, Y).predict_proba(X)  # feedback: one run
    log = {"label": Y, "verdict": [1] * len(X)}
    from_verdicts = _clf(encoder).fit(X, feedback=log)
    assert from_verdicts.method_ == "focal" and not from_verdicts.multilabel_
    np.testing.assert_allclose(from_verdicts.predict_proba(X), from_labels, atol=1e-6)


def test_fit_learns_what_the_reviewer_said(encoder):
    rng = np.random.default_rng(0)
    shown = [y if i % 3 else rng.choice([c for c in CLASSES if c != y]) for i, y in enumerate(Y)]
    verdict = [int(s == y) for s, y in zip(shown, Y, strict=True)]
    clf = _clf(encoder, epochs=30).fit(X, feedback={"label": shown, "verdict": verdict})
    predicted = clf.predict(X)
    right = np.array(verdict, dtype=bool)
    assert (predicted[right] == np.array(Y)[right]).all()  # every label judged right is learnt
    assert (predicted[~right] != np.array(shown)[~right]).all()  # and no label judged wrong is kept
    assert clf.history_["train_score"][-1] == pytest.approx(right.mean())  # a row with no right label never scores


def test_random_proposals_score_only_the_texts_drawn(encoder, monkeypatch):
    clf = _clf(encoder, epochs=1).fit(X, Y)
    whole = clf.predict_proba(X)
    scored = []
    original = GLiClassifier.predict_proba
    monkeypatch.setattr(
        GLiClassifier, "predict_proba", lambda self, texts: scored.append(len(texts)) or original(self, texts)
    )
    log = clf.propose(X, n=3, exploration=0.5, random_state=0)
    assert scored == [3]  # three texts scored, not the pool
    # the same proposals as a draw over the whole pool's scores with the same seed
    seed = np.random.RandomState(0).randint(np.iinfo(np.int32).max)
    rng = np.random.default_rng(seed)
    rows = feedback.random_rows(len(whole), 3, rng)
    columns, propensity = feedback.choose_labels(whole[rows], 0.5, rng)
    assert log["text"] == [X[i] for i in rows] and log["label"] == [CLASSES[j] for j in columns]
    np.testing.assert_allclose(log["score"], whole[rows, columns], atol=1e-6)
    np.testing.assert_allclose(log["propensity"], propensity)


def test_propose_then_fit_on_the_filled_log_with_a_warm_start(encoder):
    clf = _clf(encoder, epochs=2).fit(X, Y)
    log = clf.propose(X, n=6, strategy="uncertainty", exploration=0.5, random_state=0)
    assert len(log["text"]) == 6 and set(log) == {"text", "label", "score", "propensity", "pick", "verdict"}
    assert log["pick"] == ["closest", "random"] * 3
    assert all(0 < p <= 1 for p in log["propensity"]) and all(0 <= s <= 1 for s in log["score"])
    truth = dict(zip(X, Y, strict=True))
    log["verdict"] = [int(truth[t] == label) for t, label in zip(log["text"], log["label"], strict=True)]
    model = clf.model_
    clf.set_params(warm_start=True, early_stopping="auto").fit(None, feedback=log)
    assert clf.model_ is model  # continued from the current model
    assert "start_validation_loss" in clf.history_ and clf.history_["best_epoch"][0] in range(3)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(again.predict_proba(X), clf.predict_proba(X), atol=1e-6)


def test_the_starts_belief_fades_as_verdicts_outnumber_it(encoder, monkeypatch):
    seen = []

    def spy(logits, targets, **kwargs):
        seen.append((targets.clone(), kwargs["weights"].clone()))
        return focal_loss(logits, targets, **kwargs)

    monkeypatch.setattr(supervised, "focal_loss", spy)
    monkeypatch.setattr(feedback, "START_BELIEF_TEXTS", 3)
    log = {"label": Y, "verdict": [1, 0] * 6}  # six texts with a right label, six with one label ruled out
    _clf(encoder, epochs=1).fit(X, feedback=log)
    targets, weights = torch.cat([t for t, _ in seen]), torch.cat([w for _, w in seen])
    judged = (targets == 0) | (targets == 1)
    assert len(targets) == len(X) and (weights[judged] == 1).all()  # every verdict counts fully
    filled = ~judged  # two labels on each of the six texts without a right one
    assert int(filled.sum()) == 12 and torch.allclose(weights[filled], torch.tensor(3 / len(X)))


def test_the_start_is_kept_when_no_epoch_lowers_the_held_out_loss(encoder, monkeypatch):
    clf = _clf(encoder, epochs=3).fit(X, Y)
    before = clf.predict_proba(X)
    losses = iter([0.1, 0.5, 0.6])  # the start, then two epochs that do worse on the held-out verdicts
    monkeypatch.setattr(supervised, "evaluate", lambda *args: (next(losses), 0.0, None, None))
    log = {"label": Y, "verdict": [0] * len(X)}
    clf.set_params(warm_start=True, early_stopping="auto", epochs=2).fit(X, feedback=log)
    assert clf.history_["start_validation_loss"] == [0.1] and clf.history_["validation_loss"] == [0.5, 0.6]
    assert clf.history_["best_epoch"] == [0.0]
    np.testing.assert_allclose(clf.predict_proba(X), before, atol=1e-6)  # the weights it started from


def test_the_guard_compares_epochs_at_their_own_temperature(encoder, monkeypatch):
    seen = []

    def spy(logits, targets, multilabel, weights):
        mean, rows = calibrated_nll(logits, targets, multilabel, weights)
        kept = right_bound(logits, targets)
        seen.append((logits.shape, targets.copy(), multilabel, rows * weights / weights.mean(), kept))
        return mean, rows

    monkeypatch.setattr(guard, "calibrated_nll", spy)
    log = {"label": Y, "verdict": [1, 0] * 6}
    clf = _clf(encoder, epochs=2, early_stopping="auto").fit(X, feedback=log)
    assert len(seen) == 3 and not seen[0][2]  # the start and two epochs, single-label
    shape, targets, _, _, _ = seen[0]
    assert shape[0] >= 3 and shape[1] == 3  # a quarter of a small log at least (10% would be one text)
    assert set(np.unique(targets)) <= {0, 1, -100}  # the held-out verdicts, never filled
    losses = [clf.history_["start_validation_loss"][0], *clf.history_["validation_loss"]]
    # an epoch is kept only when it lowers the loss, beats the start by two standard errors, row by row (rows
    # weighted so that every class weighs the same), and keeps nine in ten as many texts right as the start
    # (a lower bound: texts moved off a label judged wrong count as guesses)
    clear = [
        e
        for e in (1, 2)
        if losses[e] < losses[0]
        and clear_gain(seen[0][3], seen[e][3], z=FEEDBACK_Z)
        and seen[e][4] >= FEEDBACK_KEEP * seen[0][4]
    ]
    expected = min(clear, key=lambda e: losses[e]) if clear else 0
    assert all(np.isfinite(losses)) and clf.history_["best_epoch"][0] == expected


@pytest.mark.parametrize(
    ("n_texts", "held"),
    [(12, 3), (60, 15), (120, 20), (400, 40), (1000, 100)],  # 10%, at least 20 or a quarter of a smaller log
)
def test_feedback_fits_hold_out_enough_verdicts_to_judge_a_gain(n_texts, held):
    assert round(feedback_held_out(n_texts, 0.1, HELD_OUT_VERDICTS) * n_texts) == held


@pytest.mark.parametrize(
    ("n_texts", "held"),
    [(40, 10), (80, 20), (200, 50), (400, 50), (1000, 100)],  # a quarter up to 50: the same as a log up to 80 texts
)
def test_a_raters_fit_holds_out_more_texts_than_a_log(n_texts, held):
    assert round(feedback_held_out(n_texts, 0.1, RATER_HELD_OUT_TEXTS) * n_texts) == held


def test_the_guard_judges_on_the_held_out_verdicts_alone(encoder, monkeypatch):
    shapes = []

    def spy(logits, targets, multilabel, weights):
        shapes.append(logits.shape[0])
        return calibrated_nll(logits, targets, multilabel, weights)

    monkeypatch.setattr(guard, "calibrated_nll", spy)
    texts = [f"{text} {i}" for i in range(10) for text in X]  # 120 verdicts: 10% would hold out 12
    log = {"label": Y * 10, "verdict": [1, 0] * 60}
    _clf(encoder, epochs=1, early_stopping="auto").fit(texts, feedback=log)
    # the start and one epoch, each judged on the same 20 held-out verdicts (give or take the per-class rounding)
    assert len(shapes) == 2 and shapes[0] == shapes[1] and abs(shapes[0] - 20) <= 2


@pytest.mark.parametrize(
    ("kwargs", "fit", "match"),
    [
        ({}, {"y": Y, "feedback": {"label": Y, "verdict": [1] * 12}}, "y or feedback, not both"),
        ({"method": "softmax"}, {"feedback": {"label": Y, "verdict": [1] * 12}}, "per-pair \\(focal\\) loss"),
        ({"method": "ppo"}, {"feedback": {"label": Y, "verdict": [1] * 12}}, "per-pair \\(focal\\) loss"),
        (
            {"labels": ["sport", "tech"], "label_descriptions": None},
            {"feedback": {"label": Y, "verdict": [1] * 12}},
            "not classes",
        ),
        ({"labels": None}, {"feedback": {"label": ["sport"] * 12, "verdict": [1] * 12}}, "names one class"),
    ],
)
def test_feedback_errors_name_the_problem(encoder, kwargs, fit, match):
    with pytest.raises(ValueError, match=match):
        _clf(encoder, **kwargs).fit(X, **fit)
