"""Calibrated estimators: the map fitted at fit, applied everywhere scores are read, kept by every format."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import skops.io as sio
from _tiny_texts import X, Y, tiny_classifier

import skgliclass
from skgliclass import GLiClassifier, GLiClassZeroShot
from skgliclass.adaptation import leave_one_out_logits, read_texts


@pytest.fixture(scope="module")
def encoder(tiny_encoder_dir):
    return str(tiny_encoder_dir("bert"))


def _clf(encoder, **kwargs):
    return tiny_classifier(encoder, **{"epochs": 3, **kwargs})


@pytest.mark.parametrize("kind", ["temperature", "label-bias", "per-label"])
def test_classifier_maps_every_score_it_returns(encoder, kind):
    clf = _clf(encoder, calibration=kind).fit(X, Y)
    assert clf.calibration_["kind"] == kind and clf.calibration_["scale"].shape == (3,)
    raw = clf._raw_logits(X)
    expected = raw * clf.calibration_["scale"] + clf.calibration_["bias"]
    np.testing.assert_allclose(clf.decision_function(X), expected, rtol=1e-6)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba, np.exp(expected) / np.exp(expected).sum(1, keepdims=True), rtol=1e-6)
    if kind != "per-label":  # one scale for all
        assert np.allclose(clf.calibration_["scale"], clf.calibration_["scale"][0])
    if kind == "temperature":  # and no bias: each text's ranking is the model's
        assert (clf.predict(X) == clf.classes_[raw.argmax(1)]).all()


def test_auto_maps_small_single_label_sets_and_where_held_out_scores_come_free(encoder, monkeypatch):
    from skgliclass.estimators import classifier

    auto = {"calibration": "auto"}
    small = _clf(encoder, **auto).fit(X, Y)  # twelve short texts: cross-fitted for a temperature
    assert small.calibration_["kind"] == "temperature" and small.calibration_["scale"][0] != 1.0
    assert (small.predict(X) == small.classes_[small._raw_logits(X).argmax(1)]).all()  # no prediction changes
    assert _clf(encoder, **auto, multi_label=True).fit(X, [[y] for y in Y]).calibration_ is None
    monkeypatch.setattr(classifier, "AUTO_CALIBRATION_MAX_TOKENS", 10)  # a training set over the budget
    assert _clf(encoder, **auto).fit(X, Y).calibration_ is None  # no cross-fitting, no held-out share: no map
    assert _clf(encoder, **auto, embedding_head="auto").fit(X, Y).calibration_["kind"] == "temperature"
    assert _clf(encoder, **auto, early_stopping=True, validation_fraction=0.25).fit(X, Y).calibration_ is not None
    assert _clf(encoder, calibration=None, embedding_head="auto").fit(X, Y).calibration_ is None


def test_the_map_is_learnt_on_texts_the_scored_model_did_not_see(encoder, monkeypatch):
    seen = {}
    original = GLiClassifier._fit_calibration

    def spy(self, logits, targets):
        seen["logits"] = logits
        return original(self, logits, targets)

    monkeypatch.setattr(GLiClassifier, "_fit_calibration", spy)
    clf = _clf(encoder, calibration="temperature").fit(X, Y)
    assert not np.allclose(seen["logits"], clf._raw_logits(X))  # out-of-fold, not the final model's own
    stopped = _clf(encoder, calibration="temperature", early_stopping=True, validation_fraction=0.25).fit(X, Y)
    assert len(seen["logits"]) == 3 and stopped.calibration_ is not None  # the held-out share, one per class


def test_calibration_and_thresholds_survive_pickle_and_skops(encoder, tmp_path):
    ml = [["sport"], ["sport", "tech"], ["sport"], ["sport"], ["politics"], ["politics", "tech"], ["politics"]]
    ml += [["politics"], ["tech"], ["tech"], ["tech", "sport"], ["tech"]]
    clf = _clf(encoder, threshold="auto", calibration="auto").fit(X, ml)
    assert clf.thresholds_.shape == (3,) and ((clf.thresholds_ > 0) & (clf.thresholds_ < 1)).all()
    np.testing.assert_array_equal(clf.predict(X), (clf.predict_proba(X) >= clf.thresholds_).astype(int))
    expected = clf.predict_proba(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X), expected)
    sio.dump(clf, tmp_path / "m.skops")
    loaded = sio.load(tmp_path / "m.skops", trusted=skgliclass.TRUSTED_TYPES)
    np.testing.assert_allclose(loaded.predict_proba(X), expected, rtol=1e-6)
    np.testing.assert_array_equal(loaded.thresholds_, clf.thresholds_)
    assert loaded.calibration_["kind"] == "temperature"


def test_learnt_thresholds_need_labels_and_a_fit(encoder):
    clf = _clf(encoder, multi_label=True).fit(X, [[y] for y in Y])
    clf.threshold = "auto"  # set after a fit that learnt none
    with pytest.raises(ValueError, match="threshold='auto' learns one threshold per label"):
        clf.predict(X)
    with pytest.raises(ValueError, match="labelled texts"):
        GLiClassZeroShot(labels=["sport", "politics"], multi_label=True, threshold="auto").fit()
    with pytest.raises(ValueError, match="calibration=.isotonic. is not valid"):
        _clf(encoder, calibration="isotonic").fit(X, Y)
    with pytest.raises(ValueError, match="threshold must be a number"):
        _clf(encoder, multi_label=True, threshold="high").fit(X, [[y] for y in Y])


def test_zero_shot_learns_a_map_from_labelled_texts_only():
    texts = [
        "The striker scored twice.",
        "The senate passed the bill.",
        "A late goal won it.",
        "Voters went to the polls.",
    ]
    labels = ["sport", "politics", "sport", "politics"]
    assert GLiClassZeroShot(labels=["sport", "politics"]).fit(texts).calibration_ is None
    assert GLiClassZeroShot(labels=["sport", "politics"]).fit().calibration_ is None
    clf = GLiClassZeroShot(labels=["sport", "politics"]).fit(texts, labels)
    assert clf.calibration_["kind"] == "temperature" and clf.calibration_["scale"][0] > 1  # right, and unsure
    plain = GLiClassZeroShot(labels=["sport", "politics"], calibration=None).fit(texts, labels)
    assert (clf.predict(texts) == plain.predict(texts)).all()
    assert (clf.predict_proba(texts).max(1) > plain.predict_proba(texts).max(1)).all()


def test_leaving_a_text_out_of_adapting_scores_it_as_a_refit_without_it_would():
    texts = ["The striker scored twice.", "The senate passed the bill.", "A late goal won it.", "The minister quit."]
    for multi in (False, True):
        clf = GLiClassZeroShot(labels=["sport", "politics"], multi_label=multi, calibration=None).fit(texts)
        reading = read_texts(clf.model_, clf._builder, texts, clf._label_texts(), device=clf.device_)
        loo = leave_one_out_logits(reading, clf.model_.model.logit_scale.item(), offsets=multi)
        for i in (0, 3):
            others = GLiClassZeroShot(labels=["sport", "politics"], multi_label=multi, calibration=None)
            refit = others.fit(texts[:i] + texts[i + 1 :])._raw_logits([texts[i]])[0]
            np.testing.assert_allclose(loo[i], refit, atol=1e-5)


def test_fine_tuned_scores_weigh_the_models_scale_lightly_zero_shot_scores_fully(encoder, monkeypatch):
    from skgliclass.calibration import FINE_TUNED_SCALE_PRIOR, SCALE_PRIOR
    from skgliclass.estimators import _base

    priors = []
    original = _base.fit_calibration

    def spy(logits, Y, multilabel, kind="temperature", scale_prior=None):
        priors.append(scale_prior)
        return original(logits, Y, multilabel, kind, scale_prior)

    monkeypatch.setattr(_base, "fit_calibration", spy)
    _clf(encoder, calibration="temperature").fit(X, Y)
    GLiClassZeroShot(model=encoder, calibration="temperature").fit(X, Y)
    assert priors == [FINE_TUNED_SCALE_PRIOR, None]
    assert SCALE_PRIOR > FINE_TUNED_SCALE_PRIOR


def test_the_cross_fitted_map_leaves_the_fitted_model_as_a_fit_without_it(encoder):
    plain = _clf(encoder, calibration=None).fit(X, Y)
    mapped = _clf(encoder, calibration="auto").fit(X, Y)
    assert mapped.calibration_ is not None
    np.testing.assert_allclose(mapped._raw_logits(X), plain._raw_logits(X), rtol=1e-5, atol=1e-6)
