"""Faults during fit: non-finite losses, out-of-memory, interrupts, checkpoints and resuming."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import skgliclass.training.ppo as ppo_module
import skgliclass.training.supervised as supervised
from skgliclass import GLiClassifier

X = [f"text {i} about {topic}" for i in range(6) for topic in ("the match", "the vote", "a chip")]
Y = ["sport", "politics", "tech"] * 6


@pytest.fixture(scope="module")
def encoder(tiny_encoder_dir):
    return str(tiny_encoder_dir("bert"))


def _clf(encoder, **kwargs):
    params = dict(model=encoder, epochs=2, batch_size=4, learning_rate=5e-3, random_state=0, average_fits=1)
    params["calibration"] = None  # one training run to follow: no cross-fitting for a map
    params.update(kwargs)
    return GLiClassifier(**params)


def _break_step(monkeypatch, when, make):
    """Make the focal step's loss misbehave on the calls ``when`` returns True for."""
    original, calls = supervised._step_loss, []

    def step_loss(*args, **kwargs):
        calls.append(len(args[2]))
        loss, logits = original(*args, **kwargs)
        return (make(loss, args[2]), logits) if when(len(calls), args[2]) else (loss, logits)

    monkeypatch.setattr(supervised, "_step_loss", step_loss)
    return calls


def _weights(clf):
    return {k: v.detach().clone() for k, v in clf.model_.state_dict().items()}


def test_nan_loss_stops_the_fit_naming_the_step(encoder, monkeypatch):
    _break_step(monkeypatch, lambda call, _: call == 3, lambda loss, _: loss * float("nan"))
    with pytest.raises(FloatingPointError, match=r"step 3 \(epoch 1\).*on_bad_batch='skip'"):
        _clf(encoder).fit(X, Y)


def test_skipped_bad_batches_are_counted_and_leave_finite_weights(encoder, monkeypatch):
    _break_step(monkeypatch, lambda call, _: call in (2, 7), lambda loss, _: loss * float("inf"))
    clf = _clf(encoder, on_bad_batch="skip").fit(X, Y)
    assert clf.history_["skipped_batches"] == [2, 7]
    assert len(clf.history_["loss"]) == 2 * 5 - 2  # 18 texts in batches of 4: 5 steps per epoch
    assert all(torch.isfinite(v).all() for v in _weights(clf).values() if v.is_floating_point())
    assert np.isfinite(clf.predict_proba(X)).all()


def test_non_finite_gradients_are_bad_batches_too(encoder, monkeypatch):
    # A finite loss whose gradient is NaN (sqrt at 0): caught before the optimiser moves any weight.
    _break_step(monkeypatch, lambda call, _: call == 1, lambda loss, _: loss + 0 * torch.sqrt(loss * 0))
    clf = _clf(encoder, on_bad_batch="skip", epochs=1)
    clf.fit(X, Y)
    assert clf.history_["skipped_batches"] == [1]


def test_ppo_bad_updates_are_caught(encoder, monkeypatch):
    from skgliclass.training.policies import BernoulliPolicy

    original, calls = BernoulliPolicy.entropy, []

    def entropy(self, logits, mask):
        calls.append(1)
        value = original(self, logits, mask)
        return value * float("nan") if len(calls) == 2 else value

    monkeypatch.setattr(BernoulliPolicy, "entropy", entropy)
    with pytest.raises(FloatingPointError, match=r"step 1 \(epoch 1\): the loss of update 2"):
        _clf(encoder, method="ppo", multi_label=True).fit(X, [[y] for y in Y])
    calls.clear()
    clf = _clf(encoder, method="ppo", multi_label=True, on_bad_batch="skip").fit(X, [[y] for y in Y])
    assert clf.history_["skipped_batches"] == [1]


def test_out_of_memory_halves_the_batch_and_trains_on_every_text(encoder, monkeypatch):
    def oom(loss, texts):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")

    calls = _break_step(monkeypatch, lambda call, texts: len(texts) > 2, oom)
    with pytest.warns(UserWarning, match="ran out of memory; training goes on with batches of 2"):
        clf = _clf(encoder, epochs=1).fit(X, Y)
    assert clf.history_["batch_size"][0] == 2
    trained = [n for n in calls if n <= 2]
    assert sum(trained) == len(X)  # every text of the epoch was trained on, in halves
    assert np.isfinite(clf.predict_proba(X)).all()


