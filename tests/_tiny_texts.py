"""Twelve short texts of three topics, and the classifier the estimator tests train on them with a tiny encoder."""

from __future__ import annotations

from skgliclass import GLiClassifier

SPORT = ["the team won the cup", "a late goal in the match", "the striker scored twice", "the coach praised the team"]
POLITICS = ["the senate passed the bill", "the minister resigned", "voters went to the polls", "parliament debated"]
TECH = ["a new phone chip", "software update for laptops", "the app crashed", "faster computer processors"]
X = SPORT + POLITICS + TECH
Y = ["sport"] * 4 + ["politics"] * 4 + ["tech"] * 4
PLAIN = {c: c for c in Y}  # bare names: the tiny random encoder cannot tell templated sentences apart


def tiny_classifier(encoder: str, **kwargs) -> GLiClassifier:
    """A ``GLiClassifier`` on ``encoder`` that learns these texts in a few epochs; ``kwargs`` override."""
    params = dict(
        model=encoder,
        epochs=6,
        batch_size=4,
        learning_rate=5e-3,
        encoder_learning_rate=5e-4,
        random_state=0,
        label_descriptions=PLAIN,
        train_precision="fp32",
        average_fits=1,  # one run: the tests follow a single fit's epochs (tests/test_averaging.py covers more)
        calibration=None,  # no cross-fitting either (tests/estimators/test_calibration_fit.py covers "auto")
    )
    return GLiClassifier(**{**params, **kwargs})
