"""precision="int8": a quantized copy for prediction on the CPU; the fitted fp32 model stays as it is."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from skgliclass import GLiClassZeroShot

TEXTS = ["the team won the cup", "the senate passed the bill", "a new phone chip", "rain in the city"]
LABELS = ["sport", "politics", "tech"]


@pytest.fixture(scope="module")
def fitted(reference_checkpoint):
    folder = str(reference_checkpoint(architecture="uni-encoder", backbone="bert"))
    return GLiClassZeroShot(model=folder, labels=LABELS, multi_label=True).fit()


def _kinds(model) -> set[str]:
    return {f"{type(m).__module__}.{type(m).__name__}" for m in model.modules() if type(m).__name__ == "Linear"}


def test_int8_predicts_close_to_fp32_and_leaves_the_model_alone(fitted):
    fp32 = fitted.set_params(precision="fp32").predict_proba(TEXTS)
    int8 = fitted.set_params(precision="int8").predict_proba(TEXTS)
    assert _kinds(fitted.model_) == {"torch.nn.modules.linear.Linear"}
    assert _kinds(fitted._quantized) == {"torch.ao.nn.quantized.dynamic.modules.linear.Linear"}
    assert not np.array_equal(int8, fp32) and np.abs(int8 - fp32).max() < 0.05
    np.testing.assert_array_equal(fitted.set_params(precision="fp32").predict_proba(TEXTS), fp32)


def test_int8_estimator_pickles_without_its_quantized_copy(fitted):
    fitted.set_params(precision="int8")
    expected = fitted.predict_proba(TEXTS)
    state = fitted.__getstate__()
    assert "_quantized" not in state
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.predict_proba(TEXTS), expected)
    fitted.set_params(precision="fp32")


def test_unknown_precision_is_named():
    with pytest.raises(ValueError, match="precision='int4'"):
        GLiClassZeroShot(labels=LABELS, precision="int4").fit()
