"""A logistic-regression head on the frozen starting encoder, mixed into a fine-tuned model's scores.

Fine-tuning on a few texts per class moves the encoder a long way from a handful of gradients;
on tasks whose label names say little (sentiment, stance, integer codes), that can land below a
plain logistic regression on the untouched sentence embeddings. Mixing the two log-probabilities
keeps the best of both: where the fine-tuned model is sure, it decides; where it is not, the
frozen embeddings' linear view of the same few texts does.

The head is stored as plain arrays (no scikit-learn object) so that pickle, joblib and skops keep it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from safetensors.torch import load as load_bytes
from safetensors.torch import save as save_bytes
from scipy.optimize import minimize
from scipy.special import log_softmax
from sklearn.linear_model import LogisticRegression
from torch import nn
from transformers import AutoConfig, AutoModel
from transformers.initialization import no_init_weights

from skgliclass._logging import quiet_transformers
from skgliclass.batching import length_batches, pad_batch
from skgliclass.modeling.model import GLiClassModel
from skgliclass.scores import LOG_FLOOR, linear_log_proba, mix

__all__ = [
    "LinearHead",
    "dump_encoder",
    "embed",
    "fit_linear_head",
    "frozen_encoder",
    "mix",
    "restore_encoder",
    "sentence_vectors",
    "stack_weights",
    "two_folds",
]


def frozen_encoder(model: GLiClassModel) -> nn.Module:
    """A frozen copy of ``model``'s text backbone, taken before fine-tuning changes it."""
    backbone = getattr(model.model, "encoder_model", None)
    if backbone is None:
        raise ValueError(
            f"embedding_head needs a text backbone; the {model.config.architecture} has none of its own. "
            "Set embedding_head=0."
        )
    frozen = copy.deepcopy(backbone).eval()
    frozen.requires_grad_(False)
    return frozen


@torch.inference_mode()
def embed(
    encoder: nn.Module,
    tokenizer: Any,
    texts: Sequence[str],
    max_length: int,
    device: torch.device,
    batch_size: int = 32,
) -> np.ndarray:
    """Mean-pooled, L2-normalised last hidden states of ``texts``: ``(n, D)`` float32."""
    encoder.to(device)
    ids = tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]
    out = np.zeros((len(ids), encoder.config.hidden_size), dtype=np.float32)
    for batch in length_batches([len(i) for i in ids], batch_size):
        rows, mask = pad_batch([ids[i] for i in batch], tokenizer.pad_token_id or 0, device)  # (B, L) each
        out[batch] = (
            sentence_vectors(encoder(input_ids=rows, attention_mask=mask).last_hidden_state, mask).cpu().numpy()
        )
    return out


