"""scikit-learn's own estimator checks, run on a numeric adapter (its checks skip text-only estimators)."""

from __future__ import annotations

import tempfile
from typing import Any

import numpy as np
import torch
from sklearn.utils.estimator_checks import parametrize_with_checks
from transformers import AutoModel

from _reference import _tiny_encoder_config, minilm_tokenizer
from skgliclass import GLiClassifier


def _tiny_encoder() -> str:
    folder = tempfile.mkdtemp(prefix="skgliclass-checks-")
    tokenizer = minilm_tokenizer()
    torch.manual_seed(0)
    AutoModel.from_config(_tiny_encoder_config("bert", tokenizer)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def _as_texts(X: Any) -> list[str]:
    """Each numeric row written as words, so the text model sees the numbers."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"Expected 2D array, got {X.ndim}D array instead.")
    return [" ".join(f"{v:.1f}" for v in row) for row in X]


class NumericGLiClassifier(GLiClassifier):
    """GLiClassifier on numeric rows, only so scikit-learn's generic checks can exercise it."""

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.string = False
        tags.input_tags.two_d_array = True
        return tags

    def fit(self, X: Any, y: Any) -> NumericGLiClassifier:
        from sklearn.utils.validation import validate_data

        X, y = validate_data(self, X, y, multi_output=True)
        return super().fit(_as_texts(X), y)

    def _logits(self, X: Any) -> np.ndarray:
        from sklearn.utils.validation import check_is_fitted, validate_data

        check_is_fitted(self)
        return super()._logits(_as_texts(validate_data(self, X, reset=False)))


# Checks that cannot hold for a text model, each with the reason.
EXPECTED_FAILURES = {
    "check_classifiers_train": "one epoch on a tiny random text encoder does not reach the accuracy the check asks",
    "check_sample_weight_equivalence_on_dense_data": "sample_weight is not supported",
    "check_supervised_y_2d": "a (n, 1) y is an indicator matrix here (multi-label), not a column vector",
    "check_methods_subset_invariance": "rows scored in other batches differ by float rounding (~1e-7), not exactly",
}


@parametrize_with_checks(
    [NumericGLiClassifier(model=_tiny_encoder(), epochs=1, batch_size=32, max_length=48, random_state=0)],
    expected_failed_checks=lambda est: EXPECTED_FAILURES,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
