"""Per-word attributions of an estimator's scores, with Captum over the text's input embeddings.

The explained quantity is what ``decision_function`` returns for a label: the model's logit, less the
adapted labels' offsets, mixed with the embedding head, mapped by the calibration. The text is read
exactly as prediction reads it (the same rows, cut or windows, label chunks), and only the text's own
token embeddings move: the label prompt, the prompt and the special tokens stay as they are. The
baseline puts the padding token's embedding at every text position: the same frame with the words
taken out, which the model reads as no text at all.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
from torch import nn

from skgliclass.batching import chunk_inputs
from skgliclass.data.prompts import InputBuilder
from skgliclass.embedding_head import LOG_FLOOR, LinearHead, sentence_vectors
from skgliclass.inference import autocast_context
from skgliclass.modeling.model import GLiClassModel

__all__ = ["METHODS", "OUTPUTS", "Scoring", "attribute", "text_embeddings"]

# Gauss-Legendre nodes: on BBC articles, 16 left gaps up to 6% of the score's change, 24 under 0.5%.
DEFAULT_STEPS = 24
# Fine-tuned models are sharper: on BBC a quarter of GLiClassifier's explanations missed the sum by over 5% at 24
# nodes. Such an explanation is redone with twice the nodes, at most twice (96 nodes from 24).
GAP_TOLERANCE = 0.05
REFINE = 2
METHODS = {
    "integrated-gradients": "Integrated gradients from the padding baseline (Captum's IntegratedGradients)",
    "occlusion": "Each word replaced by padding in turn; the score's drop (Captum's FeatureAblation)",
}

# What a label's attributions add up to: the change of the log-odds of its probability (other labels' pull
# included, so a word that lifts every label alike gets nothing, and no flat top where the label is sure), of the
# log of its probability, or of its decision_function score; "auto" lets the estimator choose.
OUTPUTS = ("auto", "log-odds", "log-proba", "score")


@dataclass
class Scoring:
    """How an estimator turns the model's logits ``(B, C)`` into its decision scores, as torch operations.

    Attributes
    ----------
    multilabel : bool
    offsets : ndarray of shape (n_classes,) or None
        Subtracted from the logits (a zero-shot fit's adapted labels).
    head : LinearHead or None
        A logistic regression on the frozen encoder's mean-pooled states, mixed in with ``head_weights``.
    frozen : nn.Module or None
        That frozen encoder.
    head_weights : tuple of float
    calibration : dict or None
        The fitted map (``scale``, ``bias``).
    output : {"log-odds", "log-proba", "score"}
        What comes out: the log-odds of ``predict_proba`` (softmax or sigmoid of the scores), its log, or
        the scores.
    """

    multilabel: bool
    offsets: np.ndarray | None = None
    head: LinearHead | None = None
    frozen: nn.Module | None = None
    head_weights: tuple[float, float] = (1.0, 0.0)
    calibration: dict | None = None
    output: str = "score"

    def __call__(self, logits: torch.Tensor, head_vectors: torch.Tensor | None) -> torch.Tensor:
        """Decision scores ``(B, C)`` from logits ``(B, C)`` and, with a head, the frozen vectors ``(B, D)``."""
        z = logits.double()
        if self.offsets is not None:
            z = z - torch.as_tensor(self.offsets, device=z.device)
        if self.head is not None and head_vectors is not None:
            a, b = self.head_weights
            coef = torch.as_tensor(self.head.coef, device=z.device)
            head = head_vectors.double() @ coef.T + torch.as_tensor(self.head.intercept, device=z.device)
            if self.multilabel:
                z = a * z + b * head
            else:
                head = torch.clamp(torch.log_softmax(head, dim=1), min=float(np.log(LOG_FLOOR)))
                z = a * torch.log_softmax(z, dim=1) + b * head
        if self.calibration is not None:
            scale = torch.as_tensor(self.calibration["scale"], device=z.device)
            z = z * scale + torch.as_tensor(self.calibration["bias"], device=z.device)
        if self.output == "log-proba":
            return torch.nn.functional.logsigmoid(z) if self.multilabel else torch.log_softmax(z, dim=1)
        if self.output == "log-odds" and not self.multilabel:
            return _log_odds(z)
        return z  # a sigmoid's log-odds are the scores


def _log_odds(z: torch.Tensor) -> torch.Tensor:
    """``log p / (1 - p)`` of each column's softmax ``(B, C)``: its score less the log-sum-exp of the others."""
    n = z.shape[1]
    if n == 1:
        return z  # one label: no other to weigh against
    others = z.unsqueeze(1).expand(-1, n, -1).masked_fill(torch.eye(n, dtype=torch.bool, device=z.device), -torch.inf)
    return z - torch.logsumexp(others, dim=2)


def text_embeddings(model: GLiClassModel) -> nn.Module:
    """The embedding table that reads the text (the encoder's, for an encoder-decoder)."""
    variant = model.model
    backbone = getattr(variant, "encoder_model", None)
    if backbone is None:
        backbone = variant.encoder_decoder_model.get_encoder()
    return backbone.get_input_embeddings()


@contextlib.contextmanager
def _substitute(module: nn.Module) -> Iterator[list]:
    """While open, the next call of ``module`` returns the tensor put in the yielded list instead (one call
    only: an encoder-decoder's shared table also embeds the decoder's ids, which stay as they are)."""
    armed: list = []

    def hook(_module: nn.Module, _inputs: Any, output: torch.Tensor) -> torch.Tensor:
        return armed.pop().to(output.dtype) if armed else output

    handle = module.register_forward_hook(hook)
    try:
        yield armed
    finally:
        handle.remove()


@dataclass
class _Row:
    """One row the model reads for the text: its ids, and where the moving text tokens sit in it."""

    chunk: int
    ids: list[int]
    positions: np.ndarray  # positions in the row
    slots: np.ndarray  # the attributed token each position holds


@dataclass
class Reading:
    """How the model reads one text: its rows per label chunk, and the words of the tokens that move."""

    rows: list[_Row]
    chunks: list[Any]
    token_ids: list[int]  # the attributed tokens' ids, in text order
    token_words: np.ndarray  # the word each attributed token belongs to
    words: list[str]
    frozen_ids: list[int] = field(default_factory=list)  # the embedding head's encoder input
    frozen_positions: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    frozen_words: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))


