"""Calibration maps, calibration error and learnt thresholds: recovered from data whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit, softmax

from skgliclass.calibration import (
    FINE_TUNED_SCALE_PRIOR,
    apply_calibration,
    expected_calibration_error,
    fit_calibration,
    fit_thresholds,
)


def _single_label(scale: float, n: int = 4000, classes: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 2, (n, classes))
    p = softmax(scale * logits, axis=1)
    y = (p.cumsum(1) > rng.random((n, 1))).argmax(1)
    return logits, np.eye(classes, dtype=int)[y]


def test_temperature_recovers_the_scale_that_made_the_labels():
    for scale in (0.4, 2.5):
        logits, Y = _single_label(scale)
        fitted = fit_calibration(logits, Y, multilabel=False)
        assert fitted["kind"] == "temperature" and np.allclose(fitted["bias"], 0.0)
        assert np.allclose(fitted["scale"], scale, rtol=0.1), fitted["scale"]


def test_temperature_keeps_each_rows_ranking_and_none_is_the_identity():
    logits, Y = _single_label(0.4)
    mapped = apply_calibration(logits, fit_calibration(logits, Y, multilabel=False))
    assert (np.argsort(mapped, 1) == np.argsort(logits, 1)).all()
    assert apply_calibration(logits, None) is logits


def test_scale_prior_pulls_a_few_texts_temperature_towards_the_models_own_scale():
    logits, Y = _single_label(0.3, n=24, seed=4)  # 24 texts of an over-confident model
    free = fit_calibration(logits, Y, multilabel=False, scale_prior=0.0)["scale"][0]
    light = fit_calibration(logits, Y, multilabel=False, scale_prior=FINE_TUNED_SCALE_PRIOR)["scale"][0]
    heavy = fit_calibration(logits, Y, multilabel=False)["scale"][0]  # SCALE_PRIOR
    assert free < light < heavy < 1.0, (free, light, heavy)
    assert np.log(heavy) / np.log(free) < 0.8  # the default prior holds it well back from the free fit
    assert fit_calibration(logits, Y, multilabel=False, scale_prior=1e9)["scale"][0] == pytest.approx(1.0, abs=1e-3)
    with pytest.raises(ValueError, match="scale_prior must be >= 0"):
        fit_calibration(logits, Y, multilabel=False, scale_prior=-1.0)


def test_multi_label_temperature_recovers_scale_and_shared_bias():
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 1.5, (3000, 5))
    Y = (rng.random(logits.shape) < expit(2.0 * logits - 1.0)).astype(int)
    fitted = fit_calibration(logits, Y, multilabel=True)
    assert np.allclose(fitted["scale"], 2.0, rtol=0.1) and np.allclose(fitted["bias"], -1.0, atol=0.15)


def test_per_label_map_finds_each_classes_bias_and_keeps_an_unseen_class_near_the_shared_map():
    rng = np.random.default_rng(2)
    logits = rng.normal(0, 1.0, (3000, 3))
    shift = np.array([1.5, 0.0, -1.5])
    p = softmax(logits + shift, axis=1)
    y = (p.cumsum(1) > rng.random((len(p), 1))).argmax(1)
    fitted = fit_calibration(logits, np.eye(3, dtype=int)[y], multilabel=False, kind="per-label")
    bias = fitted["bias"] - fitted["bias"].mean()  # a softmax reads biases up to a constant
    assert np.allclose(bias, shift, atol=0.2), bias
    # A multi-label class no text has: its prior keeps it at the shared map instead of pushing it to -inf.
    Y = (rng.random(logits.shape) < expit(logits)).astype(int)
    Y[:, 2] = 0
    fitted = fit_calibration(logits[:40], Y[:40], multilabel=True, kind="per-label")
    assert fitted["bias"][2] > -8.0


def test_label_bias_map_finds_one_scale_and_each_classes_bias():
    rng = np.random.default_rng(3)
    logits = rng.normal(0, 1.5, (4000, 3))
    shift = np.array([1.0, 0.0, -1.0])
    p = softmax(0.5 * logits + shift, axis=1)  # under-confident scores that favour the first label
    y = (p.cumsum(1) > rng.random((len(p), 1))).argmax(1)
    fitted = fit_calibration(logits, np.eye(3, dtype=int)[y], multilabel=False, kind="label-bias")
    assert fitted["kind"] == "label-bias" and np.ptp(fitted["scale"]) == 0.0
    assert np.allclose(fitted["scale"], 0.5, rtol=0.1), fitted["scale"]
    assert np.allclose(fitted["bias"] - fitted["bias"].mean(), shift, atol=0.15), fitted["bias"]
    # Few texts: the biases stay near zero instead of following a handful of draws.
    few = fit_calibration(logits[:6], np.eye(3, dtype=int)[y[:6]], multilabel=False, kind="label-bias")
    assert np.abs(few["bias"]).max() < 1.5


def test_calibration_error_is_small_for_calibrated_probabilities_and_large_for_confident_guesses():
    logits, Y = _single_label(1.0, n=20000)
    p = softmax(logits, axis=1)
    right = p.argmax(1) == Y.argmax(1)
    assert expected_calibration_error(p, right) < 0.015
    assert expected_calibration_error(np.full(len(right), 0.99), right) > 0.2
    assert expected_calibration_error([0.9, 0.9, 0.6, 0.6], [1, 1, 1, 0]) == pytest.approx(0.1)


def test_learnt_thresholds_separate_each_label_and_share_one_where_positives_are_few():
    proba = np.array([[0.9, 0.2, 0.6], [0.8, 0.7, 0.1], [0.3, 0.8, 0.2], [0.35, 0.9, 0.15], [0.7, 0.1, 0.3]])
    Y = np.array([[1, 0, 1], [1, 1, 0], [0, 1, 0], [0, 1, 0], [1, 0, 0]])
    thresholds = fit_thresholds(proba, Y, min_positives=3)
    assert 0.35 < thresholds[0] <= 0.7 and 0.2 < thresholds[1] <= 0.7  # each splits its own label
    assert 0.3 < thresholds[2] <= 0.6  # one positive: the shared threshold of the few-positive labels
    assert ((proba >= thresholds) == Y).all()


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="kind must be one of"):
        fit_calibration(np.zeros((2, 2)), np.eye(2), multilabel=False, kind="isotonic")
