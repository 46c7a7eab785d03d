"""The logistic-regression head on the frozen starting encoder, and its mix with the fine-tuned model."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import skops.io as sio
import torch
from scipy.special import log_softmax, softmax
from sklearn.linear_model import LogisticRegression

import skgliclass
from skgliclass import GLiClassifier
from skgliclass.embedding_head import embed, fit_linear_head, mix, stack_weights, two_folds
from skgliclass.estimators import classifier
from skgliclass.estimators._base import GLiClassEstimator

SPORT = ["the team won the cup", "a late goal in the match", "the striker scored twice", "the coach praised the team"]
POLITICS = ["the senate passed the bill", "the minister resigned", "voters went to the polls", "parliament debated"]
TECH = ["a new phone chip", "software update for laptops", "the app crashed", "faster computer processors"]
X = SPORT + POLITICS + TECH
Y = ["sport"] * 4 + ["politics"] * 4 + ["tech"] * 4
NEW = ["the cup final", "a vote in the senate", "a faster chip", "the team scored"]


@pytest.fixture(scope="module")
def encoder(tiny_encoder_dir):
    return str(tiny_encoder_dir("bert"))


def _clf(encoder, **kwargs):
    params = dict(model=encoder, epochs=2, batch_size=4, learning_rate=5e-3, random_state=0, train_precision="fp32")
    params["calibration"] = None  # the heads' own probabilities, no map on top
    return GLiClassifier(**{**params, **kwargs})


def _start_vectors(encoder, texts):
    """Mean-pooled, normalised vectors of the untouched backbone, computed by hand."""
    clf = _clf(encoder, epochs=1, learning_rate=1e-12, encoder_learning_rate=1e-12)
    model, tokenizer = clf._new_model()
    backbone = model.model.encoder_model.eval()
    with torch.no_grad():
        rows = []
        for text in texts:
            ids = tokenizer(text, return_tensors="pt")
            states = backbone(**ids).last_hidden_state[0]
            rows.append(torch.nn.functional.normalize(states.mean(0), dim=0).numpy())
    return np.stack(rows)


def test_weight_one_is_logistic_regression_on_the_frozen_start(encoder):
    clf = _clf(encoder, embedding_head=1.0, encoder_learning_rate=5e-3).fit(X, Y)
    vectors = _start_vectors(encoder, X + NEW)
    lr = LogisticRegression(max_iter=2000).fit(vectors[: len(X)], Y)
    np.testing.assert_allclose(clf.predict_proba(NEW), lr.predict_proba(vectors[len(X) :]), atol=1e-4)
    assert clf.head_weights_ == (0.0, 1.0) and clf.linear_head_.coef.shape == (3, vectors.shape[1])


def test_half_weight_is_the_geometric_mean_of_the_two_heads(encoder):
    mixed = _clf(encoder, embedding_head=0.5).fit(X, Y)
    alone = _clf(encoder, embedding_head=0.0).fit(X, Y)  # same seed: the same fine-tuning
    model = log_softmax(alone.decision_function(NEW), axis=1)
    head = np.log(_clf(encoder, embedding_head=1.0).fit(X, Y).predict_proba(NEW))
    np.testing.assert_allclose(mixed.predict_proba(NEW), softmax(0.5 * model + 0.5 * head, axis=1), atol=1e-5)
    assert not np.allclose(mixed.predict_proba(NEW), alone.predict_proba(NEW), atol=1e-3)


def test_head_survives_pickle_and_skops(encoder, tmp_path):
    clf = _clf(encoder, embedding_head=0.5).fit(X, Y)
    expected = clf.predict_proba(NEW)
    np.testing.assert_allclose(pickle.loads(pickle.dumps(clf)).predict_proba(NEW), expected, atol=1e-6)
    path = tmp_path / "clf.skops"
    sio.dump(clf, path)
    loaded = sio.load(path, trusted=skgliclass.TRUSTED_TYPES)
    np.testing.assert_allclose(loaded.predict_proba(NEW), expected, atol=1e-6)


def test_multi_label_head_mixes_log_odds_and_skips_unknown_entries():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(30, 8))
    targets = (vectors[:, :3] > 0).astype(np.float32)
    targets[:5, 0] = -100  # unknown: left out of that label's regression
    head = fit_linear_head(vectors, targets, multilabel=True)
    lr = LogisticRegression(max_iter=2000).fit(vectors[5:], targets[5:, 0])
    np.testing.assert_allclose(head.log_proba(vectors, True)[:, 0], lr.decision_function(vectors), atol=1e-8)
    model = rng.normal(size=(30, 3))
    np.testing.assert_allclose(
        mix(model, head.log_proba(vectors, True), (0.75, 0.25), True),
        0.75 * model + 0.25 * (vectors @ head.coef.T + head.intercept),
    )


def test_binary_and_constant_labels():
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(20, 4))
    binary = np.eye(2, dtype=np.float32)[(vectors[:, 0] > 0).astype(int)]
    head = fit_linear_head(vectors, binary, multilabel=False)
    lr = LogisticRegression(max_iter=2000).fit(vectors, binary.argmax(1))
    np.testing.assert_allclose(np.exp(head.log_proba(vectors, False)), lr.predict_proba(vectors), atol=1e-8)
    always = np.ones((20, 1), dtype=np.float32)
    constant = fit_linear_head(vectors, np.hstack([binary[:, :1], always]), multilabel=True)
    assert np.all(constant.log_proba(vectors, True)[:, 1] > 10)  # seen positive every time: a sure yes


def test_ppo_fits_without_the_head_and_warm_start_keeps_the_frozen_start(encoder):
    ppo = _clf(encoder, method="ppo", embedding_head=0.5, epochs=1).fit(X, Y)
    assert ppo.head_weights_ == (1.0, 0.0) and ppo.linear_head_ is None
    clf = _clf(encoder, embedding_head=0.5, warm_start=True, encoder_learning_rate=5e-3).fit(X, Y)
    first = clf._frozen_encoder
    before = clf.linear_head_.coef.copy()
    clf.fit(X, Y)
    assert clf._frozen_encoder is first  # the head still reads the encoder as it was before any training
    np.testing.assert_allclose(clf.linear_head_.coef, before, atol=1e-8)


def test_embed_pads_and_pools_like_one_text_at_a_time(encoder):
    clf = _clf(encoder)
    model, tokenizer = clf._new_model()
    backbone = model.model.encoder_model.eval()
    texts = ["a", "a much longer text with many words in it", "two words"]
    together = embed(backbone, tokenizer, texts, 64, torch.device("cpu"), batch_size=3)
    np.testing.assert_allclose(together, _start_vectors(encoder, texts), atol=1e-5)


def test_two_folds_are_stratified_halves():
    y = np.array([0] * 5 + [1] * 4 + [2] * 2)
    (a, b), (c, d) = two_folds(y, np.random.default_rng(0))
    assert np.array_equal(a, d) and np.array_equal(b, c)
    assert sorted(np.concatenate([a, b]).tolist()) == list(range(len(y)))
    for cls in (0, 1, 2):
        assert (y[a] == cls).sum() >= 1 and (y[b] == cls).sum() >= 1
    assert abs(len(a) - len(b)) <= 1


def test_stack_weights_find_the_likeliest_mix():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=200)
    informative = log_softmax(3.0 * np.eye(3)[y] + rng.normal(size=(200, 3)), axis=1)
    noise = log_softmax(5.0 * rng.normal(size=(200, 3)), axis=1)
    a, b = stack_weights(noise, informative, y)
    assert b > 0.5 and a < 0.05  # the useless side is switched off, the useful one tempered
    a2, b2 = stack_weights(informative, noise, y)
    assert (a2, b2) == pytest.approx((b, a), rel=1e-2, abs=1e-3)  # the head side has a floor

    def nll(w):
        return -log_softmax(w[0] * noise + w[1] * np.maximum(informative, np.log(1e-6)), axis=1)[
            np.arange(200), y
        ].mean()

    grid = min((nll((p, q)), p, q) for p in np.linspace(0, 2, 41) for q in np.linspace(0, 3, 61))
    assert nll((a, b)) <= grid[0] + 1e-6


def test_auto_cross_fits_and_predicts_with_the_stacked_weights(encoder):
    clf = _clf(encoder, embedding_head="auto", encoder_learning_rate=5e-3).fit(X, Y)
    a, b = clf.head_weights_
    assert a >= 0 and b >= 0 and {"cross_fit_model_score", "cross_fit_head_score"} <= set(clf.history_)
    assert "epoch_loss" in clf.history_  # the final fit's history follows the cross-fit's
    model = GLiClassEstimator._logits(clf, NEW)
    if clf.linear_head_ is None:
        assert b == 0.0
        np.testing.assert_allclose(clf.predict_proba(NEW), softmax(a * log_softmax(model, axis=1), axis=1), atol=1e-6)
    else:
        vectors = _start_vectors(encoder, NEW)
        head = np.maximum(clf.linear_head_.log_proba(vectors, False), np.log(1e-6))
        expected = softmax(a * log_softmax(model, axis=1) + b * head, axis=1)
        np.testing.assert_allclose(clf.predict_proba(NEW), expected, atol=1e-4)


def test_auto_leaves_the_head_out_where_it_does_not_apply(encoder, monkeypatch):
    monkeypatch.setattr(classifier, "AUTO_HEAD_MAX_TEXTS", 8)
    many = _clf(encoder, embedding_head="auto").fit(X, Y)  # 12 texts: more than the cross-fit takes
    monkeypatch.setattr(classifier, "AUTO_HEAD_MAX_TEXTS", 256)
    monkeypatch.setattr(classifier, "AUTO_HEAD_MAX_TOKENS", 40)
    long = _clf(encoder, embedding_head="auto").fit(X, Y)  # about 70 tokens in all: over the budget
    multi = _clf(encoder, embedding_head="auto").fit(X, [[c] for c in Y])
    for clf in (many, long, multi):
        assert clf.head_weights_ == (1.0, 0.0) and clf.linear_head_ is None and clf._frozen_encoder is None
        assert "cross_fit_loss_both" not in clf.history_
    with pytest.raises(ValueError, match="embedding_head"):
        _clf(encoder, embedding_head="best").fit(X, Y)
