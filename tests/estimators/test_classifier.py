"""GLiClassifier: fitting, y forms, LoRA, determinism, persistence, search, errors."""

from __future__ import annotations

import pickle
import re

import joblib
import numpy as np
import pytest
import skops.io as sio
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

import skgliclass
from skgliclass import GLiClassifier

SPORT = ["the team won the cup", "a late goal in the match", "the striker scored twice", "the coach praised the team"]
POLITICS = ["the senate passed the bill", "the minister resigned", "voters went to the polls", "parliament debated"]
TECH = ["a new phone chip", "software update for laptops", "the app crashed", "faster computer processors"]
X = SPORT + POLITICS + TECH
Y = ["sport"] * 4 + ["politics"] * 4 + ["tech"] * 4


# One full-batch step that moves nothing: the step's logits are the starting model's.
FROZEN = {"epochs": 1, "batch_size": len(X), "learning_rate": 1e-12, "encoder_learning_rate": 1e-12}
FROZEN |= {"average_fits": 1, "calibration": None}  # one training run, no cross-fitting


@pytest.fixture(scope="module")
def encoder(tiny_encoder_dir):
    return str(tiny_encoder_dir("bert"))


def _fast(encoder, **kwargs):
    params = dict(model=encoder, epochs=3, batch_size=4, learning_rate=5e-3, encoder_learning_rate=5e-4, average_fits=1)
    params.update(kwargs)
    return GLiClassifier(**params)


def test_sklearn_parameter_conventions():
    for check in (
        check_no_attributes_set_in_init,
        check_get_params_invariance,
        check_set_params,
        check_parameters_default_constructible,
    ):
        check("GLiClassifier", GLiClassifier())
    est = GLiClassifier(pooler="max", lora_r=4)
    assert clone(est).get_params() == est.get_params()


def test_fit_learns_and_records_history(encoder):
    plain = {c: c for c in Y}  # bare names: the tiny random encoder cannot tell templated sentences apart
    clf = _fast(encoder, epochs=15, random_state=0, label_descriptions=plain).fit(X, Y)
    assert list(clf.classes_) == ["politics", "sport", "tech"] and not clf.multilabel_
    history = clf.history_
    assert len(history["epoch_loss"]) == 15 and len(history["loss"]) == 15 * 3
    assert history["epoch_loss"][-1] < 0.2 * history["epoch_loss"][0]
    assert clf.score(X, Y) >= 0.75  # a tiny random encoder learns most of twelve texts (chance: 0.33)
    proba = clf.predict_proba(X)
    assert proba.dtype == np.float64 and proba.shape == (12, 3)
    np.testing.assert_allclose(proba.sum(1), 1)


