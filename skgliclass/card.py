"""Model cards: a README.md beside a saved or exported model saying what it is for and how far to trust it.

Written with ``huggingface_hub``'s :class:`~huggingface_hub.ModelCard` (its metadata header is the one
model hubs read); the estimator is read through its public fitted attributes only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["card_text", "write_card"]

CARD_FILE = "README.md"


def _training(estimator: Any, training: dict | None) -> list[str]:
    lines = []
    if training:
        lines += [f"- {key.replace('_', ' ')}: {value}" for key, value in training.items()]
    method = getattr(estimator, "method_", None)
    if method is None:
        lines.append("- method: none (zero-shot: the pretrained model reads the label texts; no weights trained)")
    else:
        lines.append(f"- method: {method}, {getattr(estimator, 'epochs', '?')} epochs at most")
        runs = getattr(estimator, "average_fits_", 1)
        if runs > 1:
            lines.append(f"- weights: the mean of {runs} fine-tuning runs from the same start (average_fits)")
    history = getattr(estimator, "history_", None) or {}
    if "best_epoch" in history:
        lines.append(f"- early stopping kept epoch {history['best_epoch']}")
    if history.get("validation_score"):
        lines.append(f"- validation score at the kept epoch: {np.max(history['validation_score']):.3f}")
    if history.get("adapted_on"):
        lines.append(f"- label vectors adapted to {history['adapted_on']} unlabelled texts")
    return lines


def _probabilities(estimator: Any) -> list[str]:
    calibration = getattr(estimator, "calibration_", None)
    lines = []
    if calibration is None:
        lines.append("- calibration: none; the scores are the model's own (check them before reading 0.8 as 80%)")
    else:
        scale = np.asarray(calibration["scale"])
        lines.append(
            f"- calibration: {calibration.get('kind', 'temperature')} fitted on held-out scores "
            f"(scale {scale.min():.3g}" + (f" to {scale.max():.3g})" if scale.max() > scale.min() else ")")
        )
    if getattr(estimator, "multilabel_", False):
        thresholds = np.asarray(estimator._thresholds())
        learnt = getattr(estimator, "thresholds_", None) is not None
        where = "learnt per label from labelled texts" if learnt else "set by hand"
        lines.append(f"- decision thresholds ({where}): {', '.join(f'{t:.2f}' for t in thresholds)}")
    return lines


def card_text(estimator: Any, manifest: dict | None = None, training: dict | None = None) -> str:
    """The model card of a fitted estimator (or of its export, described by ``manifest``), as Markdown.

    Parameters
    ----------
    estimator : GLiClassifier or GLiClassZeroShot
        A fitted estimator.
    manifest : dict or None, default=None
        An export's manifest: the card then says how to load the folder without torch.
    training : dict or None, default=None
        What the caller knows of the training data (e.g. ``{"training_texts": 40}``).

    Returns
    -------
    str

    Examples
    --------
    >>> from skgliclass import GLiClassZeroShot
    >>> from skgliclass.card import card_text
    >>> print(card_text(GLiClassZeroShot(labels=["sport", "politics"]).fit()).splitlines()[0])
    ---
    """
    from huggingface_hub import ModelCard, ModelCardData

    from skgliclass.version import __version__

    kind = type(estimator).__name__
    classes = [str(c) for c in estimator.classes_]
    task = "multi-label (each label a separate yes/no)" if estimator.multilabel_ else "single-label (one per text)"
    data = ModelCardData(library_name="skgliclass", pipeline_tag="text-classification", tags=["gliclass", kind])
    labels = ", ".join(repr(str(n)) for n in estimator.label_names_)
    load = (
        "from skgliclass.onnx import ONNXClassifier  # onnxruntime, no torch\n"
        'clf = ONNXClassifier("path/to/this/folder")'
        if manifest
        else "from skgliclass import GLiClassZeroShot\n"
        f'clf = GLiClassZeroShot(model="path/to/this/folder", labels=[{labels}]).fit()\n'
        "# the whole fitted estimator (head, calibration, thresholds): skgliclass classify --model path/to/this/folder"
    )
    body = "\n".join(
        [
            f"# {kind} text classifier",
            "",
            f"A {task} text classifier made with skgliclass {__version__} "
            f"({estimator.config_.architecture}, GLiClass).",
            "",
            "## Intended use",
            "",
            f"Sorting texts like those it was built for into the labels below. Texts are read up to "
            f"{estimator.max_length_} tokens (long texts: `{estimator.long_text}`).",
            "",
            "## Labels",
            "",
            *[f'- `{c}`: read as "{t}"' for c, t in zip(classes, estimator._label_texts(), strict=True)],
            "",
            "## Training",
            "",
            *_training(estimator, training),
            "",
            "## Probabilities and decisions",
            "",
            *_probabilities(estimator),
            "",
            "## Limitations",
            "",
            "- Measure it on your own labelled texts before trusting it: scores vary from one kind of text to another.",
            "- Labels it was not built with, other languages and much longer texts than its training texts may "
            "score poorly.",
            "- Few-shot models learnt from a handful of examples can pick up their quirks (names, sources).",
            "",
            "## How to load",
            "",
            "```python",
            load,
            'clf.predict(["some text"])',
            "```",
            "",
        ]
    )
    return str(ModelCard(f"---\n{data.to_yaml()}\n---\n\n{body}"))


def write_card(folder: str | Path, estimator: Any, manifest: dict | None = None, training: dict | None = None) -> Path:
    """Write :func:`card_text` to ``folder/README.md`` and return its path.

    Parameters
    ----------
    folder : str or path-like
        An existing folder.
    estimator, manifest, training
        As for :func:`card_text`.

    Returns
    -------
    Path

    Examples
    --------
    >>> write_card("my-model", clf)  # doctest: +SKIP
    PosixPath('my-model/README.md')
    """
    path = Path(folder) / CARD_FILE
    path.write_text(card_text(estimator, manifest, training), encoding="utf-8")
    return path
