"""GLiClassifier's training controls: validation share, early stopping, best epoch kept, history, bf16 training."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from _tiny_texts import X, Y, tiny_classifier

from skgliclass.estimators.classifier import _hold_out
from skgliclass.training import supervised


@pytest.fixture(scope="module")
def encoder(tiny_encoder_dir):
    return str(tiny_encoder_dir("bert"))


_clf = tiny_classifier


def test_hold_out_keeps_every_class_on_both_sides():
    matrix = np.eye(3, dtype=np.float32)[[0] * 8 + [1] * 8 + [2] * 2]
    texts = [f"t{i}" for i in range(len(matrix))]
    kept, train, validation = _hold_out(texts, matrix, 0.25, np.random.default_rng(0))
    assert train.sum(0).tolist() == [6, 6, 1] and validation.targets.sum(0).tolist() == [2, 2, 1]
    assert sorted(kept + list(validation.texts)) == sorted(texts)
    with pytest.raises(ValueError, match="no class has two training texts"):
        _hold_out(texts[:3], np.eye(3, dtype=np.float32), 0.5, np.random.default_rng(0))


def test_hold_out_takes_only_rows_that_may_judge_when_there_are_enough():
    matrix = np.eye(3, dtype=np.float32)[[0] * 8 + [1] * 8 + [2] * 4]
    texts = [f"t{i}" for i in range(len(matrix))]
    judges = np.arange(len(texts)) % 2 == 1  # every other text was drawn at random
    kept, _, validation = _hold_out(texts, matrix, 0.25, np.random.default_rng(0), judges)
    held = [texts.index(t) for t in validation.texts]
    assert judges[held].all() and len(held) == 5  # a quarter of the texts, from the drawn ones
    assert (validation.targets.sum(0) >= 1).all() and sorted(kept + list(validation.texts)) == sorted(texts)
    none = np.zeros(len(texts), dtype=bool)  # none may judge: any row does, rather than no guard
    assert len(_hold_out(texts, matrix, 0.25, np.random.default_rng(0), none)[2].texts) == 5


def test_early_stopping_records_validation_and_keeps_the_best_epoch(encoder, monkeypatch):
    seen = []
    original = supervised.evaluate

    def recording(model, *args, **kwargs):
        out = original(model, *args, **kwargs)
        seen.append({k: v.clone() for k, v in model.state_dict().items()})
        return out

    monkeypatch.setattr(supervised, "evaluate", recording)
    clf = _clf(encoder, early_stopping=True, validation_fraction=0.25, n_iter_no_change=2, epochs=30).fit(X, Y)
    history = clf.history_
    epochs = len(history["epoch_loss"])
    assert len(history["validation_loss"]) == len(history["validation_score"]) == len(history["train_score"]) == epochs
    best = int(history["best_epoch"][0])
    assert history["validation_loss"][best - 1] == min(history["validation_loss"])
    assert epochs < 30 and epochs == best + 2  # stopped two epochs after the best one
    kept = clf.model_.state_dict()
    assert len(seen) == epochs + 1 and len(history["start_validation_loss"]) == 1  # the start is scored too
    assert history["start_validation_loss"][0] > min(history["validation_loss"]) and best > 0
    assert all(torch.equal(kept[k], seen[best][k]) for k in kept)  # the best epoch's weights, not the last
    assert not all(torch.equal(kept[k], seen[-1][k]) for k in kept)
    assert all(0.0 <= s <= 1.0 for s in history["validation_score"] + history["train_score"])
    assert len(history["loss"]) == epochs * 3  # 9 training texts in batches of 4


def test_train_score_is_the_accuracy_on_the_training_batches(encoder):
    clf = _clf(encoder, epochs=15).fit(X, Y)
    assert clf.history_["train_score"][-1] == 1.0 > clf.history_["train_score"][0]
    assert "validation_loss" not in clf.history_ and "right" not in clf.history_


def test_early_stopping_errors(encoder):
    with pytest.raises(ValueError, match="early_stopping must be True, False or 'auto'"):
        _clf(encoder, early_stopping="yes").fit(X, Y)
    with pytest.raises(ValueError, match="validation_fraction"):
        _clf(encoder, early_stopping=True, validation_fraction=1.0).fit(X, Y)
    with pytest.raises(ValueError, match="train_precision"):
        _clf(encoder, train_precision="fp16").fit(X, Y)


def test_bf16_training_runs_under_autocast_and_learns(encoder, monkeypatch):
    dtypes = []
    original = supervised.forward_batch

    def spy(*args, **kwargs):
        out = original(*args, **kwargs)
        dtypes.append(out.logits.dtype)
        return out

    monkeypatch.setattr(supervised, "forward_batch", spy)
    clf = _clf(encoder, epochs=15, train_precision="bf16", device="cpu").fit(X, Y)
    assert set(dtypes) == {torch.bfloat16}
    assert all(p.dtype == torch.float32 for p in clf.model_.parameters())  # the weights stay fp32
    assert clf.history_["train_score"][-1] == 1.0 and clf.history_["epoch_loss"][-1] < clf.history_["epoch_loss"][0]
    dtypes.clear()
    _clf(encoder, epochs=1, train_precision="fp32").fit(X, Y)
    assert set(dtypes) == {torch.float32}


def test_verbose_shows_epoch_scores_on_the_bar(encoder, capsys):
    _clf(encoder, epochs=3, verbose=1, early_stopping=True, validation_fraction=0.25).fit(X, Y)
    err = capsys.readouterr().err
    assert "val_loss=" in err and "train=" in err


def test_with_per_row_losses_an_epoch_must_clearly_beat_the_start_to_be_kept():
    from skgliclass.training.loop import BestEpoch
    from skgliclass.training.settings import TrainSettings

    settings = TrainSettings(
        epochs=5,
        batch_size=4,
        learning_rate=1e-3,
        encoder_learning_rate=1e-3,
        weight_decay=0.0,
        warmup_ratio=0.0,
        focal_alpha=None,
        focal_gamma=0.0,
        label_smoothing=0.0,
        contrastive_coef=0.0,
        n_iter_no_change=2,
    )
    model = torch.nn.Linear(1, 1, bias=False)
    best = BestEpoch(z=1.0)
    start = np.ones(4)
    epochs = [
        start,
        start - [1.0, -0.2, -0.2, 0.0],  # lower mean, but from one row: not clear, the start stays
        start - [0.3, 0.2, 0.3, 0.2],  # clear
        start - [0.3, 0.2, 0.3, 0.3],  # lower, clear: kept
        start - [0.0, 0.0, 0.0, 0.0],  # worse twice: stop
        start + 0.1,
    ]
    stops = []
    for epoch, rows in enumerate(epochs):
        with torch.no_grad():
            model.weight.fill_(epoch)
        stops.append(best.update(float(rows.mean()), epoch, model, settings, rows))
    assert stops == [False] * 5 + [True]
    assert best.epoch == 3 and best.weights["weight"].item() == 3.0
    # epoch 1 was the lowest loss then, so training went on: stopping follows the loss, keeping the clear gain
    late = BestEpoch(z=1.0)
    for epoch, rows in enumerate([*epochs[:2], epochs[1] + 0.01, epochs[1] + 0.02]):
        late.update(float(rows.mean()), epoch, model, settings, rows)
    assert late.epoch == 0 and late.stale == 2
    # A checkpoint keeps it (plain data, loadable with weights_only): a resumed fit ends as the whole one did.
    kept = BestEpoch(z=1.0)
    for epoch, rows in enumerate(epochs[:4]):
        with torch.no_grad():
            model.weight.fill_(epoch)
        kept.update(float(rows.mean()), epoch, model, settings, rows)
    buffer = io.BytesIO()
    torch.save(kept.state(), buffer)
    buffer.seek(0)
    resumed = BestEpoch(z=1.0)
    resumed.load_state(torch.load(buffer, weights_only=True))
    for epoch, rows in enumerate(epochs[4:], start=4):
        with torch.no_grad():
            model.weight.fill_(epoch)
        assert resumed.update(float(rows.mean()), epoch, model, settings, rows) == stops[epoch]
    assert resumed.epoch == 3 and resumed.weights["weight"].item() == 3.0
    # With ``keep``, a clear gain that drops the confirmed labels the start kept is refused: the start stays.
    kept = [np.ones(10, dtype=bool), np.r_[np.ones(8), np.zeros(2)].astype(bool), np.r_[np.ones(9), 0].astype(bool)]
    strict = BestEpoch(z=1.0, keep=0.9)
    for epoch, (rows, confirmed) in enumerate(zip([start, epochs[2], epochs[3]], kept, strict=True)):
        strict.update(float(rows.mean()), epoch, model, settings, rows, confirmed)
    assert strict.epoch == 2  # both cleared the start; epoch 1 kept 8 of 10 (refused), epoch 2 kept 9 of 10
    again = BestEpoch(z=1.0, keep=0.9)
    again.load_state(strict.state())
    assert again.start_kept == 10
