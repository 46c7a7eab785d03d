"""Property-based checks of input handling: whatever texts, labels and targets users hold."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skgliclass import GLiClassZeroShot
from skgliclass.estimators._validation import check_labels, check_targets, check_texts

MARKERS = ("<<LABEL>>", "<<SEP>>", "<<EXAMPLE>>")
# Any unicode, plus the strings a tokenizer treats specially, plus emoji and blank texts.
TEXT = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["", " ", "\n\t", "🙂🚀", "[SEP] [CLS]", "<<LABEL>>x<<SEP>>", "e\u0301", "\u200b", "a" * 300]),
)
LABEL = st.text(min_size=1, max_size=20).filter(lambda s: s.strip() and not any(m in s for m in MARKERS))
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(st.lists(TEXT, min_size=1, max_size=8), st.sampled_from(["list", "tuple", "array", "column", "generator"]))
def test_any_sequence_of_str_is_read_as_is(texts, form):
    data = {
        "list": texts,
        "tuple": tuple(texts),
        "array": np.array(texts, dtype=object),
        "column": np.array(texts, dtype=object).reshape(-1, 1),
        "generator": (t for t in texts),
    }[form]
    assert check_texts(data) == texts


@FAST
@given(st.lists(TEXT, min_size=1, max_size=6), st.integers(0, 5), st.sampled_from([None, 1.5, float("nan"), b"x", 3]))
def test_a_non_text_is_named_by_position(texts, where, bad):
    where = where % (len(texts) + 1)
    data = [*texts[:where], bad, *texts[where:]]
    with pytest.raises(TypeError, match=rf"X\[{where}\] is {type(bad).__name__}"):
        check_texts(data)


@FAST
@given(st.lists(LABEL, min_size=1, max_size=8, unique=True))
def test_distinct_labels_pass_unchanged(labels):
    assert check_labels(labels) == labels


@FAST
@given(st.lists(LABEL, min_size=1, max_size=5, unique=True), st.sampled_from(MARKERS), st.integers(0, 4))
def test_labels_with_a_marker_or_a_duplicate_are_refused(labels, marker, where):
    bad = list(labels)
    bad[where % len(bad)] += marker
    with pytest.raises(ValueError, match="reserved marker"):
        check_labels(bad)
    with pytest.raises(ValueError, match="duplicates"):
        check_labels([*labels, labels[0]])


@FAST
@given(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=20))
def test_one_dimensional_targets_become_one_hot_rows(y):
    targets = check_targets(y, len(y))
    assert targets.classes.tolist() == sorted(set(y)) and not targets.multilabel
    np.testing.assert_array_equal(targets.Y.sum(1), 1)
    assert [targets.classes[row.argmax()] for row in targets.Y] == y


@FAST
@given(st.lists(st.lists(st.sampled_from(["x", "y", "z"]), max_size=3, unique=True), min_size=1, max_size=12))
def test_label_lists_become_an_indicator_matrix(y):
    targets = check_targets(y, len(y))
    assert targets.multilabel and targets.kind == "label-sets"
    for row, labels in zip(targets.Y, y, strict=True):
        assert {targets.classes[j] for j in np.flatnonzero(row)} == set(labels)


@FAST
@given(st.integers(1, 6), st.integers(1, 4), st.data())
def test_indicator_matrices_keep_unknowns_and_refuse_other_values(n, c, data):
    row = st.lists(st.sampled_from([-1, 0, 1]), min_size=c, max_size=c)
    y = np.array(data.draw(st.lists(row, min_size=n, max_size=n)))
    np.testing.assert_array_equal(check_targets(y, n, multi_label=True).Y, y)
    np.testing.assert_array_equal(check_targets(y.tolist(), n, multi_label=True).Y, y)  # lists read as numpy does
    y[data.draw(st.integers(0, n - 1)), 0] = 2
    with pytest.raises(ValueError, match="indicator matrix"):
        check_targets(y, n, multi_label=True)


@pytest.fixture(scope="module")
def zero_shot(reference_checkpoint):
    folder = str(reference_checkpoint(architecture="uni-encoder", backbone="bert"))
    return GLiClassZeroShot(model=folder, labels=["sport", "politics", "tech"], multi_label=True, batch_size=3).fit()


@FAST
@given(texts=st.lists(TEXT, min_size=1, max_size=7))
def test_any_texts_get_probabilities_independent_of_their_batch(zero_shot, texts):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cut texts are reported by a warning; errors still fail
        together = zero_shot.predict_proba(texts)
        alone = np.vstack([zero_shot.predict_proba([t]) for t in texts])
    assert together.shape == (len(texts), 3) and np.isfinite(together).all()
    assert ((together >= 0) & (together <= 1)).all()
    np.testing.assert_allclose(together, alone, atol=1e-5)


@pytest.mark.parametrize(
    ("value", "fix"),
    [(None, "fillna"), (float("nan"), "fillna"), (b"caf\xc3\xa9", "decode"), (7, r"str\(v\)")],
)
def test_a_non_text_error_says_how_to_fix_it(value, fix):
    with pytest.raises(TypeError, match=fix):
        check_texts(["fine", value])
