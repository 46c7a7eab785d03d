"""Saving is atomic per file; damaged files give errors that say what is wrong and how to fix it."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import skgliclass.persistence as persistence
from skgliclass import GLiClassZeroShot, load_pretrained, new_model, save_pretrained


@pytest.fixture
def saved(tiny_encoder_dir, tmp_path):
    model, tokenizer = new_model(str(tiny_encoder_dir("bert")), architecture="uni-encoder", pooler="mean")
    return model, tokenizer, save_pretrained(model, tokenizer, tmp_path / "ckpt")


def test_save_leaves_only_the_checkpoint_files(saved):
    _, _, folder = saved
    names = sorted(p.name for p in folder.iterdir())
    assert "config.json" in names and "model.safetensors" in names and "tokenizer.json" in names
    assert not [n for n in names if n.startswith(".") or n.endswith(".tmp")]


def test_a_failed_save_keeps_the_previous_weights(saved, monkeypatch):
    model, tokenizer, folder = saved
    before = (folder / "model.safetensors").read_bytes()

    def broken(state, path, metadata=None):
        with open(path, "wb") as handle:
            handle.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(persistence, "save_file", broken)
    with pytest.raises(OSError, match="disk full"):
        save_pretrained(model, tokenizer, folder)
    assert (folder / "model.safetensors").read_bytes() == before
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    load_pretrained(folder)  # still a whole checkpoint


@pytest.mark.parametrize("damage", ["truncate", "garble"])
def test_damaged_weights_are_named(saved, damage):
    _, _, folder = saved
    path = folder / "model.safetensors"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"\x00" * 8 + data[8:])
    with pytest.raises(ValueError, match=r"model\.safetensors is truncated or corrupted .*save the checkpoint again"):
        load_pretrained(folder)


def test_damaged_pickle_of_an_estimator_fails_loudly(saved):
    _, _, folder = saved
    clf = GLiClassZeroShot(model=str(folder), labels=["a", "b"]).fit()
    data = pickle.dumps(clf)
    with pytest.raises((pickle.UnpicklingError, EOFError, ValueError)):
        pickle.loads(data[: len(data) // 2])
    np.testing.assert_array_equal(pickle.loads(data).predict_proba(["x y"]), clf.predict_proba(["x y"]))


def test_a_fitted_state_without_its_model_is_refused(saved):
    _, _, folder = saved
    clf = GLiClassZeroShot(model=str(folder), labels=["a", "b"]).fit()
    state = clf.__getstate__()
    state.pop("_model_state")  # as a state written in another layout would lack it
    with pytest.raises(ValueError, match="fitted but its saved state holds no model"):
        GLiClassZeroShot().__setstate__(state)
    unfitted = GLiClassZeroShot(labels=["a"])
    assert pickle.loads(pickle.dumps(unfitted)).get_params() == unfitted.get_params()  # nothing fitted, nothing lost
