"""GLiClassZeroShot: the public path, scikit-learn conventions, y forms and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from skgliclass import GLiClassZeroShot

TEXTS = ["the team won the cup final", "the senate passed the tax bill", "a faster chip for phones"]
LABELS = ["sport", "politics", "technology"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    from _reference import make_reference_checkpoint

    return str(make_reference_checkpoint(tmp_path_factory.mktemp("zs"), head_std=0.1))


def test_embedded_default_understands_obvious_topics():
    texts = [
        "The striker scored twice as United won the cup final.",
        "The senate voted on the new tax bill after a long debate.",
        "The new smartphone chip runs apps twice as fast.",
        "Shares of the bank fell five percent after weak quarterly earnings.",
    ]
    labels = ["sport", "politics", "technology", "business"]
    clf = GLiClassZeroShot(labels=labels).fit()
    assert list(clf.predict(texts)) == labels
    proba = clf.predict_proba(texts)
    assert proba.dtype == np.float64 and proba.shape == (4, 4)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    assert clf.device_.type in {"cpu", "cuda", "mps"}
    assert clf.config_.architecture == "bi-encoder" and clf.config_.pooler == "mean"


def test_sklearn_parameter_conventions():
    name = "GLiClassZeroShot"
    check_no_attributes_set_in_init(name, GLiClassZeroShot())
    check_get_params_invariance(name, GLiClassZeroShot())
    check_set_params(name, GLiClassZeroShot())
    check_parameters_default_constructible(name, GLiClassZeroShot())
    est = GLiClassZeroShot(labels=LABELS, threshold=0.3)
    assert clone(est).get_params() == est.get_params()


def test_tags():
    tags = GLiClassZeroShot().__sklearn_tags__()
    assert tags.input_tags.string and not tags.input_tags.two_d_array
    assert tags.classifier_tags.multi_label and not tags.target_tags.multi_output
    assert not tags.target_tags.required


def test_single_label_from_y(folder):
    y = ["sport", "politics", "technology"]
    clf = GLiClassZeroShot(model=folder).fit(TEXTS, y)
    assert not clf.multilabel_
    assert list(clf.classes_) == sorted(y)
    proba = clf.predict_proba(TEXTS)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    assert set(clf.predict(TEXTS)) <= set(y)
    assert 0.0 <= clf.score(TEXTS, y) <= 1.0


def test_multi_label_from_label_lists_and_per_class_threshold(folder):
    y = [["sport"], ["politics", "technology"], ["technology"]]
    clf = GLiClassZeroShot(model=folder).fit(TEXTS, y)
    assert clf.multilabel_ and list(clf.classes_) == ["politics", "sport", "technology"]
    proba = clf.predict_proba(TEXTS)
    assert ((proba > 0) & (proba < 1)).all()
    clf.threshold = [0.0, 1.0, 0.5]  # a new threshold needs no refit
    pred = clf.predict(TEXTS)
    assert pred.dtype.kind == "i" and (pred[:, 0] == 1).all() and (pred[:, 1] == 0).all()
    np.testing.assert_array_equal(pred[:, 2], (proba[:, 2] >= 0.5).astype(int))


def test_indicator_y_needs_names(folder):
    Y = np.array([[1, 0, 0], [0, 1, 1], [0, 0, 1]])
    with pytest.raises(ValueError, match="needs labels"):
        GLiClassZeroShot(model=folder).fit(TEXTS, Y)
    clf = GLiClassZeroShot(model=folder, labels=LABELS).fit(TEXTS, Y)
    assert list(clf.classes_) == [0, 1, 2] and clf.predict(TEXTS).shape == (3, 3)


def test_label_descriptions_change_what_the_model_reads(folder):
    plain = GLiClassZeroShot(model=folder, labels=LABELS).fit()
    described = GLiClassZeroShot(model=folder, labels=LABELS, label_descriptions={"sport": "sports news"}).fit()
    assert list(described.classes_) == LABELS
    assert not np.allclose(plain.predict_proba(TEXTS), described.predict_proba(TEXTS))
    with pytest.raises(ValueError, match="unknown classes"):
        GLiClassZeroShot(model=folder, labels=LABELS, label_descriptions={"art": "x"}).fit().predict(TEXTS)


def test_binary_decision_function_is_one_column(folder):
    clf = GLiClassZeroShot(model=folder, labels=["yes", "no"]).fit()
    scores = clf.decision_function(TEXTS)
    assert scores.shape == (3,)
    np.testing.assert_array_equal(clf.predict(TEXTS), clf.classes_[(scores > 0).astype(int)])


def test_pipeline_with_text_cleaning(folder):
    pipe = make_pipeline(FunctionTransformer(np.char.lower), GLiClassZeroShot(model=folder, labels=LABELS))
    pipe.fit(np.array(TEXTS))
    assert pipe.predict(np.array([t.upper() for t in TEXTS])).shape == (3,)


@pytest.mark.parametrize(
    "kwargs, X, error, match",
    [
        ({}, TEXTS, ValueError, "needs labels"),
        ({"labels": []}, TEXTS, ValueError, "labels is empty"),
        ({"labels": ["a", "a"]}, TEXTS, ValueError, "duplicates"),
        ({"labels": ["a<<LABEL>>"]}, TEXTS, ValueError, "reserved marker"),
        ({"labels": LABELS, "batch_size": 0}, TEXTS, ValueError, "batch_size"),
        ({"labels": LABELS, "multi_label": "yes"}, TEXTS, ValueError, "multi_label"),
        ({"labels": LABELS, "precision": "int4"}, TEXTS, ValueError, "precision"),
    ],
)
def test_bad_parameters_fail_in_fit(folder, kwargs, X, error, match):
    with pytest.raises(error, match=match):
        GLiClassZeroShot(model=folder, **kwargs).fit(X)


def test_bad_inputs(folder):
    clf = GLiClassZeroShot(model=folder, labels=LABELS)
    with pytest.raises(NotFittedError):
        clf.predict(TEXTS)
    clf.fit()
    with pytest.raises(TypeError, match="single str"):
        clf.predict("just one text")
    with pytest.raises(TypeError, match=r"X\[1\] is int"):
        clf.predict(["fine", 3])
    with pytest.raises(ValueError, match="empty"):
        clf.predict([])
    with pytest.raises(ValueError, match="3 texts but y has 2"):
        GLiClassZeroShot(model=folder).fit(TEXTS, ["a", "b"])
    assert clf.predict(np.array(TEXTS, dtype=object).reshape(-1, 1)).shape == (3,)


def test_missing_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="nope'.*no such folder"):
        GLiClassZeroShot(model=str(tmp_path / "nope"), labels=LABELS).fit()
    with pytest.raises(ValueError, match="neither a local folder nor a hub id"):
        GLiClassZeroShot(model="not-a-model-anywhere", labels=LABELS).fit()


def test_label_template_for_sentence_encoders_only(folder):
    default = GLiClassZeroShot(labels=LABELS, label_descriptions={"sport": "sports news"}).fit()
    assert default.label_template_ == "This text is about {}."
    assert default._label_texts() == ["sports news", "This text is about politics.", "This text is about technology."]
    checkpoint = GLiClassZeroShot(model=folder, labels=LABELS).fit()
    assert checkpoint.label_template_ == "{}" and checkpoint._label_texts() == LABELS


# ------------------------------------------------------------------ adapting to unlabeled texts
UNLABELED = [
    "the keeper saved a penalty in the cup",
    "the striker scored in the final minute",
    "parliament passed the budget bill",
    "the minister resigned after the vote",
    "the new phone has a faster chip",
    "engineers built a smaller processor",
]


def _by_hand(clf: GLiClassZeroShot, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Label vectors, text vectors and posteriors of an unadapted fit, from one padded forward pass."""
    from skgliclass.batching import pad_batch

    encoded = clf._builder.build(texts, clf._label_texts())
    cpu, pad = torch.device("cpu"), clf._builder.pad_id
    with torch.inference_mode():
        labels = clf.model_.model.encode_labels(*pad_batch(encoded.label_ids, pad, cpu))
        ids, mask = pad_batch(encoded.chunks[0].rows, pad, cpu)
        out = clf.model_(input_ids=ids, attention_mask=mask, label_vectors=labels)
    return labels, out.text_embeddings, out.logits.softmax(-1)


