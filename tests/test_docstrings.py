"""The examples in public docstrings run and print what they say (those not marked +SKIP)."""

from __future__ import annotations

import doctest

import pytest

import skgliclass
from skgliclass.dask import predict_proba as dask_predict_proba
from skgliclass.datasets import load_bbc_news
from skgliclass.estimators._base import GLiClassEstimator
from skgliclass.feedback import FeedbackLog, feedback_targets, read_feedback
from skgliclass.quantize import Int8Linear, quantized_copy

PUBLIC = [
    skgliclass.GLiClassifier,
    skgliclass.GLiClassZeroShot,
    skgliclass.GLiClassConfig,
    skgliclass.TruncationWarning,
]
PUBLIC += [GLiClassEstimator, skgliclass.clear_cache, load_bbc_news]  # the base holds predict, predict_proba, ...
PUBLIC += [Int8Linear, quantized_copy, dask_predict_proba, FeedbackLog, read_feedback, feedback_targets]


@pytest.mark.parametrize("obj", PUBLIC, ids=lambda o: o.__name__)
def test_docstring_examples(obj):
    # module=False: the estimators claim ``skgliclass`` as their module, which the default check rejects.
    tests = doctest.DocTestFinder().find(obj, obj.__name__, module=False, globs={})
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0 and result.failed == 0