def test_same_seed_same_probabilities_and_global_rng_untouched(encoder):
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    a = _fast(encoder, random_state=7).fit(X, Y).predict_proba(X)
    assert torch.equal(torch.random.get_rng_state(), before)
    b = _fast(encoder, random_state=7).fit(X, Y).predict_proba(X)
    c = _fast(encoder, random_state=8).fit(X, Y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_multi_label_from_lists_and_from_indicator(encoder):
    y_sets = [[c] for c in Y]
    y_sets[0] = ["sport", "politics"]
    clf = _fast(encoder, random_state=0).fit(X, y_sets)
    assert clf.multilabel_ and clf.predict(X).shape == (12, 3) and clf.predict(X).dtype.kind == "i"
    indicator = np.array([[c == k for k in ("sport", "politics", "tech")] for c in Y], dtype=int)
    clf2 = _fast(encoder, random_state=0, labels=["sport", "politics", "tech"]).fit(X, indicator)
    assert list(clf2.classes_) == [0, 1, 2] and clf2.label_names_ == ["sport", "politics", "tech"]
    proba = clf2.predict_proba(X)
    assert ((proba > 0) & (proba < 1)).all()


@pytest.mark.parametrize(
    "architecture, head",
    [
        ("uni-encoder", {"pooler": "first", "scorer": "mlp"}),
        ("bi-encoder-fused", {"scorer": "weighted-dot"}),
        ("bi-encoder", {"pooler": "attention", "layer_reweighting": True}),
    ],
)
def test_every_variant_fits(encoder, architecture, head):
    clf = _fast(encoder, architecture=architecture, random_state=0, **head).fit(X, Y)
    assert clf.config_.architecture == architecture
    assert np.isfinite(clf.history_["loss"]).all()


def test_encoder_decoder_fits(tiny_encoder_dir):
    clf = _fast(str(tiny_encoder_dir("t5")), architecture="encoder-decoder", random_state=0).fit(X, Y)
    assert clf.predict_proba(X).shape == (12, 3)


def test_softmax_method_trains_on_the_softmax_cross_entropy(encoder, monkeypatch):
    import torch.nn.functional as F

    import skgliclass.training.supervised as supervised

    seen = []

    def recording(logits, targets, **kwargs):
        loss = supervised_softmax(logits, targets, **kwargs)
        seen.append((logits.detach(), targets.detach(), kwargs, loss.item()))
        return loss

    supervised_softmax = supervised.softmax_loss
    monkeypatch.setattr(supervised, "softmax_loss", recording)
    clf = GLiClassifier(model=encoder, method="softmax", random_state=0, **FROZEN).fit(X, Y)
    assert clf.method_ == "softmax" and len(seen) == 1
    logits, targets, kwargs, loss = seen[0]
    assert kwargs["gamma"] == 0.0 and logits.shape == (len(X), 3)
    # the step's loss is torch's cross-entropy of the batch's logits against each text's one label
    assert loss == pytest.approx(F.cross_entropy(logits, targets.argmax(1)).item(), rel=1e-5)
    assert clf.history_["loss"][0] == pytest.approx(loss, rel=1e-5)
    monkeypatch.undo()
    learned = _fast(encoder, method="softmax", epochs=15, random_state=0, label_descriptions={c: c for c in Y})
    learned.fit(X, Y)
    assert learned.history_["epoch_loss"][-1] < 0.5 * learned.history_["epoch_loss"][0]
    assert learned.score(X, Y) >= 0.75  # as focal training on the tiny random encoder (chance: 0.33)
    multi = [[c] for c in Y[:-1]] + [["tech", "sport"]]
    assert GLiClassifier(model=encoder, method="auto", **FROZEN).fit(X, multi).method_ == "focal"
    for method in ("softmax", "focal+softmax"):
        with pytest.raises(ValueError, match=re.escape(f"method='{method}' trains one label per text")):
            GLiClassifier(model=encoder, method=method, **FROZEN).fit(X, multi)


def test_default_objective_sums_focal_and_softmax_for_single_label(encoder, monkeypatch):
    import torch.nn.functional as F

    import skgliclass.training.supervised as supervised

    seen = []
    for name in ("focal_loss", "softmax_loss"):
        original = getattr(supervised, name)

        def recording(logits, targets, _name=name, _original=original, **kwargs):
            loss = _original(logits, targets, **kwargs)
            seen.append((_name, logits.detach(), targets.detach(), loss.item()))
            return loss

        monkeypatch.setattr(supervised, name, recording)
    clf = GLiClassifier(model=encoder, random_state=0, **FROZEN).fit(X, Y)
    assert clf.method_ == "focal+softmax" and [s[0] for s in seen] == ["focal_loss", "softmax_loss"]
    (_, logits, targets, focal), (_, _, _, softmax) = seen
    # one step's loss: mean binary cross-entropy over every pair plus the softmax cross-entropy
    bce = F.binary_cross_entropy_with_logits(logits, targets).item()
    ce = F.cross_entropy(logits, targets.argmax(1)).item()
    assert (focal, softmax) == (pytest.approx(bce, rel=1e-5), pytest.approx(ce, rel=1e-5))
    assert clf.history_["loss"][0] == pytest.approx(bce + ce, rel=1e-5)
    seen.clear()
    assert GLiClassifier(model=encoder, method="focal", **FROZEN).fit(X, Y).method_ == "focal"
    assert [s[0] for s in seen] == ["focal_loss"]


def test_lora_trains_adapters_then_merges_them(encoder):
    from skgliclass.training.lora import target_modules

    clf = _fast(encoder, lora_r=4, random_state=0, epochs=4).fit(X, Y)
    names = [n for n, _ in clf.model_.named_modules()]
    assert not any("lora" in n for n in names)  # merged: a plain model again
    assert clf.history_["epoch_loss"][-1] < clf.history_["epoch_loss"][0]
    full = _fast(encoder, random_state=0, epochs=4).fit(X, Y)
    base = GLiClassifier(model=encoder, epochs=1, learning_rate=1e-12, encoder_learning_rate=1e-12).fit(X, Y)
    lora_w = clf.model_.model.encoder_model.encoder.layer[0].attention.self.query.weight
    base_w = base.model_.model.encoder_model.encoder.layer[0].attention.self.query.weight
    assert not torch.allclose(lora_w, base_w)  # the merged adapters changed the backbone
    assert full.model_ is not clf.model_
    assert target_modules(clf.model_.model.encoder_model) == ["query", "key", "value", "dense"]


def test_lora_target_modules_per_family(tiny_encoder_dir):
    from transformers import AutoModel

    from skgliclass.training.lora import target_modules

    assert target_modules(AutoModel.from_pretrained(tiny_encoder_dir("deberta"))) == [
        "query_proj",
        "key_proj",
        "value_proj",
        "dense",
    ]
    assert target_modules(AutoModel.from_pretrained(tiny_encoder_dir("modernbert"))) == ["Wqkv", "Wo", "Wi"]


def test_persistence_round_trips(encoder, tmp_path):
    clf = _fast(encoder, random_state=0, multi_label=True).fit(X, [[c] for c in Y])
    expected = clf.predict_proba(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X), expected)
    joblib.dump(clf, tmp_path / "m.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "m.joblib").predict_proba(X), expected)
    sio.dump(clf, tmp_path / "m.skops")
    assert sio.get_untrusted_types(file=tmp_path / "m.skops") == ["skgliclass.GLiClassifier"]
    with pytest.raises(Exception, match="[Uu]ntrusted"):
        sio.load(tmp_path / "m.skops")
    loaded = sio.load(tmp_path / "m.skops", trusted=skgliclass.TRUSTED_TYPES)
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)
    assert loaded.history_ == clf.history_ and loaded.device_ == clf.device_


