"""The embedded all-MiniLM-L6-v2 on real BBC News: the tests that need real language understanding."""

from __future__ import annotations

import numpy as np
import pytest

from skgliclass import GLiClassifier, GLiClassZeroShot
from skgliclass.datasets import BBC_LABELS, load_bbc_news

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bbc():
    texts, labels = load_bbc_news(n_per_class=14, random_state=3, max_chars=400)
    return np.array(texts, dtype=object), np.array(labels)


def test_zero_shot_default_reads_topics(bbc):
    texts, labels = bbc
    names = {"sports": "sport", "tech": "technology"}
    clf = GLiClassZeroShot(labels=[names.get(c, c) for c in BBC_LABELS], max_length=128).fit()
    predicted = clf.predict(texts)
    truth = np.array([names.get(c, c) for c in labels])
    assert (predicted == truth).mean() >= 0.7  # chance is 0.2


def test_few_shot_default_improves_on_zero_shot(bbc):
    texts, labels = bbc
    train = np.concatenate([np.flatnonzero(labels == c)[:4] for c in BBC_LABELS])
    test = np.setdiff1d(np.arange(len(labels)), train)
    clf = GLiClassifier(max_length=128, random_state=0).fit(texts[train], labels[train])
    accuracy = clf.score(texts[test], labels[test])
    zero = GLiClassZeroShot(labels=list(BBC_LABELS), max_length=128).fit().score(texts[test], labels[test])
    assert accuracy >= 0.8 and accuracy >= zero - 0.02