_WORD = re.compile(r"\S+")


def _word_of(spans: Sequence[tuple[int, int] | None], starts: np.ndarray) -> np.ndarray:
    """The whitespace word (index into ``starts``) each character span begins in; -1 for None."""
    return np.array([-1 if s is None else int(np.searchsorted(starts, s[0], side="right")) - 1 for s in spans])


def read_text(
    builder: InputBuilder,
    text: str,
    labels: Sequence[str],
    *,
    prompt: str | None,
    examples: Sequence[dict] | None,
    windows: bool,
    frozen_length: int | None = None,
) -> Reading:
    """Build the rows of ``text`` as prediction does and find its words in them."""
    found = list(_WORD.finditer(text))
    starts = np.array([m.start() for m in found])
    encoded = builder.build([text], labels, prompt=prompt, examples=examples, windows=windows)
    offsets = builder.text_offsets([text], prompt)[0]
    piece_words = _word_of(offsets, starts) if len(starts) else np.full(len(offsets), -1)
    piece_ids: dict[int, int] = {}
    rows = []
    for c, chunk in enumerate(encoded.chunks):
        for ids, (at, first, n) in zip(chunk.rows, chunk.spans, strict=True):
            j = np.arange(first, first + n)
            if first + n > len(offsets):
                raise RuntimeError("the text's tokens could not be lined up with its characters.")
            j = j[piece_words[j] >= 0]
            piece_ids.update((int(k), ids[at + k - first]) for k in j)
            rows.append(_Row(c, ids, at + j - first, j))
    read = np.array(sorted(piece_ids), dtype=int)
    slot_of = np.full(len(offsets), -1)
    slot_of[read] = np.arange(len(read))
    for row in rows:
        row.slots = slot_of[row.slots]
    used = np.unique(piece_words[read]) if len(read) else np.zeros(0, dtype=int)
    renumber = np.full(max(len(found), 1), -1)
    renumber[used] = np.arange(len(used))
    reading = Reading(
        rows=rows,
        chunks=encoded.chunks,
        token_ids=[piece_ids[int(k)] for k in read],
        token_words=renumber[piece_words[read]],
        words=[found[w].group() for w in used],
    )
    if frozen_length is not None:
        tokenizer = builder.tokenizer
        enc = tokenizer(
            text,
            truncation=True,
            max_length=frozen_length,
            return_offsets_mapping=True,
            return_special_tokens_mask=True,
        )
        spans = [
            None if special else span
            for span, special in zip(enc["offset_mapping"], enc["special_tokens_mask"], strict=True)
        ]
        words = _word_of(spans, starts) if len(starts) else np.full(len(spans), -1)
        keep = np.flatnonzero(words >= 0)
        words = renumber[words[keep]]
        reading.frozen_ids = list(enc["input_ids"])
        reading.frozen_positions = keep[words >= 0]
        reading.frozen_words = words[words >= 0]  # a word the model never read gets nothing here either
    return reading


