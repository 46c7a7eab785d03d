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
    keep = [i for i, y in enumerate(labels) if y in ("politics", "sport")]
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
    proba = cross_val_predict(
        GLiClassZeroShot(labels=["politics", "sport"]), texts, labels, cv=3, method="predict_proba"
    )
    assert proba.shape == (len(labels), 2)
    assert (np.array(["politics", "sport"])[proba.argmax(1)] == labels).mean() >= 0.85


def test_fixed_and_tuned_thresholds_decide_on_the_positive_probability(binary):
    texts, labels = binary
    train, test = slice(0, 30), slice(30, None)
    fixed = FixedThresholdClassifier(_fast(), threshold=0.9, pos_label="sport", response_method="predict_proba")
    fixed.fit(texts[train], labels[train])
    sport = fixed.estimator_.predict_proba(texts[test])[:, list(fixed.classes_).index("sport")]
    np.testing.assert_array_equal(fixed.predict(texts[test]) == "sport", sport >= 0.9)
    scorer = make_scorer(f1_score, pos_label="sport")
    tuned = TunedThresholdClassifierCV(GLiClassZeroShot(labels=["politics", "sport"]), scoring=scorer, cv=3)
    tuned.fit(texts[train], labels[train])
    assert 0.0 < tuned.best_threshold_ < 1.0
    assert f1_score(labels[test], tuned.predict(texts[test]), pos_label="sport") >= 0.8
