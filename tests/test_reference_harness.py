"""Smoke tests for the tiny-reference-checkpoint helpers in ``tests/_reference.py``."""

from __future__ import annotations

import json
import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import _reference

pytest.importorskip("gliclass")

TEXTS = ["I love this phone, the battery is great.", "The parcel arrived late and damaged.", "ok"]
LABELS = ["positive", "negative", "shipping", "product"]
EXAMPLES = [{"text": "Great value for money", "labels": ["positive", "product"]}]
COMBINATIONS = [
    ("uni-encoder", "bert"),
    ("uni-encoder", "deberta"),
    ("uni-encoder", "modernbert"),
    ("bi-encoder", "bert"),
    ("bi-encoder-fused", "bert"),
    ("encoder-decoder", "t5"),
]


def _check(logits: np.ndarray, n_texts: int = len(TEXTS), n_labels: int = len(LABELS)) -> None:
    assert isinstance(logits, np.ndarray)
    assert logits.dtype == np.float64
    assert logits.shape == (n_texts, n_labels)
    assert np.isfinite(logits).all()


def test_minilm_tokenizer_is_a_fresh_copy():
    first = _reference.minilm_tokenizer()
    first.add_tokens(["<<LABEL>>"], special_tokens=True)
    second = _reference.minilm_tokenizer()
    assert len(second) == len(first) - 1
    assert second.pad_token_id is not None


@pytest.mark.parametrize(("architecture", "backbone"), COMBINATIONS)
def test_checkpoint_and_logits(tmp_path, architecture, backbone):
    folder = _reference.make_reference_checkpoint(tmp_path / "ckpt", architecture=architecture, backbone=backbone)
    assert (folder / "config.json").is_file()
    assert (folder / "model.safetensors").is_file()
    config = json.loads((folder / "config.json").read_text())
    assert config["architecture_type"] == architecture
    n = len(_reference.minilm_tokenizer())
    assert (config["class_token_index"], config["text_token_index"], config["example_token_index"]) == (n, n + 1, n + 2)

    first = _reference.reference_logits(folder, TEXTS, LABELS, batch_size=2)
    _check(first)
    with_context = _reference.reference_logits(folder, TEXTS, LABELS, prompt="Classify the review:", examples=EXAMPLES)
    _check(with_context)
    if backbone == "t5":
        # The reference re-draws the decoder embeddings on every load; tied back, it is deterministic.
        tied = [
            _reference.reference_logits(folder, TEXTS, LABELS, batch_size=2, tie_decoder_embeddings=True)
            for _ in range(2)
        ]
        _check(tied[0])
        np.testing.assert_array_equal(tied[0], tied[1])
    else:
        np.testing.assert_array_equal(first, _reference.reference_logits(folder, TEXTS, LABELS, batch_size=2))
        # With first-token pooling, batching only changes the padding.
        np.testing.assert_allclose(first, _reference.reference_logits(folder, TEXTS, LABELS), atol=1e-3)


@pytest.mark.parametrize(
    "overrides",
    [
        {"pooling_strategy": "avg", "scorer_type": "mlp"},
        {"scorer_type": "cross-attn", "pooling_strategy": "pass", "scorer_num_heads": 4},
        {"normalize_features": True, "class_token_pooling": "average", "embed_class_token": False},
        {"extract_text_features": True, "prompt_first": True, "scorer_type": "hopfield"},
        {"scorer_type": "weighted-dot", "pooling_strategy": "abs_max"},
    ],
)
def test_config_overrides(tmp_path, overrides):
    folder = _reference.make_reference_checkpoint(tmp_path, seed=3, **overrides)
    config = json.loads((folder / "config.json").read_text())
    assert all(config[key] == value for key, value in overrides.items())
    _check(_reference.reference_logits(folder, TEXTS, LABELS, batch_size=3))


def test_probabilities(tmp_path):
    folder = _reference.make_reference_checkpoint(tmp_path, architecture="bi-encoder-fused")
    logits = _reference.reference_logits(folder, TEXTS[:2], LABELS)
    multi = _reference.reference_probs(folder, TEXTS[:2], LABELS)
    single = _reference.reference_probs(folder, TEXTS[:2], LABELS, multi_label=False)
    np.testing.assert_allclose(multi, 1.0 / (1.0 + np.exp(-logits)), rtol=1e-12)
    np.testing.assert_allclose(single.sum(axis=1), 1.0)
    assert np.array_equal(single.argmax(axis=1), logits.argmax(axis=1))


def test_seed_changes_weights(tmp_path):
    a = _reference.make_reference_checkpoint(tmp_path / "a", seed=0)
    b = _reference.make_reference_checkpoint(tmp_path / "b", seed=1)
    assert not np.allclose(_reference.reference_logits(a, TEXTS, LABELS), _reference.reference_logits(b, TEXTS, LABELS))


@pytest.mark.parametrize(("architecture", "backbone"), [("encoder-decoder", "bert"), ("uni-encoder", "t5")])
def test_rejects_mismatched_backbone(tmp_path, architecture, backbone):
    with pytest.raises(ValueError):
        _reference.make_reference_checkpoint(tmp_path, architecture=architecture, backbone=backbone)
