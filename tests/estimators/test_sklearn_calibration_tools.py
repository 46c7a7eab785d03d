"""scikit-learn's calibration and threshold tools around both estimators, on real MiniLM and BBC openings."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.metrics import f1_score, make_scorer
from sklearn.model_selection import FixedThresholdClassifier, TunedThresholdClassifierCV, cross_val_predict

from skgliclass import GLiClassifier, GLiClassZeroShot
from skgliclass.datasets import load_bbc_news

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def binary():
    texts, labels = load_bbc_news(n_per_class=30, random_state=6, max_chars=300)
    keep = np.random.default_rng(0).permutation([i for i, y in enumerate(labels) if y in ("politics", "sports")])
    return np.array([texts[i] for i in keep], dtype=object), np.array([labels[i] for i in keep])


def _fast(**kwargs):
    return GLiClassifier(epochs=1, max_length=64, batch_size=8, random_state=0, **kwargs)


def test_calibrated_classifier_cv_wraps_the_few_shot_classifier(binary):
    texts, labels = binary
    train, test = slice(0, 24), slice(24, None)
    calibrated = CalibratedClassifierCV(_fast(), cv=3).fit(texts[train], labels[train])
    proba = calibrated.predict_proba(texts[test])
    assert proba.shape == (len(labels[test]), 2) and np.allclose(proba.sum(1), 1)
    assert (calibrated.predict(texts[test]) == labels[test]).mean() >= 0.8


def test_cross_val_predict_gives_out_of_fold_probabilities(binary):
    texts, labels = binary
    proba = cross_val_predict(_fast(), texts[:36], labels[:36], cv=3, method="predict_proba")
    assert proba.shape == (36, 2) and np.allclose(proba.sum(1), 1)
    assert (np.array(["politics", "sports"])[proba.argmax(1)] == labels[:36]).mean() >= 0.8


def test_zero_shot_with_a_temperature_inside_calibrated_classifier_cv(binary):
    texts, labels = binary
    calibrated = CalibratedClassifierCV(GLiClassZeroShot(labels=["politics", "sports"]), cv=3)
    calibrated.fit(texts[:30], labels[:30])
    assert (calibrated.predict(texts[30:]) == labels[30:]).mean() >= 0.85


def test_fixed_and_tuned_thresholds_decide_on_the_positive_probability(binary):
    texts, labels = binary
    train, test = slice(0, 30), slice(30, None)
    fixed = FixedThresholdClassifier(_fast(), threshold=0.9, pos_label="sports", response_method="predict_proba")
    fixed.fit(texts[train], labels[train])
    sport = fixed.estimator_.predict_proba(texts[test])[:, list(fixed.classes_).index("sports")]
    np.testing.assert_array_equal(fixed.predict(texts[test]) == "sports", sport >= 0.9)
    scorer = make_scorer(f1_score, pos_label="sports")
    tuned = TunedThresholdClassifierCV(_fast(), scoring=scorer, cv=3).fit(texts[train], labels[train])
    assert 0.0 < tuned.best_threshold_ < 1.0
    assert f1_score(labels[test], tuned.predict(texts[test]), pos_label="sports") >= 0.8
