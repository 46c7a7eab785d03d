"""Several fine-tuning runs averaged into one model: the mean of the weights, the histories, the choice of runs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _tiny_texts import X, Y, tiny_classifier

from skgliclass.card import write_card
from skgliclass.estimators import classifier as classifier_module
from skgliclass.training.averaging import average_runs


def _run_setting(model: torch.nn.Module, values: list[float], interrupt_at: int | None = None):
    """A ``train`` that moves the weights to the next of ``values`` (plus what they held), as runs would."""
    calls = []

    def train() -> dict:
        run = len(calls)
        calls.append(model.weight.detach().clone())
        with torch.no_grad():
            model.weight.add_(values[run])
        history = {"epoch_loss": [float(run), float(run)], "epoch_seconds": [0.1, 0.1]}
        if interrupt_at == run:
            history["interrupted_at_epoch"] = [1.0]
        return history

    return train, calls


def test_the_model_holds_the_mean_of_the_runs_from_one_start():
    model = torch.nn.Linear(2, 1)
    model.register_buffer("steps", torch.tensor([7]))  # an integer buffer is left as it is
    start = model.weight.detach().clone()
    train, calls = _run_setting(model, [1.0, 2.0, 6.0])
    history = average_runs(model, 3, train)
    assert all(torch.equal(c, start) for c in calls)  # every run began from the same weights
    torch.testing.assert_close(model.weight, start + 3.0)
    assert model.steps.tolist() == [7]
    assert history["epoch_loss"] == [0.0, 0.0, 1.0, 1.0, 2.0, 2.0] and history["run"] == [0, 0, 1, 1, 2, 2]


def test_one_run_is_the_plain_fit_and_a_stopped_run_ends_the_averaging():
    model = torch.nn.Linear(2, 1)
    start = model.weight.detach().clone()
    train, _ = _run_setting(model, [1.0])
    assert "run" not in average_runs(model, 1, train)
    torch.testing.assert_close(model.weight, start + 1.0)

    model = torch.nn.Linear(2, 1)
    start = model.weight.detach().clone()
    train, calls = _run_setting(model, [1.0, 3.0, 5.0], interrupt_at=1)
    history = average_runs(model, 3, train)
    assert len(calls) == 2 and history["interrupted_at_epoch"] == [1.0]
    torch.testing.assert_close(model.weight, start + 1.0)  # the finished run only: the stopped one is dropped


@pytest.fixture(scope="module")
def encoder(tiny_encoder_dir):
    return str(tiny_encoder_dir("bert"))


def test_auto_averages_three_runs_of_a_small_training_set(encoder, monkeypatch):
    clf = tiny_classifier(encoder, average_fits="auto", epochs=2).fit(X, Y)
    assert clf.average_fits_ == 3 and sorted(set(clf.history_["run"])) == [0, 1, 2]
    assert len(clf.history_["epoch_loss"]) == 6
    # the first run is the single fit: the same seed, the same batches
    single = tiny_classifier(encoder, average_fits=1, epochs=2).fit(X, Y)
    assert single.average_fits_ == 1 and "run" not in single.history_
    assert single.history_["epoch_loss"] == clf.history_["epoch_loss"][:2]
    assert not np.allclose(single.decision_function(X), clf.decision_function(X))
    stopped = tiny_classifier(encoder, average_fits="auto", epochs=2, early_stopping=True).fit(X, Y)
    assert stopped.average_fits_ == 1  # early stopping keeps its best epoch as the one model
    monkeypatch.setattr(classifier_module, "AUTO_AVERAGE_MAX_TOKENS", 10)  # a training set over the budget
    assert tiny_classifier(encoder, average_fits="auto", epochs=1).fit(X, Y).average_fits_ == 1


def test_averaged_fit_learns_and_says_so_in_its_card(encoder, tmp_path):
    clf = tiny_classifier(encoder, average_fits=2).fit(X, Y)
    assert clf.average_fits_ == 2
    assert (clf.predict(X) == np.asarray(Y)).mean() >= 0.75  # the mean of two fits still learnt the texts
    text = write_card(tmp_path, clf).read_text()
    assert "the mean of 2 fine-tuning runs" in text


def test_reviewer_and_checkpointed_fits_train_once(encoder, tmp_path):
    ppo = tiny_classifier(encoder, method="ppo", epochs=1).fit(X, Y)
    assert ppo.average_fits_ == 1
    with pytest.raises(ValueError, match="average_fits=2 averages supervised fits"):
        tiny_classifier(encoder, method="ppo", epochs=1, average_fits=2).fit(X, Y)
    with pytest.raises(ValueError, match="checkpointed"):
        tiny_classifier(encoder, epochs=1, average_fits=2, checkpoint_dir=str(tmp_path)).fit(X, Y)
    with pytest.raises(ValueError, match="average_fits"):
        tiny_classifier(encoder, average_fits=0).fit(X, Y)