def test_unfitted_estimator_pickles(encoder):
    clone_ = pickle.loads(pickle.dumps(_fast(encoder)))
    assert clone_.get_params() == _fast(encoder).get_params()


def test_saved_checkpoint_reloads_with_same_scores(encoder, tmp_path):
    from skgliclass import GLiClassZeroShot

    clf = _fast(encoder, random_state=0, calibration=None).fit(X, Y)  # a checkpoint holds weights, not the map
    folder = clf.save_pretrained(tmp_path / "ckpt")
    again = GLiClassZeroShot(model=str(folder), labels=list(clf.classes_), multi_label=False).fit()
    np.testing.assert_allclose(again.predict_proba(X), clf.predict_proba(X), atol=1e-6)


def test_warm_start_continues_from_previous_weights(encoder):
    clf = _fast(encoder, random_state=0, warm_start=True).fit(X, Y)
    first = clf.history_["epoch_loss"][-1]
    model = clf.model_
    clf.fit(X, Y)
    assert clf.model_ is model and clf.history_["epoch_loss"][0] < clf.history_["epoch_loss"][0] + 1
    assert clf.history_["epoch_loss"][-1] <= first * 1.5


def test_grid_search_over_pooler_and_scorer_and_cross_val(encoder):
    pipe = make_pipeline(FunctionTransformer(np.char.lower), _fast(encoder, epochs=1, random_state=0))
    search = GridSearchCV(
        pipe,
        {"gliclassifier__pooler": ["first", "mean"], "gliclassifier__scorer": ["dot", "mlp"]},
        cv=2,
    )
    search.fit(np.array(X), np.array(Y))
    assert len(search.cv_results_["params"]) == 4
    assert search.best_estimator_.predict(np.array(X)).shape == (12,)
    scores = cross_val_score(_fast(encoder, epochs=1, random_state=0), X, Y, cv=2)
    assert scores.shape == (2,) and np.isfinite(scores).all()


def test_checkpoint_head_swaps(reference_checkpoint):
    folder = str(reference_checkpoint(architecture="uni-encoder", backbone="bert", scorer_type="mlp"))
    kept = GLiClassifier(model=folder, epochs=1, random_state=0).fit(X, Y)
    assert kept.config_.scorer == "mlp" and kept.config_.pooler == "first"
    swapped = GLiClassifier(model=folder, epochs=1, pooler="max", scorer="hopfield", random_state=0).fit(X, Y)
    assert swapped.config_.pooler == "max" and swapped.config_.scorer == "hopfield"
    assert hasattr(swapped.model_.model.scorer, "q_proj")
    with pytest.raises(ValueError, match="architecture='bi-encoder'.*uni-encoder"):
        GLiClassifier(model=folder, architecture="bi-encoder").fit(X, Y)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"pooler": "meen"}, "pooler='meen' is not valid.*Did you mean 'mean'"),
        ({"scorer": "dott"}, "scorer='dott'"),
        ({"architecture": "cross-encoder"}, "architecture='cross-encoder'"),
        ({"method": "sgd"}, "method='sgd'"),
        ({"epochs": 0}, "epochs must be a positive int"),
        ({"learning_rate": -1.0}, "learning_rate must be a number"),
        ({"label_smoothing": 1.0}, "label_smoothing"),
        ({"lora_r": 0}, "lora_r"),
    ],
)
def test_bad_parameters_are_named(encoder, kwargs, match):
    with pytest.raises(ValueError, match=match):
        _fast(encoder, **kwargs).fit(X, Y)


def test_bad_targets(encoder):
    with pytest.raises(ValueError, match="Unknown label type"):
        _fast(encoder).fit(X, np.linspace(0, 1, 12))
    with pytest.raises(ValueError, match="needs targets"):
        _fast(encoder).fit(X, None)
    with pytest.raises(ValueError, match="12 texts but y has 3"):
        _fast(encoder).fit(X, ["a", "b", "c"])
    with pytest.raises(TypeError, match="single str"):
        _fast(encoder).fit("text", ["a"])


def test_verbose_controls_progress_bars(encoder, capsys):
    _fast(encoder, epochs=1, verbose=0).fit(X, Y).predict(X)
    quiet = capsys.readouterr()
    assert "fit" not in quiet.err and "predict" not in quiet.err
    _fast(encoder, epochs=1, verbose=1).fit(X, Y).predict(X)
    loud = capsys.readouterr().err
    assert "fit" in loud and "loss=" in loud and "predict" in loud
