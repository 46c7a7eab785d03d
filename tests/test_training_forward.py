"""The training forward pass: label chunks joined, shuffled label order put back."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from skgliclass import GLiClassifier
from skgliclass.training.forward import forward_batch

TEXTS = ["the cat sat on the mat", "a bus to the city", "fresh bread and cheese"]
LABELS = ["animals and pets", "vehicles on the road", "food and cooking", "colours of paint", "music and songs"]


@pytest.mark.parametrize("architecture", ["uni-encoder", "bi-encoder-fused", "bi-encoder"])
@pytest.mark.parametrize("max_length", [512, 20])  # 20 tokens: the labels spread over several chunks
def test_columns_come_back_in_label_order(tiny_encoder_dir, architecture, max_length):
    clf = GLiClassifier(
        model=str(tiny_encoder_dir("bert")),
        architecture=architecture,
        scorer="mlp",
        epochs=1,
        learning_rate=1e-12,
        encoder_learning_rate=1e-12,
        max_length=max_length,
        random_state=0,
    ).fit(
        TEXTS,
        ["animal", "vehicle", "food"],
    )
    model, builder, device = clf.model_.eval(), clf._builder, clf.device_
    order = np.array([3, 0, 4, 2, 1])
    with torch.no_grad():
        shuffled = forward_batch(model, builder, TEXTS, LABELS, device, order=order)
        as_read = forward_batch(model, builder, TEXTS, [LABELS[j] for j in order], device)
    assert shuffled.logits.shape == (3, 5) and shuffled.mask.all()
    chunks = len(builder.build(TEXTS, LABELS).chunks)
    assert chunks > 1 if max_length == 20 and architecture == "uni-encoder" else chunks == 1
    expected = as_read.logits[:, np.argsort(order)]
    torch.testing.assert_close(shuffled.logits, expected, rtol=0, atol=1e-6)
    if architecture != "bi-encoder":  # position matters here, so the check above is not vacuous
        assert not torch.allclose(shuffled.logits, as_read.logits)