def test_interrupt_keeps_the_last_finished_epoch(encoder, monkeypatch, tmp_path):
    # A checkpoint at the end of epoch 1 (5 steps) records the weights the interrupt must restore.
    def interrupt(loss, texts):
        raise KeyboardInterrupt

    _break_step(monkeypatch, lambda call, _: call == 8, interrupt)
    with pytest.warns(UserWarning, match="interrupted in epoch 2: the model keeps the weights of epoch 1"):
        clf = _clf(encoder, checkpoint_dir=str(tmp_path), checkpoint_every=5).fit(X, Y)
    saved = torch.load(tmp_path / "step-00000005.pt", weights_only=False)["model"]
    now = clf.model_.state_dict()
    assert all(torch.equal(saved[k], now[k].cpu()) for k in saved)
    assert clf.history_["interrupted_at_epoch"] == [2.0]
    assert clf.predict(X).shape == (len(X),)


def test_interrupt_in_the_first_epoch_keeps_the_start(encoder, monkeypatch):
    def interrupt(loss, texts):
        raise KeyboardInterrupt

    _break_step(monkeypatch, lambda call, _: call == 2, interrupt)
    with pytest.warns(UserWarning, match="the start \\(no epoch had finished\\)"):
        clf = _clf(encoder).fit(X, Y)
    assert clf.predict_proba(X).shape == (len(X), 3)


def _reviewer(texts, actions, probs):
    """Right (1) or wrong (0) for each label shown, nothing about the others."""
    truth = np.array([[topic in text for topic in ("the vote", "the match", "a chip")] for text in texts])
    return np.where(actions == 1, truth.astype(float), np.nan)


@pytest.mark.parametrize("method", ["focal", "ppo", "reviewer"])
def test_resume_continues_exactly_where_the_fit_stopped(encoder, monkeypatch, tmp_path, method):
    y = [[v] for v in Y] if method == "ppo" else None if method == "reviewer" else Y
    # The mlp scorer starts near p = 0.5 on the random encoder; small steps keep it off saturation,
    # so the sampled actions (and the sampler's restored state) matter.
    ppo = {"method": "ppo", "multi_label": True, "scorer": "mlp", "pooler": "mean", "learning_rate": 1e-3}
    extra = {**ppo, "encoder_learning_rate": 1e-3} if method != "focal" else {}
    if method == "reviewer":  # the remembered verdicts travel in the checkpoint too
        extra.update(reward=_reviewer, labels=["politics", "sport", "tech"], early_stopping=False)
    whole = _clf(encoder, epochs=3, **extra).fit(X, y).predict_proba(X)
    folder = tmp_path / "ckpt"
    stopped = {"n": 0}
    original = supervised._step_loss if method == "focal" else ppo_module.PPOTrainer.update

    def counting(*args, **kwargs):
        stopped["n"] += 1
        if stopped["n"] == 9:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    target = (supervised, "_step_loss") if method == "focal" else (ppo_module.PPOTrainer, "update")
    if method == "reviewer":
        assert "replay" in _clf(encoder, epochs=1, **extra).fit(X, y).history_
    monkeypatch.setattr(*target, counting)
    with pytest.warns(UserWarning, match="resume from the checkpoints in"):
        interrupted = _clf(encoder, epochs=3, checkpoint_dir=str(folder), checkpoint_every=2, **extra).fit(X, y)
    monkeypatch.setattr(*target, original)
    assert np.abs(interrupted.predict_proba(X) - whole).max() > 1e-3  # the last epochs matter, so the check can fail
    assert sorted(p.name for p in folder.iterdir()) == ["step-00000004.pt", "step-00000006.pt", "step-00000008.pt"]
    resumed = _clf(encoder, epochs=3, checkpoint_dir=str(folder), checkpoint_every=2, resume=True, **extra)
    np.testing.assert_allclose(resumed.fit(X, y).predict_proba(X), whole, atol=1e-6)
    assert len(resumed.history_["loss"]) == 15