def test_adapt_is_one_em_step_towards_the_texts(tiny_encoder_dir):
    folder = str(tiny_encoder_dir())
    plain = GLiClassZeroShot(model=folder, labels=LABELS, adapt=False).fit(UNLABELED)
    assert plain.label_vectors_ is None and plain.history_ == {}
    labels, texts, posteriors = _by_hand(plain, UNLABELED)
    expected = 10.0 * labels + posteriors.T @ texts
    expected = (expected / expected.norm(dim=-1, keepdim=True)).numpy()

    clf = GLiClassZeroShot(model=folder, labels=LABELS).fit(UNLABELED)
    np.testing.assert_allclose(clf.label_vectors_, expected, atol=1e-5)
    assert clf.history_["adapted_on"] == len(UNLABELED)
    shift = 1.0 - (expected * labels.numpy()).sum(1)
    np.testing.assert_allclose(clf.history_["label_shift"], shift, atol=1e-5)
    assert min(shift) > 1e-4  # every label moved

    # predictions score the texts against the adapted vectors, at the model's scale
    new = ["a goal in the derby", "the chip maker", "an election"]
    _, new_vectors, _ = _by_hand(plain, new)
    scale = clf.model_.model.logit_scale.item()
    np.testing.assert_allclose(clf.decision_function(new), scale * new_vectors.numpy() @ expected.T, atol=1e-4)
    assert not np.allclose(clf.decision_function(new), plain.decision_function(new), atol=1e-3)