class _Forward:
    """Decision scores ``(B, C)`` of one text whose attributed token embeddings are given ``(B, T, D)``."""

    def __init__(
        self,
        model: GLiClassModel,
        reading: Reading,
        scoring: Scoring,
        n_labels: int,
        pad_id: int,
        device: torch.device,
        vectors: torch.Tensor | None,
    ) -> None:
        self.model, self.reading, self.scoring, self.n_labels, self.device = model, reading, scoring, n_labels, device
        self.table = text_embeddings(model)
        self.groups = []
        for c, chunk in enumerate(reading.chunks):
            rows = [r for r in reading.rows if r.chunk == c]
            mine = replace(chunk, rows=[r.ids for r in rows], owners=None, spans=None)
            inputs = chunk_inputs(mine, range(len(rows)), pad_id, device, vectors)
            with torch.no_grad():
                fixed = self.table(inputs["input_ids"])  # (R, L, D)
            where = [(i, torch.as_tensor(r.positions), torch.as_tensor(r.slots)) for i, r in enumerate(rows)]
            self.groups.append((chunk, inputs, fixed, where))
        if scoring.head is not None:
            self.frozen_ids = torch.tensor([reading.frozen_ids], device=device)
            with torch.no_grad():
                self.frozen_fixed = scoring.frozen.get_input_embeddings()(self.frozen_ids)  # (1, L2, D)

    def __call__(self, embeds: torch.Tensor, frozen_embeds: torch.Tensor | None = None) -> torch.Tensor:
        batch = embeds.shape[0]
        out = embeds.new_zeros((batch, self.n_labels), dtype=torch.float64)
        for chunk, inputs, fixed, where in self.groups:
            rows = fixed.unsqueeze(0).repeat(batch, 1, 1, 1)  # (B, R, L, D)
            for i, positions, slots in where:
                rows[:, i, positions] = embeds[:, slots].to(rows.dtype)
            step = {k: _repeat(v, batch) if k in _BATCHED else v for k, v in inputs.items()}
            with _substitute(self.table) as armed:
                armed.append(rows.flatten(0, 1))
                logits = self.model(**step).logits  # (B * R, Cc)
            best = logits.view(batch, len(where), -1).amax(1)  # each label keeps its best window
            out = out.index_copy(1, torch.arange(chunk.start, chunk.stop, device=out.device), best.double())
        head_vectors = None
        if self.scoring.head is not None:
            head_vectors = self._frozen_vectors(frozen_embeds, batch)
        return self.scoring(out, head_vectors)

    def _frozen_vectors(self, embeds: torch.Tensor | None, batch: int) -> torch.Tensor:
        """Mean-pooled, normalised frozen-encoder states, as the embedding head reads the text."""
        rows = self.frozen_fixed.repeat(batch, 1, 1)
        if embeds is not None and len(self.reading.frozen_positions):
            rows[:, self.reading.frozen_positions] = embeds.to(rows.dtype)
        mask = torch.ones(rows.shape[:2], dtype=torch.long, device=rows.device)
        return sentence_vectors(self.scoring.frozen(inputs_embeds=rows, attention_mask=mask).last_hidden_state, mask)


_BATCHED = ("input_ids", "attention_mask", "decoder_input_ids", "decoder_attention_mask")


def _repeat(tensor: torch.Tensor, batch: int) -> torch.Tensor:
    """``(R, ...)`` -> ``(batch * R, ...)``: the rows of every copy of the text, copy after copy."""
    return tensor.unsqueeze(0).expand(batch, *tensor.shape).flatten(0, 1)


