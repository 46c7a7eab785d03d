"""``ONNXClassifier``: an exported estimator run by onnxruntime and tokenizers alone (no torch, no transformers).

The texts go through the same input builder, batches and chunk loop as in the estimators
(``skgliclass.data``), and the logits through the same numpy maps (``skgliclass.scores``), so an export
predicts what the estimator predicted, within float rounding.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from skgliclass.config import GLiClassConfig
from skgliclass.data.batches import chunk_arrays, length_batches, pad_rows, score_chunks
from skgliclass.data.prompts import Chunk, InputBuilder
from skgliclass.exceptions import TruncationWarning
from skgliclass.files import ONNX_MANIFEST as MANIFEST_FILE
from skgliclass.onnx.tokenizer import RuntimeTokenizer
from skgliclass.scores import apply_calibration, decide, decision_scores, linear_log_proba, mix, probabilities
from skgliclass.texts import check_texts, text_chunks

__all__ = ["ARRAYS_FILE", "FORMAT", "FROZEN_FILE", "MANIFEST_FILE", "MODEL_FILE", "ONNXClassifier"]

MODEL_FILE = "model.onnx"
FROZEN_FILE = "frozen.onnx"  # the embedding head's frozen encoder, when the estimator mixes one in
ARRAYS_FILE = "arrays.npz"
FORMAT = 1


class ONNXClassifier:
    """Predict with a folder written by :func:`skgliclass.onnx.export`, on onnxruntime.

    Parameters
    ----------
    folder : str or path-like
        The exported folder.
    batch_size : int or None, default=None
        Texts per forward pass; None: the estimator's.
    providers : list of str or None, default=None
        onnxruntime execution providers; None: the CPU.
    threads : int or None, default=None
        onnxruntime's intra-op threads; None: its default (all cores).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The classes, in the estimator's order.
    multilabel_ : bool
        Whether each label is a separate yes/no decision.
    manifest_ : dict
        The export's settings (prompt, max_length, thresholds, ...).

    Examples
    --------
    >>> from skgliclass.onnx import ONNXClassifier
    >>> clf = ONNXClassifier("exported-model")  # doctest: +SKIP
    >>> clf.predict(["The striker scored twice."])  # doctest: +SKIP
    array(['sport'], dtype=object)
    """

    def __init__(
        self,
        folder: str | Path,
        batch_size: int | None = None,
        providers: list[str] | None = None,
        threads: int | None = None,
    ) -> None:
        self.folder = Path(folder)
        path = self.folder / MANIFEST_FILE
        if not path.is_file():
            raise FileNotFoundError(f"{self.folder} is not an exported model: it has no {MANIFEST_FILE}.")
        self.manifest_ = json.loads(path.read_text(encoding="utf-8"))
        if self.manifest_.get("format") != FORMAT:
            raise ValueError(f"{path} is export format {self.manifest_.get('format')}; this version reads {FORMAT}.")
        m = self.manifest_
        classes = m["classes"]
        self.classes_ = np.asarray(classes, dtype=object if any(isinstance(c, str) for c in classes) else None)
        self.multilabel_ = bool(m["multi_label"])
        self.batch_size = int(batch_size or m["batch_size"])
        with np.load(self.folder / ARRAYS_FILE, allow_pickle=False) as arrays:
            self._arrays = {key: arrays[key] for key in arrays.files}
        tokenizer = RuntimeTokenizer(self.folder / "tokenizer.json", m["pad_token_id"], m["special_tokens"])
        config = GLiClassConfig.from_json_file(self.folder / "config.json")
        self._builder = InputBuilder(tokenizer, config, m["max_length"])
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = int(threads)
        providers = providers or ["CPUExecutionProvider"]
        self._session = ort.InferenceSession(str(self.folder / MODEL_FILE), options, providers=providers)
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._frozen = None
        if m.get("embedding_head"):
            self._frozen = ort.InferenceSession(str(self.folder / FROZEN_FILE), options, providers=providers)

    def __repr__(self) -> str:
        return f"ONNXClassifier({str(self.folder)!r})"

    # ------------------------------------------------------------ scoring
    def _run(self, chunk: Chunk, index: np.ndarray) -> np.ndarray:
        feeds = chunk_arrays(chunk, index, self._builder.pad_id)
        if "label_vectors" in self._inputs:
            feeds["label_vectors"] = self._arrays["label_vectors"][chunk.start : chunk.stop]
        if "label_slots" in self._inputs:  # its length is the number of labels this pass scores
            feeds["label_slots"] = np.zeros(chunk.stop - chunk.start, dtype=np.float32)
        return self._session.run(["logits"], feeds)[0]

    def _sentence_vectors(self, texts: list[str]) -> np.ndarray:
        """The embedding head's inputs: the frozen encoder's mean-pooled, normalised vectors (texts cut as at fit)."""
        builder = self._builder
        room = self.manifest_["embedding_head"]["max_length"] - len(builder.prefix) - len(builder.suffix)
        plain = builder.tokenizer(texts, add_special_tokens=False)["input_ids"]
        rows = [builder.prefix + ids[:room] + builder.suffix for ids in plain]
        out = np.zeros((len(rows), self.manifest_["embedding_head"]["dim"]), dtype=np.float32)
        for index in length_batches([len(r) for r in rows], self.batch_size):
            ids, mask = pad_rows([rows[i] for i in index], builder.pad_id)
            out[index] = self._frozen.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        return out

    def _logits(self, X: Any) -> np.ndarray:
        m = self.manifest_
        texts = check_texts(X)
        encoded = self._builder.build(
            texts, m["label_texts"], prompt=m["prompt"], examples=m["examples"], windows=m["long_text"] == "chunk"
        )
        if encoded.truncated and m["long_text"] == "truncate":
            remedy = "export with long_text='chunk' to read them whole"
            cut = TruncationWarning.of_cut(encoded.truncated, len(texts), m["max_length"], remedy)
            warnings.warn(cut, stacklevel=3)
        logits = score_chunks(encoded, len(texts), len(self.classes_), self.batch_size, self._run).astype(np.float64)
        if "label_offsets" in self._arrays:
            logits = logits - self._arrays["label_offsets"]
        if self._frozen is not None:
            head = linear_log_proba(
                self._arrays["head_coef"],
                self._arrays["head_intercept"],
                self._sentence_vectors(texts),
                self.multilabel_,
            )
            logits = mix(logits, head, tuple(m["embedding_head"]["weights"]), self.multilabel_)
        calibration = None
        if "calibration_scale" in self._arrays:
            calibration = {"scale": self._arrays["calibration_scale"], "bias": self._arrays["calibration_bias"]}
        return apply_calibration(logits, calibration)

    # ------------------------------------------------------------ the estimator's methods
    def decision_function(self, X: Any) -> np.ndarray:
        """Scores ``(n_samples, n_classes)``, ``(n_samples,)`` for binary single-label: as the estimator's.

        Parameters
        ----------
        X : sequence of str
            Texts to score.

        Returns
        -------
        ndarray of shape (n_samples, n_classes) or (n_samples,)
            Logits in ``classes_`` order (calibrated where the estimator was); for two classes
            single-label, the second minus the first.

        Examples
        --------
        >>> ONNXClassifier("exported-model").decision_function(["The senate voted."]).shape  # doctest: +SKIP
        (1, 3)
        """
        return decision_scores(self._logits(X), self.multilabel_)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities ``(n_samples, n_classes)`` in ``classes_`` order, float64.

        Parameters
        ----------
        X : sequence of str
            Texts to classify.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Multi-label: independent sigmoids; single-label: softmax rows.

        Examples
        --------
        >>> ONNXClassifier("exported-model").predict_proba(["The senate voted."]).sum()  # doctest: +SKIP
        1.0
        """
        return probabilities(self._logits(X), self.multilabel_)

    def predict_proba_iter(self, X: Iterable[str], chunk_size: int = 1024) -> Iterator[np.ndarray]:
        """Probabilities for a stream of texts, ``chunk_size`` texts at a time (memory stays bounded).

        Parameters
        ----------
        X : iterable of str
            Texts, read lazily.
        chunk_size : int, default=1024
            Texts per chunk.

        Yields
        ------
        ndarray of shape (n_chunk, n_classes)

        Examples
        --------
        >>> clf = ONNXClassifier("exported-model")  # doctest: +SKIP
        >>> for proba in clf.predict_proba_iter(open("texts.txt"), chunk_size=256):  # doctest: +SKIP
        ...     print(proba.shape)
        """
        for chunk in text_chunks(X, chunk_size):
            yield self.predict_proba(chunk)

    def predict(self, X: Any) -> np.ndarray:
        """Class labels ``(n_samples,)``, or a 0/1 indicator ``(n_samples, n_classes)`` for multi-label.

        Parameters
        ----------
        X : sequence of str
            Texts to classify.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
            The most probable class, or (multi-label) ``proba >= threshold`` with the exported thresholds.

        Examples
        --------
        >>> ONNXClassifier("exported-model").predict(["The striker scored twice."])  # doctest: +SKIP
        array(['sport'], dtype=object)
        """
        return self._decide(self.predict_proba(X))

    def _decide(self, proba: np.ndarray) -> np.ndarray:
        """``predict``'s rule applied to probabilities already computed."""
        return decide(proba, self.classes_, self._arrays["thresholds"] if self.multilabel_ else None)
