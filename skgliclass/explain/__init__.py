"""Explanations: which words of a text made each label's score (Captum, on whole words)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from skgliclass.batching import label_vectors
from skgliclass.explain.attribution import DEFAULT_STEPS, METHODS, OUTPUTS, Scoring, attribute, read_text
from skgliclass.explain.result import Explanation
from skgliclass.progress import progress_bar

__all__ = ["DEFAULT_STEPS", "METHODS", "OUTPUTS", "Explanation", "Scoring", "explain_estimator"]


def _requested(estimator: Any, proba: np.ndarray, labels: Any) -> list[list[int]]:
    """Per text, the columns to explain: the predicted labels by default, ``"all"``, or the named ones."""
    classes = list(estimator.classes_)
    if labels is None:
        if estimator.multilabel_:
            chosen = estimator._decide(proba)  # predict's own rule
            return [np.flatnonzero(row).tolist() or [int(p.argmax())] for row, p in zip(chosen, proba, strict=True)]
        return [[int(p.argmax())] for p in proba]
    if isinstance(labels, str) and labels == "all":
        return [list(range(len(classes)))] * len(proba)
    names = [labels] if isinstance(labels, str) or np.isscalar(labels) else list(labels)
    lookup = {str(c): j for j, c in enumerate(classes)} | {str(n): j for j, n in enumerate(estimator.label_names_)}
    missing = [n for n in names if str(n) not in lookup]
    if missing or not names:
        raise ValueError(f"labels must be None, 'all' or classes among {[str(c) for c in classes]}; got {labels!r}.")
    return [[lookup[str(n)] for n in names]] * len(proba)


def explain_estimator(
    estimator: Any,
    texts: Sequence[str],
    labels: Any = None,
    method: str = "integrated-gradients",
    n_steps: int = DEFAULT_STEPS,
    output: str = "auto",
) -> list[Explanation]:
    """See the estimators' ``explain``."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}.")
    if output not in OUTPUTS:
        raise ValueError(f"output must be one of {list(OUTPUTS)}, got {output!r}.")
    if not isinstance(n_steps, (int, np.integer)) or isinstance(n_steps, bool) or n_steps < 2:
        raise ValueError(f"n_steps must be an int >= 2, got {n_steps!r}.")
    proba = estimator.predict_proba(texts)
    columns = _requested(estimator, proba, labels)
    settings = _settings(estimator, method, int(n_steps), output)
    model = estimator.model_
    results = []
    bar = progress_bar(len(texts), bool(estimator.verbose), "explain")
    was_training = model.training
    model.eval()
    try:
        for text, row, targets in zip(texts, proba, columns, strict=True):
            results.append(_explain_one(estimator, text, row, targets, settings))
            bar.update(1)
    finally:
        model.train(was_training)
        bar.close()
    return results


def _settings(estimator: Any, method: str, n_steps: int, output: str) -> dict[str, Any]:
    """What every text's explanation shares: how the estimator reads and scores, and how to attribute."""
    scoring: Scoring = estimator._scoring()
    scoring.output = estimator._explained_output() if output == "auto" else output
    if scoring.frozen is not None:
        scoring.frozen.to(estimator.device_)
    label_texts = estimator._label_texts()
    precision = estimator.precision if estimator.precision in ("auto", "bf16", "fp16") else "fp32"
    return {
        "label_texts": label_texts,
        "reading": {
            "prompt": estimator.prompt,
            "examples": estimator._in_context_examples(),
            "windows": estimator.long_text == "chunk",
            "frozen_length": estimator.max_length_ if scoring.head is not None else None,
        },
        "attribute": {
            "n_labels": len(label_texts),
            "vectors": _label_vectors(estimator, label_texts),
            "device": estimator.device_,
            "method": method,
            "n_steps": n_steps,
            "batch_size": estimator.batch_size,
            "precision": precision,
        },
        "scoring": scoring,
    }


def _label_vectors(estimator: Any, label_texts: list[str]) -> torch.Tensor | None:
    """The bi-encoders' label vectors, encoded once for every text (the adapted ones where fit set them)."""
    fixed = getattr(estimator, "label_vectors_", None)
    if fixed is not None:
        return torch.as_tensor(fixed, dtype=torch.float32, device=estimator.device_)
    if estimator.model_.config.architecture not in ("bi-encoder", "bi-encoder-fused"):
        return None
    builder = estimator._builder
    with torch.no_grad():
        ids = builder._label_ids(label_texts)
        return label_vectors(estimator.model_, ids, builder.pad_id, estimator.device_, estimator.batch_size).float()


def _explain_one(estimator: Any, text: str, row: np.ndarray, targets: list[int], settings: dict) -> Explanation:
    builder = estimator._builder
    reading = read_text(builder, text, settings["label_texts"], **settings["reading"])
    values, scores, delta = attribute(
        estimator.model_, builder, reading, targets, settings["scoring"], **settings["attribute"]
    )
    return Explanation(
        text=text,
        words=reading.words,
        labels=[estimator.classes_[j] for j in targets],
        attributions=values.T.copy(),
        scores=scores.astype(np.float64),
        probabilities=row[targets].astype(np.float64),
        delta=np.asarray(delta, dtype=np.float64),
        method=settings["attribute"]["method"],
        output=settings["scoring"].output,
        truncated=len(reading.words) < len(text.split()),  # words past the cut were never read
    )