def test_adapt_keeps_multi_label_logits_where_the_wording_put_them(tiny_encoder_dir):
    folder = str(tiny_encoder_dir())
    y = [["sport"], ["sport"], ["politics"], ["politics"], ["technology"], ["technology", "politics"]]
    plain = GLiClassZeroShot(model=folder, labels=LABELS, multi_label=True, adapt=False).fit(UNLABELED, y)
    clf = GLiClassZeroShot(model=folder, labels=LABELS, multi_label=True, calibration=None).fit(UNLABELED, y)
    assert clf.multilabel_ and clf.label_offsets_.shape == (len(LABELS),)
    # raw adapted scores rise for every label; the offsets take exactly that rise back out
    labels, texts, _ = _by_hand(plain, UNLABELED)
    scale = clf.model_.model.logit_scale.item()
    raw = scale * texts.numpy() @ clf.label_vectors_.T
    before = scale * texts.numpy() @ labels.numpy().T
    np.testing.assert_allclose(clf.label_offsets_, raw.mean(0) - before.mean(0), atol=1e-4)
    np.testing.assert_allclose(clf.decision_function(UNLABELED), raw - clf.label_offsets_, atol=1e-4)
    np.testing.assert_allclose(clf.decision_function(UNLABELED).mean(0), before.mean(0), atol=1e-4)
    # the ranking of texts within each label is the adapted one, not the wording's
    assert not np.allclose(clf.decision_function(TEXTS), plain.decision_function(TEXTS), atol=1e-3)
    single = GLiClassZeroShot(model=folder, labels=LABELS).fit(UNLABELED)
    assert single.label_offsets_ is None and single.label_vectors_ is not None


def test_adapt_survives_pickle_joblib_skops_and_is_absent_without_texts(tiny_encoder_dir, tmp_path):
    import pickle

    import joblib
    import skops.io as sio

    import skgliclass

    folder = str(tiny_encoder_dir())
    assert GLiClassZeroShot(model=folder, labels=LABELS).fit().label_vectors_ is None
    clf = GLiClassZeroShot(model=folder, labels=LABELS).fit(
        UNLABELED, ["sport"] * 2 + ["politics"] * 2 + ["technology"] * 2
    )
    assert clf.label_vectors_ is not None  # y names the classes; the texts still adapt
    expected = clf.predict_proba(TEXTS)
    np.testing.assert_allclose(pickle.loads(pickle.dumps(clf)).predict_proba(TEXTS), expected, atol=1e-6)
    joblib.dump(clf, tmp_path / "m.joblib")
    np.testing.assert_allclose(joblib.load(tmp_path / "m.joblib").predict_proba(TEXTS), expected, atol=1e-6)
    sio.dump(clf, tmp_path / "m.skops")
    loaded = sio.load(tmp_path / "m.skops", trusted=skgliclass.TRUSTED_TYPES)
    np.testing.assert_allclose(loaded.label_vectors_, clf.label_vectors_)
    np.testing.assert_allclose(loaded.predict_proba(TEXTS), expected, atol=1e-6)
    multi = GLiClassZeroShot(model=folder, labels=LABELS, multi_label=True).fit(UNLABELED)
    sio.dump(multi, tmp_path / "multi.skops")
    loaded = sio.load(tmp_path / "multi.skops", trusted=skgliclass.TRUSTED_TYPES)
    np.testing.assert_allclose(loaded.label_offsets_, multi.label_offsets_)
    restored = pickle.loads(pickle.dumps(multi))
    np.testing.assert_allclose(restored.predict_proba(TEXTS), multi.predict_proba(TEXTS), atol=1e-6)


def test_adapt_warns_that_a_checkpoint_does_not_hold_it(tiny_encoder_dir, tmp_path):
    clf = GLiClassZeroShot(model=str(tiny_encoder_dir()), labels=LABELS).fit(UNLABELED)
    with pytest.warns(UserWarning, match="not part of a checkpoint"):
        clf.save_pretrained(tmp_path / "saved")


def test_adapt_needs_a_cosine_bi_encoder(folder):
    auto = GLiClassZeroShot(model=folder, labels=LABELS).fit(UNLABELED)  # a uni-encoder: nothing to adapt
    assert auto.label_vectors_ is None and auto.history_ == {}
    with pytest.raises(ValueError, match="adapt=True needs a bi-encoder"):
        GLiClassZeroShot(model=folder, labels=LABELS, adapt=True).fit(UNLABELED)
    with pytest.raises(ValueError, match="adapt must be"):
        GLiClassZeroShot(model=folder, labels=LABELS, adapt="yes").fit(UNLABELED)
