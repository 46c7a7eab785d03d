"""``GLiClassZeroShot``: classify texts against label names, with no labelled data."""

from __future__ import annotations

from typing import Any

import numpy as np

from skgliclass.adaptation import PRIOR_TEXTS, Reading, adapted_vectors, can_adapt, leave_one_out_logits, read_texts
from skgliclass.choices import COSINE_HEAD
from skgliclass.estimators._base import GLiClassEstimator, load_model
from skgliclass.estimators._validation import check_examples

__all__ = ["GLiClassZeroShot"]


class GLiClassZeroShot(GLiClassEstimator):
    """Zero-shot text classification with a GLiClass model: no labelled data, nothing is fine-tuned.

    Parameters
    ----------
    model : str or None, default=None
        A GLiClass checkpoint (local folder or hub id), or a plain encoder given a new head.
        ``None`` uses the embedded all-MiniLM-L6-v2 as a cosine bi-encoder.
    labels : list of str or None, default=None
        The classes. ``None`` takes the distinct values of ``y`` at ``fit``.
    label_descriptions : dict or None, default=None
        Text the model reads instead of a label's name; ``classes_`` keeps the names.
    prompt : str or None, default=None
        Task description placed with the labels, as the checkpoint was trained to read it.
    examples : list of dict or None, default=None
        In-context examples, each ``{"text": ..., "labels": [...]}`` (labels among the label names),
        written after the labels of every input as GLiClass checkpoints were trained to read them
        (``<<EXAMPLE>>text \\nLabels:\\n a, b``). Read by the architectures that see text and labels
        together (uni-encoder, fused bi-encoder, encoder-decoder); a bi-encoder, such as the
        default model, reads each text alone, so ``fit`` refuses them there.
    adapt : {"auto", True, False}, default="auto"
        Learn from the unlabeled texts given to ``fit``: each label vector moves towards the texts
        the model reads as that label (one EM step; the label's wording counts as ten texts), so
        labels come to mean what they mean in your data; multi-label logits keep each label's mean
        over those texts where the wording put it, so ``threshold`` keeps its meaning. Needs a
        cosine bi-encoder (the default model). ``"auto"``: adapt when ``fit`` gets texts and the
        model allows it; ``True``: the same, but an error where the model does not; ``False``:
        never. ``fit()`` without texts is plain zero-shot either way.
    multi_label : {"auto", True, False}, default="auto"
        ``"auto"``: multi-label when ``y`` holds label lists or an indicator matrix, else single-label.
    threshold : float, array-like of shape (n_classes,) or "auto", default=0.5
        Multi-label decision threshold on ``predict_proba``; changing a number needs no refit.
        ``"auto"``: per label, the threshold that maximises its F1 on the labelled texts given to
        ``fit`` (one shared threshold for labels with fewer than three positive texts); see
        ``thresholds_``.
    calibration : {"auto", "temperature", "label-bias", "per-label"} or None, default="auto"
        With labelled texts (``fit(X, y)``), fit a map from the model's scores to probabilities
        that match how often it is right: ``"temperature"`` (and ``"auto"``) scales every label's
        logit alike (multi-label: plus one shared bias), which keeps each text's ranking of the
        labels; ``"label-bias"`` adds a bias per label (a wording the model favours loses its
        head start) and ``"per-label"`` fits a scale and a bias per label: both may reorder them. After
        adapting, each text is scored against the labels adapted to the other texts, as a new text
        would be. Nothing is fitted without ``y``, or with None.
    batch_size : int, default=16
        Texts per forward pass.
    max_length : int or None, default=None
        Longest input in tokens; longer texts are cut (labels are never dropped). None: as much as
        the backbone's positions allow, at most 1024 (512 for the embedded MiniLM).
    long_text : {"truncate", "chunk"}, default="truncate"
        A text longer than ``max_length`` (with its labels) at prediction: ``"truncate"`` cuts it at the
        end (with a warning that counts such texts); ``"chunk"`` reads it in consecutive windows and
        keeps, for each label, the highest score of any window. Training always truncates.
    device : str, default="auto"
        ``"auto"`` picks cuda, then mps, then cpu.
    precision : {"auto", "fp32", "bf16", "fp16", "int8"}, default="fp32"
        Prediction precision (adapting at fit is fp32). ``"bf16"``/``"fp16"``: autocast on CUDA, bf16 also on
        the CPU; ``"auto"``: bf16 where the device has it natively (fp16 on older GPUs, fp32 on older
        CPUs). ``"int8"``: on the CPU, the backbone's Linear layers run as int8 products, each
        operand as two int8 digits (probabilities within about 1e-3 of fp32).
    verbose : int, default=0
        0 is silent; 1 shows progress bars.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, the columns of ``predict_proba``.
    label_names_ : list of str
        The label names (before ``label_descriptions`` and ``label_template_``).
    label_template_ : str
        How a name without a description is written for the model (the model's
        ``config.label_template``): ``"This text is about {}."`` for a sentence encoder used as a
        cosine bi-encoder (the default model), ``"{}"`` (verbatim) otherwise.
    multilabel_ : bool
        Whether predictions are multi-label.
    model_ : GLiClassModel
        The model, on ``device_``.
    tokenizer_ : PreTrainedTokenizerBase
    config_ : GLiClassConfig
    max_length_ : int
        The input length in use.
    device_ : torch.device
    label_vectors_ : ndarray of shape (n_classes, D) or None
        The adapted label vectors (``adapt``), else None (label vectors come from the wording).
    examples_ : list of dict or None
        The checked in-context examples.
    calibration_ : dict or None
        The fitted map (``kind``, per-class ``scale`` and ``bias``; ``decision_function`` returns
        ``scale * logits + bias``), or None.
    thresholds_ : ndarray of shape (n_classes,) or None
        The learnt thresholds with ``threshold="auto"`` (multi-label), else None.
    label_offsets_ : ndarray of shape (n_classes,) or None
        Multi-label after adapting: how far adapting raised each label's mean logit over the fit
        texts; subtracted from the logits. Else None.
    history_ : dict
        After adapting: ``"adapted_on"`` (number of texts) and ``"label_shift"`` (per class, one
        minus the cosine between the adapted vector and the wording's); else empty.

    Examples
    --------
    >>> from skgliclass import GLiClassZeroShot
    >>> clf = GLiClassZeroShot(labels=["sport", "politics"]).fit()
    >>> clf.predict(["The striker scored twice in the final."]).tolist()
    ['sport']

    Unlabeled texts from your domain sharpen the labels:

    >>> unlabeled = ["The keeper saved a penalty.", "Parliament passed the budget.", "The coach was sacked."]
    >>> clf = GLiClassZeroShot(labels=["sport", "politics"]).fit(unlabeled)
    >>> clf.history_["adapted_on"]
    3
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        labels: list[str] | None = None,
        label_descriptions: dict[str, str] | None = None,
        prompt: str | None = None,
        examples: list[dict] | None = None,
        adapt: bool | str = "auto",
        multi_label: bool | str = "auto",
        threshold: float | Any = 0.5,
        calibration: str | None = "auto",
        batch_size: int = 16,
        max_length: int | None = None,
        long_text: str = "truncate",
        device: str = "auto",
        precision: str = "fp32",
        verbose: int = 0,
    ) -> None:
        self.model = model
        self.labels = labels
        self.label_descriptions = label_descriptions
        self.prompt = prompt
        self.examples = examples
        self.adapt = adapt
        self.multi_label = multi_label
        self.threshold = threshold
        self.calibration = calibration
        self.batch_size = batch_size
        self.max_length = max_length
        self.long_text = long_text
        self.device = device
        self.precision = precision
        self.verbose = verbose

    _trains = False

    def _default_max_length(self, config: Any) -> int:
        """No training to pay for: read as much of each text as the backbone's positions allow."""
        return config.position_limit

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        return tags

    def fit(self, X: Any = None, y: Any = None) -> GLiClassZeroShot:
        """Fix the classes, load the model and, given texts, adapt the label vectors to them.

        Parameters
        ----------
        X : sequence of str or None
            Unlabeled texts from the domain to classify, read by ``adapt``; None for plain zero-shot.
        y : array-like or None
            Labels (1-D), label lists or an indicator matrix of ``X``; optional when ``labels`` is
            given. The classes are taken from it, and with texts it fits ``calibration`` and
            ``threshold="auto"`` (seconds: the model itself is not trained).

        Returns
        -------
        self : GLiClassZeroShot

        Examples
        --------
        >>> from skgliclass import GLiClassZeroShot
        >>> clf = GLiClassZeroShot().fit(["a goal", "a vote"], ["sport", "politics"])
        >>> clf.classes_.tolist()
        ['politics', 'sport']
        """
        self._check_common_params()
        if self.adapt not in ("auto", True, False):
            raise ValueError(f"adapt must be 'auto', True or False, got {self.adapt!r}.")
        texts, targets = self._fit_classes(X, y)
        # Checkpoints keep their own head; a plain encoder (or the default) scores cosine similarity.
        model, tokenizer = load_model(self.model, **COSINE_HEAD)
        self._setup_inference(model, tokenizer)
        self._check_fitted_inputs()
        self.examples_ = check_examples(self.examples, self.label_names_, model.config.architecture)
        self.history_: dict = {}
        self.label_vectors_ = None
        self.label_offsets_ = None
        if self.adapt is True and not can_adapt(model):
            raise ValueError(
                f"adapt=True needs a bi-encoder with the cosine dot scorer; this model is a "
                f"{model.config.architecture} with the {model.config.scorer!r} scorer. Use adapt='auto' or False."
            )
        reading = None
        if self.adapt and texts and can_adapt(model):
            reading = read_texts(
                self.model_,
                self._builder,
                texts,
                self._label_texts(),
                prompt=self.prompt,
                batch_size=self.batch_size,
                device=self.device_,
                progress=bool(self.verbose),
            )
            adapted, original, centre = adapted_vectors(reading, PRIOR_TEXTS)
            self.label_vectors_ = adapted.numpy()
            if self.multilabel_:
                # Adapted vectors sit nearer every text, which would put all labels over the threshold.
                scale = self.model_.model.logit_scale.item()
                self.label_offsets_ = (scale * centre @ (adapted - original).T).numpy().astype(np.float64)
            shift = 1.0 - (adapted * original).sum(dim=-1)
            self.history_ = {"adapted_on": len(texts), "label_shift": shift.tolist()}
        self._fit_calibration(*self._calibration_data(texts, targets, reading))
        return self

    def _calibration_data(
        self, texts: list[str] | None, targets: Any, reading: Reading | None
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Raw logits of the labelled fit texts and their targets, for the calibration map and learnt thresholds
        (None, None without labels). After adapting, each text is scored against label vectors adapted to the
        other texts (exact, from the one reading): vectors adapted to a text would make it look easier."""
        if targets is None or not texts or not self._wants_held_out_scores() or (targets.Y < 0).any():
            return None, None
        if reading is None:
            return self._raw_logits(texts), targets.Y
        scale = self.model_.model.logit_scale.item()
        return leave_one_out_logits(reading, scale, PRIOR_TEXTS, offsets=self.multilabel_), targets.Y

    def _in_context_examples(self) -> list[dict] | None:
        return self.examples_

    def _raw_logits(self, X: Any) -> np.ndarray:
        logits = super()._raw_logits(X)
        return logits if self.label_offsets_ is None else logits - self.label_offsets_

    def _scoring(self) -> Any:
        scoring = super()._scoring()
        scoring.offsets = self.label_offsets_
        return scoring