def sentence_vectors(states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Hidden states ``(B, L, D)`` mean-pooled over ``mask`` ``(B, L)`` and L2-normalised: ``(B, D)`` float32."""
    states = states.float()
    pooled = (states * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True)
    return torch.nn.functional.normalize(pooled, dim=-1)


class LinearHead:
    """Weights ``(C, D)`` and biases ``(C,)`` of a logistic regression, one row per class."""

    def __init__(self, coef: np.ndarray, intercept: np.ndarray) -> None:
        self.coef = np.asarray(coef, dtype=np.float64)
        self.intercept = np.asarray(intercept, dtype=np.float64)

    def log_proba(self, vectors: np.ndarray, multilabel: bool) -> np.ndarray:
        """Log-probabilities ``(n, C)``: softmax rows (single-label) or each label's log-odds (multi-label)."""
        return linear_log_proba(self.coef, self.intercept, vectors, multilabel)


def fit_linear_head(vectors: np.ndarray, targets: np.ndarray, multilabel: bool) -> LinearHead:
    """Logistic regression (scikit-learn's defaults, C=1) on ``vectors`` against 0/1 ``targets`` ``(n, C)``.

    Single-label: one multinomial model. Multi-label: one binary model per label on the rows where that
    label is known (negative entries mean unknown); a label seen with one value only gets a constant score.
    """
    n_classes = targets.shape[1]
    coef = np.zeros((n_classes, vectors.shape[1]))
    intercept = np.zeros(n_classes)
    if not multilabel:
        y = targets.argmax(1)
        lr = LogisticRegression(max_iter=2000).fit(vectors, y)
        if len(lr.classes_) == 2:  # one row: log-odds of the second class; the first scores 0
            coef[lr.classes_[1]], intercept[lr.classes_[1]] = lr.coef_[0], lr.intercept_[0]
        else:
            coef[lr.classes_], intercept[lr.classes_] = lr.coef_, lr.intercept_
        missing = np.setdiff1d(np.arange(n_classes), lr.classes_)
        intercept[missing] = -np.inf if len(missing) else 0.0  # a class with no training row is never chosen
        return LinearHead(coef, intercept)
    for j in range(n_classes):
        known = targets[:, j] >= 0
        column = targets[known, j]
        if len(np.unique(column)) < 2:
            rate = float(np.clip(column.mean() if len(column) else 0.5, LOG_FLOOR, 1 - LOG_FLOOR))
            intercept[j] = np.log(rate / (1 - rate))
            continue
        lr = LogisticRegression(max_iter=2000).fit(vectors[known], column)
        coef[j], intercept[j] = lr.coef_[0], lr.intercept_[0]
    return LinearHead(coef, intercept)


def two_folds(y: np.ndarray, rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    """Two stratified halves of the rows of class ids ``y``: ``[(train, held), (held, train)]``."""
    first = np.zeros(len(y), dtype=bool)
    for c in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == c))
        # Alternate which half gets a class's odd row out, so the halves stay the same size.
        first[rows[: (len(rows) + int(c) % 2) // 2]] = True
    a, b = np.flatnonzero(first), np.flatnonzero(~first)
    return [(a, b), (b, a)]


def stack_weights(
    model: np.ndarray, head: np.ndarray, y: np.ndarray, limit: float = 20.0, use_head: bool = True
) -> tuple[float, float]:
    """Weights ``(a, b) >= 0`` of ``a * model + b * head`` (held-out log-probabilities ``(n, C)``) that
    maximise the likelihood of the true classes ``y`` (``use_head=False``: ``b = 0``, ``a`` alone).

    The negative log-likelihood of ``softmax(a M + b H)`` is convex in ``(a, b)``, so the bounded
    optimum is unique; the fitted weights also undo over- or under-confidence (a temperature).
    """
    rows = np.arange(len(y))
    head = np.maximum(head, np.log(LOG_FLOOR))

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = w[0] * model + w[1] * head
        logp = log_softmax(z, axis=1)
        p = np.exp(logp)
        grad = [np.mean((p * m).sum(1) - m[rows, y]) for m in (model, head)]
        return float(-logp[rows, y].mean()), np.asarray(grad)

    bounds = [(0.0, limit), (0.0, limit if use_head else 0.0)]
    found = minimize(loss, x0=np.array([1.0, float(use_head)]), jac=True, bounds=bounds, method="L-BFGS-B")
    a, b = (float(v) for v in found.x)
    return (a, b if b > 1e-6 else 0.0)


def dump_encoder(encoder: nn.Module) -> dict[str, Any]:
    """The frozen encoder as plain data: its config JSON and safetensors bytes."""
    weights = {k: v.detach().cpu().contiguous() for k, v in encoder.state_dict().items()}
    return {"config": encoder.config.to_json_string(), "weights": save_bytes(weights)}


def restore_encoder(stored: dict[str, Any]) -> nn.Module:
    """Rebuild what :func:`dump_encoder` stored, on the CPU, frozen."""
    settings = json.loads(stored["config"])
    config = AutoConfig.for_model(settings.pop("model_type"), **settings)
    with quiet_transformers(), no_init_weights():
        encoder = AutoModel.from_config(config)
    weights = load_bytes(stored["weights"])
    encoder.resize_token_embeddings(weights[next(k for k in weights if k.endswith("word_embeddings.weight"))].shape[0])
    encoder.load_state_dict(weights)
    encoder.eval().requires_grad_(False)
    return encoder
