"""Every row of the docs' "Errors and edge cases" table: bad input gives this error, awkward input works."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from skgliclass import GLiClassifier, GLiClassZeroShot

L = ["sport", "politics"]


@pytest.fixture(scope="module")
def folder(reference_checkpoint):
    return str(reference_checkpoint(architecture="uni-encoder", backbone="bert"))


@pytest.fixture(scope="module")
def zs(folder):
    return GLiClassZeroShot(model=folder, labels=L).fit()


def _zs(folder, **kw):
    return GLiClassZeroShot(**{"model": folder, "labels": L, **kw})


def _clf(folder, **kw):
    return GLiClassifier(**{"model": folder, "epochs": 1, **kw})


BAD = [
    ("X is None", lambda f, zs: zs.predict(None), ValueError, "X is None"),
    ("X is one string", lambda f, zs: zs.predict("a text"), TypeError, r"wrap it: \[X\]"),
    ("X is empty", lambda f, zs: zs.predict([]), ValueError, "X is empty"),
    ("a text is None", lambda f, zs: zs.predict(["a", None]), TypeError, r"X\[1\] is NoneType.*fillna"),
    ("a text is bytes", lambda f, zs: zs.predict([b"a"]), TypeError, r"X\[0\] is bytes.*decode"),
    ("X has two columns", lambda f, zs: zs.predict(np.array([["a", "b"]])), ValueError, r"1-D.*\(1, 2\)"),
    ("labels empty", lambda f, zs: _zs(f, labels=[]).fit(), ValueError, "labels is empty"),
    ("labels is a string", lambda f, zs: _zs(f, labels="sport").fit(), TypeError, "list of label names"),
    ("a blank label", lambda f, zs: _zs(f, labels=["a", " "]).fit(), ValueError, "non-empty strings"),
    ("duplicate labels", lambda f, zs: _zs(f, labels=["a", "a"]).fit(), ValueError, r"duplicates: \['a'\]"),
    ("a marker in a label", lambda f, zs: _zs(f, labels=["a<<SEP>>"]).fit(), ValueError, "reserved marker"),
    ("no labels and no y", lambda f, zs: _zs(f, labels=None).fit(), ValueError, r"needs labels=\[...\] or a y"),
    (
        "description of an unknown class",
        lambda f, zs: _zs(f, label_descriptions={"x": "y"}).fit(),
        ValueError,
        r"unknown classes \['x'\].*among the classes",
    ),
    ("descriptions not a dict", lambda f, zs: _zs(f, label_descriptions=["y"]).fit(), ValueError, "must be a dict"),
    ("threshold above 1", lambda f, zs: _zs(f, threshold=2.0, multi_label=True).fit(), ValueError, r"\[0, 1\]"),
    ("threshold NaN", lambda f, zs: _zs(f, threshold=np.nan, multi_label=True).fit(), ValueError, r"\[0, 1\]"),
    (
        "threshold of the wrong length",
        lambda f, zs: _zs(f, threshold=[0.5] * 3, multi_label=True).fit(),
        ValueError,
        "3 values for 2 classes",
    ),
    ("batch_size 0", lambda f, zs: _zs(f, batch_size=0).fit(), ValueError, "batch_size must be a positive int"),
    ("max_length too small", lambda f, zs: _zs(f, max_length=4).fit(), ValueError, "int >= 16"),
    ("unknown device", lambda f, zs: _zs(f, device="tpu").fit(), ValueError, "device='tpu' is not a device"),
    ("missing model folder", lambda f, zs: _zs(f, model="/no/such/model").fit(), ValueError, "no such folder"),
    ("bad multi_label", lambda f, zs: _zs(f, multi_label="yes").fit(), ValueError, "'auto', True or False"),
    ("unknown precision", lambda f, zs: _zs(f, precision="fp8").fit(), ValueError, "precision='fp8'"),
    ("unknown long_text", lambda f, zs: _zs(f, long_text="split").fit(), ValueError, "long_text='split'"),
    ("predict before fit", lambda f, zs: _zs(f).predict(["a"]), NotFittedError, "not fitted"),
    ("continuous y", lambda f, zs: _clf(f).fit(["a", "b"], [0.5, 1.5]), ValueError, "continuous"),
    ("X and y lengths differ", lambda f, zs: _clf(f).fit(["a", "b"], ["x"]), ValueError, "2 texts but y has 1"),
    ("2-D y with a 2", lambda f, zs: _clf(f).fit(["a", "b"], np.array([[2, 0], [0, 1]])), ValueError, "indicator"),
    (
        "-1 in a single-label y",
        lambda f, zs: _clf(f, multi_label=False).fit(["a", "b"], np.array([[1, -1], [0, 1]])),
        ValueError,
        "multi_label=True",
    ),
    ("one class, single-label", lambda f, zs: _clf(f).fit(["a", "b"], ["x", "x"]), ValueError, "holds one class"),
    ("typo in a choice", lambda f, zs: _clf(f, pooler="maen").fit(["a"], ["x"]), ValueError, "Did you mean 'mean'"),
    ("negative learning rate", lambda f, zs: _clf(f, learning_rate=-1.0).fit(["a"], ["x"]), ValueError, r"\(0.0"),
    ("no X in fit", lambda f, zs: _clf(f).fit(None, ["x"]), ValueError, "needs training texts X"),
]


@pytest.mark.parametrize(("case", "call", "error", "match"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_gets_a_clear_error(folder, zs, case, call, error, match):
    with pytest.raises(error, match=match):
        call(folder, zs)


def test_awkward_input_works(folder, zs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning either: none of these is long
        proba = zs.predict_proba(["", "   ", "\n\t", "🙂🚀 ünïcödé 中文", "[SEP] <<LABEL>>"])
    assert proba.shape == (5, 2) and np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-6)
    column = zs.predict_proba(np.array(["a text", "another"], dtype=object).reshape(-1, 1))
    np.testing.assert_allclose(column, zs.predict_proba(["a text", "another"]))
    many = _zs(folder, labels=[f"label {i}" for i in range(1000)], max_length=128, multi_label=True).fit()
    assert many.predict_proba(["a text"]).shape == (1, 1000)  # scored in chunks, none dropped
    one = _clf(folder, multi_label=True).fit(["a", "b"], [["x"], []])
    assert one.predict_proba(["a"]).shape == (1, 1)


def test_pandas_columns_work_as_texts_and_targets(folder, zs):
    import pandas as pd

    frame = pd.DataFrame({"text": ["the match", "the vote", "a goal"], "label": ["sport", "politics", "sport"]})
    frame.index = [10, 20, 30]  # a non-default index must not matter
    expected = zs.predict_proba(frame["text"].tolist())
    np.testing.assert_allclose(zs.predict_proba(frame["text"]), expected)
    np.testing.assert_allclose(zs.predict_proba(frame[["text"]]), expected)
    with pytest.raises(ValueError, match="2 columns; pass the one text column"):
        zs.predict_proba(frame)
    clf = _clf(folder).fit(frame["text"], frame["label"])
    assert clf.classes_.tolist() == ["politics", "sport"]
    assert clf.predict(frame["text"]).shape == (3,)