def _ends(forward: _Forward, n: int, pad_id: int) -> tuple[list, list, list]:
    """The text's moving token embeddings, ``n`` copies (one per label), the padding baseline, and each token's
    word; a second set for the embedding head's frozen encoder where there is one."""
    reading, scoring, device = forward.reading, forward.scoring, forward.device
    tables = [(forward.table, reading.token_ids, reading.token_words)]
    if scoring.head is not None:
        frozen = [reading.frozen_ids[i] for i in reading.frozen_positions]
        tables.append((scoring.frozen.get_input_embeddings(), frozen, reading.frozen_words))
    inputs, baselines, words = [], [], []
    with torch.no_grad():
        for table, ids, owners in tables:
            embedded = table(torch.tensor(ids, dtype=torch.long, device=device)).unsqueeze(0)
            inputs.append(embedded.expand(n, -1, -1).contiguous())
            pad = table(torch.tensor([pad_id], device=device))
            baselines.append(pad.expand_as(inputs[-1]).contiguous())
            words.append(torch.as_tensor(owners, dtype=torch.long, device=device))
    return inputs, baselines, words


def attribute(
    model: GLiClassModel,
    builder: InputBuilder,
    reading: Reading,
    targets: Sequence[int],
    scoring: Scoring,
    *,
    n_labels: int,
    vectors: torch.Tensor | None,
    device: torch.device,
    method: str = "integrated-gradients",
    n_steps: int = DEFAULT_STEPS,
    batch_size: int = 16,
    precision: str = "fp32",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Word attributions ``(n_targets, n_words)`` of the decision scores of labels ``targets``, those scores,
    and the completeness gap of each (integrated gradients: attributions' sum less the score's change from
    the baseline; occlusion: NaN). ``precision`` is an autocast (as in prediction; bf16 halves the cost where the
    CPU has it, at a larger gap)."""
    forward = _Forward(model, reading, scoring, n_labels, builder.pad_id, device, vectors)
    n = len(targets)
    inputs, baselines, words = _ends(forward, n, builder.pad_id)
    with torch.no_grad():
        with autocast_context(device, precision):  # the text and the baseline in one pass
            ends = forward(*[torch.cat([x[:1], b[:1]]) for x, b in zip(inputs, baselines, strict=True)])
    target = list(targets)
    scores = ends[0, target].cpu().numpy()
    change = (ends[0, target] - ends[1, target]).cpu().numpy()
    n_words = len(reading.words)
    if n_words == 0:
        return np.zeros((n, 0)), scores, -change
    if method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}.")
    with torch.enable_grad(), autocast_context(device, precision):
        if method == "occlusion":
            return _occlusion(forward, inputs, baselines, words, target, batch_size), scores, np.full(n, np.nan)
        values = _integrated(forward, inputs, baselines, words, target, n_steps, batch_size)
        for _ in range(REFINE):  # a sharp model's path needs more nodes: double them while the sum is off
            gap = values.sum(1) - change
            if (np.abs(gap) <= GAP_TOLERANCE * np.abs(change) + 1e-3).all():
                break
            n_steps *= 2
            values = _integrated(forward, inputs, baselines, words, target, n_steps, batch_size)
    return values, scores, values.sum(1) - change


def _integrated(
    forward: _Forward, inputs: list, baselines: list, words: list, target: list[int], n_steps: int, batch_size: int
) -> np.ndarray:
    """Integrated gradients per word ``(n_targets, n_words)``: each token's attribution summed over its
    embedding and over the tokens of its word."""
    from captum.attr import IntegratedGradients

    found = IntegratedGradients(forward).attribute(
        tuple(inputs),
        baselines=tuple(baselines),
        target=target,
        n_steps=n_steps,
        method="gausslegendre",
        internal_batch_size=max(batch_size, 1),
    )
    per_word = torch.zeros((len(target), len(forward.reading.words)), dtype=torch.float64, device=forward.device)
    for a, w in zip(found, words, strict=True):
        per_word.index_add_(1, w, a.detach().sum(-1).double())
    return per_word.cpu().numpy()


def _occlusion(
    forward: _Forward, inputs: list, baselines: list, words: list, target: list[int], batch_size: int
) -> np.ndarray:
    """Each word's score drop when its tokens (in every encoder that reads them) turn into padding."""
    from captum.attr import FeatureAblation

    masks = tuple(w.view(1, -1, 1).expand(1, -1, x.shape[-1]) for w, x in zip(words, inputs, strict=True))
    found = FeatureAblation(forward).attribute(
        tuple(inputs),
        baselines=tuple(baselines),
        target=target,
        feature_mask=masks,
        perturbations_per_eval=max(batch_size, 1),
    )
    # every element of a word holds the word's whole effect: read one per word
    per_word = torch.zeros((len(target), len(forward.reading.words)), dtype=torch.float64, device=forward.device)
    for a, w in zip(found, words, strict=True):
        per_word[:, w] = a.detach()[:, :, 0].double()
    return per_word.cpu().numpy()
