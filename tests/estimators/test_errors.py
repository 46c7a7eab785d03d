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
        r"one per class \(2\); got shape \(3,\)",
    ),
    ("threshold, single-label", lambda f, zs: _zs(f, threshold=-0.5).fit(), ValueError, r"\[0, 1\]"),
    ("a PPO parameter, supervised fit", lambda f, zs: _clf(f, ppo_clip=5.0).fit(["a"], ["x"]), ValueError, "ppo_clip"),
    (
        "threshold 2-D",
        lambda f, zs: _zs(f, threshold=[[0.1, 0.2]], multi_label=True).fit(),
        ValueError,
        r"got shape \(1, 2\)",
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
    ("None in y", lambda f, zs: _clf(f).fit(["a", "b", "c"], ["x", None, "y"]), ValueError, r"y\[1\] is missing"),
    ("NaN in y", lambda f, zs: _clf(f).fit(["a", "b", "c"], ["x", "y", np.nan]), ValueError, r"y\[2\] is missing"),
    ("NaN in a float y", lambda f, zs: _clf(f).fit(["a", "b"], np.array([1.0, np.nan])), ValueError, "missing"),
    ("None in a label list", lambda f, zs: _clf(f).fit(["a", "b"], [["x"], [None]]), ValueError, "is missing"),
    ("strings mixed with numbers", lambda f, zs: _clf(f).fit(["a", "b"], [1, "x"]), ValueError, "mixes strings"),
    (
        "label lists of numbers, one length",
        lambda f, zs: _clf(f).fit(["a", "b"], [[3, 7], [2, 5]]),
        ValueError,
        r"as sets, e.g. \[\{3, 7\}",
    ),
    ("y without any label", lambda f, zs: _clf(f).fit(["a", "b"], [[], []]), ValueError, "no labels at all"),
    ("a blank class in y", lambda f, zs: _clf(f).fit(["a", "b"], ["", "x"]), ValueError, "classes in y.*non-empty"),
    ("max_length past the positions", lambda f, zs: _zs(f, max_length=10**5).fit(), ValueError, "positions"),
    ("one zero-shot label", lambda f, zs: _zs(f, labels=["sport"]).fit(), ValueError, "multi_label=True"),
    ("prompt not a str", lambda f, zs: _zs(f, prompt=3).fit(), TypeError, "prompt must be a str"),
    ("stream of one str", lambda f, zs: next(zs.predict_proba_iter("a text")), TypeError, "not a single str"),
    (
        "batch_size 0 set after fit",
        lambda f, zs: _zs(f).fit().set_params(batch_size=0).predict(["a"]),
        ValueError,
        "batch_size must be a positive int",
    ),
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


def test_every_form_of_multi_label_y_reads_alike(folder):
    import pandas as pd
    from scipy import sparse
    from sklearn.exceptions import DataConversionWarning

    from skgliclass.estimators._validation import check_targets

    dense = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    for form in (dense.tolist(), [tuple(r) for r in dense.tolist()], sparse.csr_matrix(dense), pd.DataFrame(dense)):
        targets = check_targets(form, 4)
        assert targets.kind == "indicator" and targets.multilabel
        np.testing.assert_array_equal(targets.Y, dense)
    named = pd.DataFrame(dense, columns=L)
    assert check_targets(named, 4).names == L
    clf = _zs(folder, labels=None).fit(None, named)  # the columns name the labels: no labels= needed
    assert clf.classes_.tolist() == L and clf.label_names_ == L
    with pytest.warns(DataConversionWarning, match="column vector"):
        column = check_targets(np.array([["b"], ["a"], ["b"]]), 3)
    assert column.kind == "labels" and column.classes.tolist() == ["a", "b"]
    assert check_targets(np.array([[1], [0]]), 2, multi_label=True).kind == "indicator"


def test_multi_label_score_takes_every_form_of_y(folder):
    clf = _zs(folder, multi_label=True).fit()
    texts = ["the match", "the vote", "a goal"]
    predicted = clf.predict(texts)  # columns follow classes_ (politics, sport)
    lists = [[c for c, hit in zip(clf.classes_, row, strict=True) if hit] for row in predicted]
    assert clf.score(texts, lists) == 1.0 and clf.score(texts, predicted) == 1.0
    flipped = [[c for c in clf.classes_ if c not in row] for row in lists]
    assert clf.score(texts, flipped) == 0.0
    single = ["politics", "sport", "sport"]
    expected = np.mean([set(row) == {label} for row, label in zip(lists, single, strict=True)])
    assert clf.score(texts, single) == pytest.approx(expected)
    with pytest.raises(ValueError, match="does not know"):
        clf.score(texts, [["weather"], [], []])


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