def test_resume_keeps_the_best_epoch_early_stopping_found_before_the_interruption(encoder, monkeypatch, tmp_path):
    stopping = {"early_stopping": True, "validation_fraction": 0.25, "n_iter_no_change": 10, "epochs": 4}
    judged = supervised.evaluate
    epochs: list[int] = []  # the epoch each validation of the next fit scores (0: the start)

    def judge(*args, **kwargs):  # epoch 1 clearly best, every later one worse: the fit keeps epoch 1
        loss, score, rows, kept = judged(*args, **kwargs)
        shift = {0: 0.0, 1: -1.0}.get(epochs.pop(0), 1.0)
        return loss + shift, score, None if rows is None else rows + shift, kept

    monkeypatch.setattr(supervised, "evaluate", judge)
    epochs[:] = [0, 1, 2, 3, 4]
    whole = _clf(encoder, **stopping).fit(X, Y)
    assert whole.history_["best_epoch"] == [1.0]
    folder = tmp_path / "ckpt"
    original = supervised._step_loss

    def interrupting(*args, **kwargs):
        if not epochs:  # the start and two epochs judged: stop in the third
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(supervised, "_step_loss", interrupting)
    epochs[:] = [0, 1, 2]
    with pytest.warns(UserWarning, match="resume from the checkpoints in"):
        _clf(encoder, checkpoint_dir=str(folder), checkpoint_every=1, **stopping).fit(X, Y)
    monkeypatch.setattr(supervised, "_step_loss", original)
    # The newest checkpoint is epoch 2's last step, before its validation: the resumed fit judges its start
    # again, then epochs 2, 3 and 4.
    epochs[:] = [0, 2, 3, 4]
    resumed = _clf(encoder, checkpoint_dir=str(folder), checkpoint_every=1, resume=True, **stopping).fit(X, Y)
    assert resumed.history_["best_epoch"] == [1.0]
    np.testing.assert_allclose(resumed.predict_proba(X), whole.predict_proba(X), atol=1e-6)


class _RunsCode:
    """A pickled object that would run code when loaded, as a doctored checkpoint could hold."""

    def __reduce__(self):
        return (exec, ("import pathlib; pathlib.Path('RAN').write_text('yes')",))


def test_resume_refuses_a_doctored_checkpoint(encoder, tmp_path, monkeypatch):
    import torch

    _clf(encoder, epochs=1, checkpoint_dir=str(tmp_path), checkpoint_every=2).fit(X, Y)
    newest = sorted(tmp_path.glob("step-*.pt"))[-1]
    payload = torch.load(newest, weights_only=True)
    payload["history"]["loss"] = _RunsCode()
    torch.save(payload, newest)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="more than tensors and plain data, which resume=True never loads"):
        _clf(encoder, epochs=1, checkpoint_dir=str(tmp_path), checkpoint_every=2, resume=True).fit(X, Y)
    assert not (tmp_path / "RAN").exists()


def test_resume_refuses_a_checkpoint_of_another_fit(encoder, tmp_path):
    _clf(encoder, epochs=1, checkpoint_dir=str(tmp_path), checkpoint_every=2).fit(X, Y)
    other = list(reversed(Y))
    with pytest.raises(ValueError, match="comes from a fit with other data or settings"):
        _clf(encoder, epochs=1, checkpoint_dir=str(tmp_path), resume=True).fit(X, other)
    # Nothing there yet: resume starts afresh.
    clf = _clf(encoder, epochs=1, checkpoint_dir=str(tmp_path / "empty"), resume=True).fit(X, Y)
    assert len(clf.history_["loss"]) == 5


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"on_bad_batch": "ignore"}, "on_bad_batch"),
        ({"checkpoint_every": 0}, "checkpoint_every"),
        ({"resume": True}, "resume=True continues from checkpoint_dir"),
        ({"checkpoint_dir": 3}, "checkpoint_dir must be a folder path"),
    ],
)
def test_fault_settings_are_checked(encoder, params, message):
    with pytest.raises(ValueError, match=message):
        _clf(encoder, **params).fit(X, Y)
