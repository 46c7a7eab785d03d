"""``GLiClassifier``: few-shot fine-tuning of a GLiClass model, as a scikit-learn classifier."""

from __future__ import annotations

import copy
import dataclasses
import functools
import os
from typing import Any

import numpy as np
import torch
from scipy.special import log_softmax
from sklearn.utils import check_random_state

from skgliclass.calibration import FINE_TUNED_SCALE_PRIOR
from skgliclass.choices import (
    ARCHITECTURES,
    BAD_BATCH,
    COSINE_HEAD,
    CREDIT,
    METHODS,
    POOLER_NAMES,
    SAMPLING,
    SCORER_NAMES,
    TRAIN_PRECISIONS,
    VALUE_MODELS,
)
from skgliclass.config import check_choice
from skgliclass.embedding_head import (
    LinearHead,
    dump_encoder,
    embed,
    fit_linear_head,
    frozen_encoder,
    mix,
    restore_encoder,
    stack_weights,
    two_folds,
)
from skgliclass.estimators._base import GLiClassEstimator, load_model
from skgliclass.estimators._validation import (
    check_labels,
    check_number,
    check_optional_choice,
    check_positive_int,
    check_texts,
)
from skgliclass.feedback import feedback_targets, fill_unknown, fill_weights, read_feedback
from skgliclass.inference import cpu_supports_bf16, predict_logits
from skgliclass.losses import IGNORE_INDEX
from skgliclass.modeling.builder import replace_head
from skgliclass.training.averaging import average_runs
from skgliclass.training.loop import LoopSettings, Trainer, fingerprint
from skgliclass.training.lora import add_lora, merge_lora
from skgliclass.training.ppo import PPOSettings, PPOTrainer
from skgliclass.training.rewards import make_reward
from skgliclass.training.settings import TrainSettings
from skgliclass.training.supervised import SupervisedTrainer, Validation

__all__ = ["GLiClassifier"]

# embedding_head="auto" cross-fits small training sets only: at most this many texts and tokens in all, so that
# it adds seconds, not minutes (its cost is about one more fit); beyond, the fine-tuned model decides alone.
AUTO_HEAD_MAX_TEXTS = 256
AUTO_HEAD_MAX_TOKENS = 4096
# average_fits="auto" averages three runs up to this many training tokens: a run costs about 8 ms a token on 2 cores
# (BBC at eight articles per topic: 10,000 tokens, 82 s), so three stay under two minutes.
AUTO_AVERAGE_MAX_TOKENS = 4096
AUTO_AVERAGE_RUNS = 3
# calibration="auto" cross-fits single-label training sets up to this many tokens: two half-data fits cost about
# one more run (a third more beside three averaged runs; BBC at eight articles per topic, 10,000 tokens: 40 -> 77 s).
AUTO_CALIBRATION_MAX_TOKENS = 12_288
LR_TEST_CRITICAL = 3.841  # chi-squared, one degree of freedom, 5%
# Feedback fits hold out at least this many verdicts (or a quarter of the log, if smaller) for the guard; up to
# 100 gave the guard more power and the fit less to learn from: no better over the suite's draws (benchmarks).
HELD_OUT_VERDICTS = 20
# A rater's fit holds out up to this many texts (or a quarter, if fewer): it asks again on every training text each
# epoch, so texts held out cost it little, and 50 let BBC's 200-text fits move where 20 refused (benchmarks).
RATER_HELD_OUT_TEXTS = 50


class GLiClassifier(GLiClassEstimator):
    """Few-shot text classifier: fine-tunes a GLiClass model on labelled texts.

    Parameters
    ----------
    model : str or None, default=None
        A GLiClass checkpoint (local folder or hub id) to fine-tune, or a plain encoder given a
        new head. ``None`` uses the embedded all-MiniLM-L6-v2.
    architecture : str or None, default=None
        Head of a new model: uni-encoder, bi-encoder, bi-encoder-fused or encoder-decoder.
        ``None``: the checkpoint's own, else ``"bi-encoder"``.
    pooler : str or None, default=None
        Text pooler (first, last, mean, max, sum, rms, abs-max, abs-mean, attention). Poolers can be
        swapped on a checkpoint. ``None``: the checkpoint's own, else ``"mean"``.
    scorer : str or None, default=None
        dot, weighted-dot, mlp, hopfield or cross-attn; a scorer the checkpoint lacks starts fresh.
        ``None``: the checkpoint's own, else ``"dot"``.
    labels : list of str or None, default=None
        Names of the columns of an indicator ``y``; with other ``y`` forms, a check of the classes.
    label_descriptions : dict or None, default=None
        Text the model reads instead of a label's name; ``classes_`` keeps the names.
    prompt : str or None, default=None
        Task description read with the labels.
    multi_label : {"auto", True, False}, default="auto"
        ``"auto"``: multi-label when ``y`` holds label lists or an indicator matrix; without ``y`` (a
        reward function or a ``feedback`` log judges), single-label: one proposal per text.
    threshold : float, array-like of shape (n_classes,) or "auto", default=0.5
        Multi-label decision threshold on ``predict_proba``. ``"auto"``: per label, the threshold
        that maximises its F1 on held-out training texts (the same texts as ``calibration``; one
        shared threshold for labels with fewer than three positive texts); see ``thresholds_``.
    calibration : {"auto", "temperature", "label-bias", "per-label"} or None, default="auto"
        Map the fitted model's scores to probabilities that match how often it is right, learnt on
        training texts the model being scored did not learn from: the out-of-fold scores of
        two-fold cross-fitting (each half scored by a copy fine-tuned on the other half; shared
        with ``embedding_head="auto"``), or the held-out share of ``early_stopping``.
        ``"temperature"`` scales every label's logit alike (multi-label: plus one shared bias),
        which keeps each text's ranking of the labels; ``"label-bias"`` adds a bias per label and
        ``"per-label"`` fits a scale and a bias per label, which may reorder them; each pays two
        half-data fits (about one more fit) when no held-out scores come free. ``"auto"``: a
        temperature where held-out scores come free (with ``embedding_head="auto"`` or
        ``early_stopping=True``) and, single-label, on small training sets (at most 12,288 tokens,
        where a model fitted on a few texts is most over-confident); else no map. None: no map.
        Fits from complete labels with a supervised objective; PPO and feedback fits are not
        mapped.
    method : {"auto", "focal", "softmax", "focal+softmax", "ppo"}, default="auto"
        Training objective. ``"focal"``: focal loss over every (text, label) pair (sigmoid; multi-
        and single-label). ``"softmax"``: cross-entropy of each text's softmax over the labels, the
        rule single-label ``predict`` uses (single-label ``y`` only). ``"focal+softmax"``: their
        sum (single-label ``y`` only). ``"auto"``: focal+softmax for single-label ``y``, focal for
        multi-label. ``"ppo"``: reinforcement learning from rewards; it learns from partial labels
        and from feedback functions (see the user guide).
    epochs : int, default=10
        Passes over the training texts (the most, with ``early_stopping``).
    early_stopping : bool or "auto", default="auto"
        Hold out ``validation_fraction`` of the training texts (stratified), score them after each
        epoch, stop once ``n_iter_no_change`` epochs have not lowered the validation loss, and keep
        the weights of the best epoch. With ``method="ppo"`` the score is the mean reward of the
        model's most likely decisions on the held-out texts (the top label when single-label),
        measured before training too, so the fit keeps its start unless an epoch beats it.
        With ``feedback``, the score is the likelihood of the held-out verdicts at each epoch's own
        temperature, and an epoch replaces the start only when it beats it by more than two standard
        errors over those verdicts and gets nine in ten as many held-out texts right as the start did,
        a text moved off a label judged wrong counting as a guess among those left (a reward function:
        one standard error). ``"auto"``: on for
        learning from a reviewer (a reward function or logged ``feedback``), off otherwise.
    validation_fraction : float, default=0.1
        Share of the training texts held out with ``early_stopping`` (at least one text, and one of
        each class that has two or more, so that every class is both learnt and checked). Feedback
        fits hold out at least 20 verdicts, or a quarter of a smaller log.
    n_iter_no_change : int, default=3
        Epochs without a lower validation loss before training stops.
    average_fits : int or "auto", default="auto"
        Fine-tune this many times from the same start (each run with its own batch order and dropout)
        and keep the mean of the runs' weights: one model, as fast to predict as a single run, that
        depends less on the luck of the training order (see the user guide). Each run costs one fit.
        ``"auto"``: 3 where the training texts hold at most 4,096 tokens (few-shot sets of short
        texts, where a run takes seconds) without ``early_stopping``, else 1. Supervised fits from
        ``y`` only: PPO and ``feedback`` fits train once, and so does a fit with ``checkpoint_dir``.
    batch_size : int, default=16
        Texts per step (and per forward pass when predicting).
    learning_rate : float, default=3e-4
        Learning rate of the head (projectors, scorer, logit scale).
    encoder_learning_rate : float, default=5e-5
        Learning rate of the backbones (or of the LoRA adapters).
    weight_decay : float, default=0.01
        AdamW weight decay (never on biases and norms).
    warmup_ratio : float, default=0.1
        Share of the steps with a linear warmup; the rest decays linearly to zero.
    focal_alpha : float or None, default=None
        Weight of positive (text, label) pairs; None weighs both sides equally. The focal term
        only (a softmax has no separate positives and negatives).
    focal_gamma : float, default=0.0
        Focusing exponent; 0 is plain binary cross-entropy.
    label_smoothing : float, default=0.0
        Targets become ``y (1 - eps) + eps / 2``.
    contrastive_coef : float, default=0.0
        Weight of the contrastive loss that pushes label vectors apart.
    embedding_head : "auto" or float, default=0.0
        A logistic regression on the frozen starting encoder's sentence vectors (mean-pooled,
        normalised), fitted on the same texts, whose log-probabilities (multi-label: log-odds) are
        mixed with the fine-tuned model's: ``a * model + b * head``. A float ``w`` in [0, 1] sets
        ``(a, b) = (1 - w, w)`` (0: off; 1: the regression alone). ``"auto"``: ``(a, b)`` are fitted by
        two-fold cross-fitting on the training texts, and the head joins only when it makes the held-out
        texts significantly likelier; it runs for single-label sets of at most 256 texts and 4,096
        tokens (else the model alone). Supervised objectives only; pickle, joblib, skops and CLI fit
        folders keep the head, :meth:`save_pretrained` does not (the reference format holds the model).
    reward : str, callable or dict, default="f1"
        PPO only. ``"f1"``, ``"accuracy"``, ``"precision"`` or ``"recall"`` of each text's chosen labels
        against ``y``; a callable ``reward(texts, actions, probs)`` returning ``(n,)`` or
        ``(n, n_classes)`` rewards (NaN: no feedback), which lets ``fit(X)`` run without ``y``; or a
        dict mapping names and callables to weights.
    ppo_sampling : {"stochastic", "deterministic"}, default="stochastic"
        PPO only. Sample each label from its probability, or take ``p > 0.5``.
    ppo_credit : {"label", "text"}, default="label"
        PPO only. How a reward computed from ``y`` is shared among a text's decisions. ``"label"``:
        each (text, label) decision is credited with the reward it changed (the reward minus what it
        would have been with that one decision drawn afresh), which learns from few texts.
        ``"text"``: every decision of a text shares ``R - V(s)``, as in the paper. User reward
        functions always use ``R - V(s)``.
    ppo_clip : float, default=0.2
        PPO only. The probability ratio is clipped to ``[1 - ppo_clip, 1 + ppo_clip]``.
    ppo_iterations : int, default=3
        PPO only. Policy updates per sampled batch.
    ppo_kl_coef : float, default=0.0
        PPO only. Weight of the KL divergence to the model as it was when ``fit`` started.
    ppo_entropy_coef : float, default=0.0
        PPO only. Weight of the entropy bonus (more exploration).
    ppo_value_model : {"head", "encoder"} or None, default="head"
        PPO only. The reward baseline: a small head on the policy's text vector, a separate text
        encoder (steadier, about twice the memory and time), or None for the batch mean.
    layer_reweighting : bool, default=False
        Mix all hidden states with learned gates instead of reading the last layer.
    lora_r : int or None, default=None
        LoRA rank; None fine-tunes every weight.
    lora_alpha : float, default=16
        LoRA scaling numerator.
    lora_dropout : float, default=0.1
        Dropout inside the adapters.
    lora_target_modules : list of str or None, default=None
        Module names to adapt; None picks them per backbone family.
    max_length : int or None, default=None
        Longest input in tokens; longer texts are cut (labels are never dropped). None: the length
        the backbone was trained on (256 for the embedded MiniLM), else what its positions allow, at
        most 1024.
    long_text : {"truncate", "chunk"}, default="truncate"
        A text longer than ``max_length`` (with its labels) at prediction: ``"truncate"`` cuts it at the
        end (with a warning that counts such texts); ``"chunk"`` reads it in consecutive windows and
        keeps, for each label, the highest score of any window. Training always truncates.
    device : str, default="auto"
        ``"auto"`` picks cuda, then mps, then cpu.
    train_precision : {"auto", "fp32", "bf16"}, default="auto"
        Training precision. ``"bf16"``: the forward pass under bf16 autocast (weights, optimiser and
        losses stay fp32); ``"auto"``: bf16 on CUDA devices and CPUs with native bf16, fp32 elsewhere.
    precision : {"auto", "fp32", "bf16", "fp16", "int8"}, default="fp32"
        Prediction precision. ``"bf16"``/``"fp16"``: autocast on CUDA, bf16 also on
        the CPU; ``"auto"``: bf16 where the device has it natively (fp16 on older GPUs, fp32 on older
        CPUs). ``"int8"``: on the CPU, the backbone's Linear layers run as int8 products, each
        operand as two int8 digits (probabilities within about 1e-3 of fp32).
    random_state : int, RandomState or None, default=None
        Seeds the head, the shuffling and dropout; an int makes CPU fits repeatable.
    verbose : int, default=0
        0 is silent; 1 shows progress bars with the loss.
    warm_start : bool, default=False
        Continue from the previous fit's weights when the classes are unchanged.
    on_bad_batch : {"raise", "skip"}, default="raise"
        A batch whose loss or gradient is NaN or infinite: ``"raise"`` stops the fit with a
        ``FloatingPointError`` naming the step (the weights are those before that update);
        ``"skip"`` drops the batch and goes on (the steps skipped are in ``history_["skipped_batches"]``).
    checkpoint_dir : str or None, default=None
        Save the training state there every ``checkpoint_every`` steps (the newest 3 are kept).
    checkpoint_every : int, default=100
        Steps between checkpoints.
    resume : bool, default=False
        Continue from the newest checkpoint in ``checkpoint_dir`` when it comes from the same data
        and settings (else a ``ValueError``); with none there, start afresh.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    label_names_ : list of str
    label_template_ : str
        How a name without a description is written for the model (see :class:`GLiClassZeroShot`).
    multilabel_ : bool
    model_ : GLiClassModel
    tokenizer_ : PreTrainedTokenizerBase
    config_ : GLiClassConfig
    max_length_ : int
        The input length in use.
    device_ : torch.device
    method_ : str
        The objective used (``"auto"`` resolved).
    head_weights_ : tuple of float
        ``(a, b)``: prediction scores are ``a`` times the fine-tuned model's log-probabilities plus
        ``b`` times the embedding head's; ``(1.0, 0.0)`` when the head is off or not used.
    calibration_ : dict or None
        The fitted map (``kind``, per-class ``scale`` and ``bias``; ``decision_function`` returns
        ``scale * logits + bias``), or None.
    thresholds_ : ndarray of shape (n_classes,) or None
        The learnt thresholds with ``threshold="auto"`` (multi-label), else None.
    linear_head_ : LinearHead or None
        The embedding head's weights ``coef`` ``(n_classes, D)`` and ``intercept`` ``(n_classes,)``;
        None when it is not used.
    history_ : dict
        Focal, softmax and their sum: ``loss`` and ``learning_rate`` per step; per epoch ``epoch_loss``,
        ``train_score`` (accuracy of the top label on the training batches; multi-label: share of right
        decisions at 0.5) and ``epoch_seconds``; with ``early_stopping`` also ``validation_loss``,
        ``validation_score`` and ``best_epoch`` (the epoch whose weights the model keeps).
        PPO: per step ``loss``, ``policy_loss``, ``value_loss``, ``kl``, ``entropy``, ``advantage``,
        ``reward`` and ``reward_<name>`` for each component, ``learning_rate``; ``epoch_reward``,
        ``epoch_seconds``; with early stopping ``start_validation_loss`` (before training) and
        ``validation_loss`` per epoch when the reward answers as a reviewer (1 or 0 about the labels
        chosen), else ``start_validation_score`` and ``validation_score``; ``validation_verdicts``
        (answers the reward functions have given on held-out texts so far, at each evaluation) and
        ``best_epoch`` (0: the start kept).

    Examples
    --------
    >>> from skgliclass import GLiClassifier
    >>> clf = GLiClassifier(epochs=1, random_state=0).fit(
    ...     ["the team won the cup", "the senate passed the bill"], ["sport", "politics"]
    ... )
    >>> clf.predict_proba(["a late goal"]).shape
    (1, 2)
    """

    # Held-out scores come from fine-tuned copies (or the fine-tuned model), whose scale says little.
    _scale_prior = FINE_TUNED_SCALE_PRIOR

    def __init__(
        self,
        model: str | None = None,
        *,
        architecture: str | None = None,
        pooler: str | None = None,
        scorer: str | None = None,
        labels: list[str] | None = None,
        label_descriptions: dict[str, str] | None = None,
        prompt: str | None = None,
        multi_label: bool | str = "auto",
        threshold: float | Any = 0.5,
        calibration: str | None = "auto",
        method: str = "auto",
        epochs: int = 10,
        early_stopping: bool | str = "auto",
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 3,
        average_fits: int | str = "auto",
        batch_size: int = 16,
        learning_rate: float = 3e-4,
        encoder_learning_rate: float = 5e-5,
        weight_decay: float = 0.01,
        warmup_ratio: float = 0.1,
        focal_alpha: float | None = None,
        focal_gamma: float = 0.0,
        label_smoothing: float = 0.0,
        contrastive_coef: float = 0.0,
        embedding_head: float | str = 0.0,
        reward: Any = "f1",
        ppo_sampling: str = "stochastic",
        ppo_credit: str = "label",
        ppo_clip: float = 0.2,
        ppo_iterations: int = 3,
        ppo_kl_coef: float = 0.0,
        ppo_entropy_coef: float = 0.0,
        ppo_value_model: str | None = "head",
        layer_reweighting: bool = False,
        lora_r: int | None = None,
        lora_alpha: float = 16,
        lora_dropout: float = 0.1,
        lora_target_modules: list[str] | None = None,
        max_length: int | None = None,
        long_text: str = "truncate",
        device: str = "auto",
        train_precision: str = "auto",
        precision: str = "fp32",
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
        warm_start: bool = False,
        on_bad_batch: str = "raise",
        checkpoint_dir: str | None = None,
        checkpoint_every: int = 100,
        resume: bool = False,
    ) -> None:
        self.model = model
        self.architecture = architecture
        self.pooler = pooler
        self.scorer = scorer
        self.labels = labels
        self.label_descriptions = label_descriptions
        self.prompt = prompt
        self.multi_label = multi_label
        self.threshold = threshold
        self.calibration = calibration
        self.method = method
        self.epochs = epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.average_fits = average_fits
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.encoder_learning_rate = encoder_learning_rate
        self.weight_decay = weight_decay
        self.warmup_ratio = warmup_ratio
        self.focal_alpha = focal_alpha
        self.focal_gamma = focal_gamma
        self.label_smoothing = label_smoothing
        self.contrastive_coef = contrastive_coef
        self.embedding_head = embedding_head
        self.reward = reward
        self.ppo_sampling = ppo_sampling
        self.ppo_credit = ppo_credit
        self.ppo_clip = ppo_clip
        self.ppo_iterations = ppo_iterations
        self.ppo_kl_coef = ppo_kl_coef
        self.ppo_entropy_coef = ppo_entropy_coef
        self.ppo_value_model = ppo_value_model
        self.layer_reweighting = layer_reweighting
        self.lora_r = lora_r
        self.lora_alpha = lora_alpha
        self.lora_dropout = lora_dropout
        self.lora_target_modules = lora_target_modules
        self.max_length = max_length
        self.long_text = long_text
        self.device = device
        self.train_precision = train_precision
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.on_bad_batch = on_bad_batch
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every
        self.resume = resume

    # ------------------------------------------------------------------ checks
    def _check_params(self) -> None:
        self._check_common_params()
        check_optional_choice("architecture", self.architecture, ARCHITECTURES)
        check_optional_choice("pooler", self.pooler, POOLER_NAMES)
        check_optional_choice("scorer", self.scorer, SCORER_NAMES)
        check_choice("method", self.method, METHODS)
        check_positive_int("epochs", self.epochs)
        check_positive_int("n_iter_no_change", self.n_iter_no_change)
        if self.average_fits != "auto":
            check_positive_int("average_fits", self.average_fits)
        check_number("validation_fraction", self.validation_fraction, low=0.0, high=1.0, low_open=True, high_open=True)
        check_choice("train_precision", self.train_precision, TRAIN_PRECISIONS)
        if not isinstance(self.early_stopping, (bool, np.bool_)) and self.early_stopping != "auto":
            raise ValueError(f"early_stopping must be True, False or 'auto', got {self.early_stopping!r}.")
        check_choice("on_bad_batch", self.on_bad_batch, BAD_BATCH)
        check_positive_int("checkpoint_every", self.checkpoint_every)
        if self.checkpoint_dir is not None and not isinstance(self.checkpoint_dir, (str, os.PathLike)):
            raise ValueError(f"checkpoint_dir must be a folder path or None, got {self.checkpoint_dir!r}.")
        if self.resume and self.checkpoint_dir is None:
            raise ValueError("resume=True continues from checkpoint_dir, which is None; set checkpoint_dir.")
        for name in ("learning_rate", "encoder_learning_rate"):
            check_number(name, getattr(self, name), low=0.0, low_open=True)
        check_number("weight_decay", self.weight_decay, low=0.0)
        check_number("warmup_ratio", self.warmup_ratio, low=0.0, high=1.0)
        check_number("focal_gamma", self.focal_gamma, low=0.0)
        check_number("label_smoothing", self.label_smoothing, low=0.0, high=1.0, high_open=True)
        check_number("contrastive_coef", self.contrastive_coef, low=0.0)
        if self.embedding_head != "auto":
            check_number("embedding_head", self.embedding_head, low=0.0, high=1.0)
        if self.focal_alpha is not None:
            check_number("focal_alpha", self.focal_alpha, low=0.0, high=1.0)
        if self.lora_r is not None:
            check_positive_int("lora_r", self.lora_r)
        check_number("lora_alpha", self.lora_alpha, low=0.0, low_open=True)
        check_number("lora_dropout", self.lora_dropout, low=0.0, high=1.0, high_open=True)
        # PPO's parameters too when this fit is supervised: a bad value fails now, not at a later set_params.
        make_reward(self.reward)
        check_choice("ppo_sampling", self.ppo_sampling, SAMPLING)
        check_choice("ppo_credit", self.ppo_credit, CREDIT)
        check_number("ppo_clip", self.ppo_clip, low=0.0, high=1.0, low_open=True)
        check_positive_int("ppo_iterations", self.ppo_iterations)
        check_number("ppo_kl_coef", self.ppo_kl_coef, low=0.0)
        check_number("ppo_entropy_coef", self.ppo_entropy_coef, low=0.0)
        check_optional_choice("ppo_value_model", self.ppo_value_model, VALUE_MODELS)

    # --------------------------------------------------------------------- fit
    def fit(self, X: Any, y: Any = None, *, feedback: Any = None) -> GLiClassifier:
        """Fine-tune on texts ``X`` and targets ``y``.

        Parameters
        ----------
        X : sequence of str
            Training texts.
        y : array-like or None, default=None
            1-D labels (single-label), label lists or an indicator matrix (multi-label; with
            ``method="ppo"`` or ``"focal"``, -1 marks an unknown entry). PPO with a reward function
            and ``labels=`` may leave it out: the rewards are then the only signal.
        feedback : mapping of columns, DataFrame or list of row mappings, default=None
            Verdicts logged from reviewers instead of ``y``: columns ``label`` (the label shown) and
            ``verdict`` (1 right, 0 wrong), one row per verdict, with ``X`` holding each row's text
            (or a ``text`` column and ``X=None``). Each verdict is that (text, label) entry's target;
            single-label fits (unless ``multi_label=True``) also read a right label as every other
            label wrong, and entries no verdict is about take the starting model's belief given the
            verdicts. The classes are ``labels=`` (else the labels in
            the log); ``warm_start=True`` continues from the current model; ``early_stopping="auto"``
            holds out a share of the texts and keeps the start unless an epoch lowers their loss.

        Returns
        -------
        self : GLiClassifier

        Examples
        --------
        >>> from skgliclass import GLiClassifier
        >>> texts = ["the team won the cup", "a late goal", "the senate passed the bill", "the minister resigned"]
        >>> clf = GLiClassifier(epochs=2, random_state=0).fit(texts, ["sport", "sport", "politics", "politics"])
        >>> clf.history_["epoch_loss"][-1] < clf.history_["epoch_loss"][0]  # doctest: +SKIP
        True
        """
        self._check_params()
        ppo = self._ppo_settings() if self.method == "ppo" else None
        previous = (self.classes_.tolist(), self.model_) if self.warm_start and hasattr(self, "model_") else None
        texts, matrix, judges = self._fit_targets(X, y, feedback, ppo)
        if ppo is not None and not self.multilabel_ and ppo.reward.has_feedback:
            # A reviewer judges one proposal per text: one label drawn from the softmax predict_proba gives.
            ppo = dataclasses.replace(ppo, policy="categorical")
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        with torch.random.fork_rng(devices=[]):  # the caller's global RNG is left as it was
            torch.manual_seed(seed)
            reused = previous is not None and previous[0] == self.classes_.tolist()
            if reused:
                model, tokenizer = previous[1], self.tokenizer_
            else:
                model, tokenizer = self._new_model()
            self._setup_inference(model, tokenizer)
            start = (
                copy.deepcopy(self.model_)
                if ppo is not None and (ppo.kl_coef > 0 or ppo.value_model == "encoder")
                else None
            )
            settings = self._train_settings()
            rng = np.random.default_rng(seed)
            vectors = self._fit_embedding_head(texts, matrix, ppo is None, reused=reused)
            calibrates = self._calibrates(ppo, feedback, matrix)
            held: tuple[Any, Any] = (None, None)  # texts the model did not learn from: raw logits and targets
            if self.embedding_head == "auto" and vectors is not None:
                held = (self._cross_fit(copy.deepcopy(self.model_), texts, matrix, vectors, settings, rng), matrix)
            elif calibrates and not self._early_stopping(ppo, False) and self._cross_fits_for_calibration(texts):
                held = (self._out_of_fold_apart(texts, matrix, settings, seed), matrix)
            validation, weights = None, None
            if self._early_stopping(ppo, feedback is not None):
                fraction = self._held_out_fraction(len(texts), ppo, feedback is not None)
                texts, matrix, validation = _hold_out(texts, matrix, fraction, rng, judges)
            if feedback is not None:  # held-out rows keep the verdicts alone: the start is judged by them only
                validation = None if validation is None else dataclasses.replace(validation, calibrated=True)
                start_proba = self.predict_proba(texts)
                weights = fill_weights(matrix, IGNORE_INDEX)
                matrix = fill_unknown(matrix, start_proba, not self.multilabel_, IGNORE_INDEX)
            loop = self._loop_settings(texts, matrix)
            cross = self.history_
            self.average_fits_ = self._runs(
                texts, once=ppo is not None or feedback is not None, stops=validation is not None
            )
            self.history_ = average_runs(
                self.model_,
                self.average_fits_,
                functools.partial(
                    self._train, self.model_, texts, matrix, settings, rng, loop, ppo, start, validation, weights
                ),
            )
            self.history_.update(cross)
            del start
        self.model_.eval()
        self._label_cache, self._quantized = {}, None
        if calibrates and held[0] is None and validation is not None:
            held = (self._raw_logits(validation.texts), validation.targets)
        self._fit_calibration(*(held if calibrates else (None, None)))
        return self

    def _fit_targets(
        self, X: Any, y: Any, feedback: Any, ppo: PPOSettings | None
    ) -> tuple[list[str], np.ndarray | None, np.ndarray | None]:
        """Set the classes and ``method_``; the training texts, their targets ``(n, C)`` (-100: unknown; None when a
        reward function alone judges), and which texts may be held out to judge training (None: any)."""
        judges = None
        if feedback is not None:
            texts, matrix, judges = self._fit_feedback(X, y, feedback)
        else:
            if X is None:
                raise ValueError("GLiClassifier.fit needs training texts X.")
            if y is None:
                self._check_without_targets(ppo)
            texts, targets = self._fit_classes(X, y)
            self._check_fitted_inputs()
            matrix = None if targets is None else targets.Y.astype(np.float32)
        if matrix is not None:
            matrix[matrix < 0] = IGNORE_INDEX
        partial = feedback is not None  # verdicts leave most entries unknown: only the per-pair loss reads them
        automatic = "focal" if self.multilabel_ or partial else "focal+softmax"
        self.method_ = self.method if self.method != "auto" else automatic
        if "softmax" in self.method_ and (self.multilabel_ or partial):
            raise ValueError(
                f"method={self.method_!r} trains one label per text, but the targets are "
                f"{'verdicts on single labels' if partial else 'multi-label'}; use method='focal' (or 'auto', which "
                "picks it)."
            )
        return texts, matrix, judges

    def _train_settings(self) -> TrainSettings:
        return TrainSettings(
            epochs=self.epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            encoder_learning_rate=self.encoder_learning_rate,
            weight_decay=self.weight_decay,
            warmup_ratio=self.warmup_ratio,
            focal_alpha=self.focal_alpha,
            focal_gamma=self.focal_gamma,
            label_smoothing=self.label_smoothing,
            contrastive_coef=self.contrastive_coef,
            shuffle_labels=self.config_.architecture not in ("bi-encoder",),
            prompt=self.prompt,
            objective=self.method_,
            n_iter_no_change=self.n_iter_no_change,
            autocast=self._train_autocast(),
            multilabel=self.multilabel_,
        )

    def _train(
        self,
        model: Any,
        texts: list[str],
        matrix: np.ndarray | None,
        settings: TrainSettings,
        rng: np.random.Generator,
        loop: LoopSettings,
        ppo: PPOSettings | None = None,
        start: Any = None,
        validation: Validation | None = None,
        weights: np.ndarray | None = None,
    ) -> dict[str, list[float]]:
        """Train ``model`` in place (LoRA adapters added and merged back when ``lora_r`` is set); its history.
        ``weights``: the loss weight of each entry of ``matrix`` (None: all 1)."""
        if self.lora_r is not None:
            add_lora(model, self.lora_r, self.lora_alpha, self.lora_dropout, self.lora_target_modules)
        common = (model, self._builder, texts, matrix, self._label_texts(), settings)
        if ppo is not None:
            trainer: Trainer = PPOTrainer(*common, ppo, rng, self.device_, start, validation)
        else:
            trainer = SupervisedTrainer(*common, rng, self.device_, validation, weights)
        history = trainer.fit(loop, progress=bool(self.verbose))
        if self.lora_r is not None:
            merge_lora(model)
        return history

    def _fit_embedding_head(
        self, texts: list[str], matrix: np.ndarray | None, supervised: bool, reused: bool
    ) -> np.ndarray | None:
        """Fit the logistic regression of ``embedding_head`` on the starting encoder, before training moves it;
        returns the frozen sentence vectors of ``texts`` (None when there is no head).

        A warm start keeps the frozen encoder of the first fit: the head reads the encoder as it was
        before any fine-tuning. ``head_weights_`` starts as ``(1 - w, w)``; ``"auto"`` starts with the
        fine-tuned model alone, until :meth:`_cross_fit` weighs the two."""
        kept = getattr(self, "_frozen_encoder", None) if reused else None
        self.history_: dict = {}
        self.head_weights_ = (1.0, 0.0)
        self.linear_head_: LinearHead | None = None
        self._frozen_encoder = None
        wanted = self.embedding_head
        if wanted == "auto":
            # Cross-fitting pays off in the few-shot regime and needs two texts of every class.
            counts = matrix.sum(0) if matrix is not None else np.zeros(1)
            backbone = getattr(self.model_.model, "encoder_model", None)
            too_many = len(texts) > AUTO_HEAD_MAX_TEXTS or counts.min() < 2
            if self.multilabel_ or too_many or self.warm_start or backbone is None:
                wanted = 0.0
            elif self._tokens(texts) > AUTO_HEAD_MAX_TOKENS:
                wanted = 0.0
        if not supervised or matrix is None or wanted == 0.0:
            return None
        if wanted != "auto":
            self.head_weights_ = (1.0 - float(wanted), float(wanted))
        self._frozen_encoder = kept if kept is not None else frozen_encoder(self.model_)
        vectors = embed(self._frozen_encoder, self.tokenizer_, texts, self.max_length_, self.device_, self.batch_size)
        self.linear_head_ = fit_linear_head(vectors, matrix, self.multilabel_)
        return vectors

    def _cross_fit(
        self,
        start: Any,
        texts: list[str],
        matrix: np.ndarray,
        vectors: np.ndarray,
        settings: TrainSettings,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """``embedding_head="auto"``: weigh the fine-tuned model and the head by two-fold cross-fitting; returns
        the out-of-fold scores as prediction will mix them (for ``calibration``).

        Each half of the texts (stratified) is scored by a model fine-tuned on the other half and by a
        logistic regression on the other half's frozen vectors; the two weights are those that give
        the held-out texts the highest likelihood (:func:`~skgliclass.embedding_head.stack_weights`).
        """
        y = matrix.argmax(1)
        folds: list = []
        model_oof = log_softmax(self._out_of_fold(start, texts, matrix, settings, rng, folds), axis=1)
        head_oof = np.zeros(matrix.shape)
        for train, held in folds:
            head_oof[held] = fit_linear_head(vectors[train], matrix[train], False).log_proba(vectors[held], False)
        both = stack_weights(model_oof, head_oof, y)
        alone = stack_weights(model_oof, head_oof, y, use_head=False)
        losses = [_held_out_loss(model_oof, head_oof, y, w) for w in (alone, both)]
        # The head joins only when it makes the held-out texts significantly likelier (likelihood-ratio test, 5%):
        # a weight fitted on a dozen texts per fold would otherwise follow their noise.
        # Without the head the model keeps its own scale: a temperature from half-data models would misjudge it.
        self.head_weights_ = both if 2 * len(y) * (losses[0] - losses[1]) > LR_TEST_CRITICAL else (1.0, 0.0)
        self.history_ = {
            "cross_fit_model_score": [float(np.mean(model_oof.argmax(1) == y))],
            "cross_fit_head_score": [float(np.mean(head_oof.argmax(1) == y))],
            "cross_fit_loss_model": [losses[0]],
            "cross_fit_loss_both": [losses[1]],
        }
        if self.head_weights_[1] == 0.0:  # the head adds nothing: keep prediction at one encoder pass
            self._frozen_encoder, self.linear_head_ = None, None
            return model_oof
        return mix(model_oof, head_oof, self.head_weights_, multilabel=False)

    def _out_of_fold(
        self,
        start: Any,
        texts: list[str],
        matrix: np.ndarray,
        settings: TrainSettings,
        rng: np.random.Generator,
        folds: list | None = None,
    ) -> np.ndarray:
        """Raw logits of each half of the texts (stratified by first label) from a copy of ``start`` fine-tuned on
        the other half; ``folds`` (when given) receives the ``(train, held)`` pairs."""
        oof = np.zeros(matrix.shape)
        labels = self._label_texts()
        for train, held in two_folds((matrix == 1).argmax(1), rng):
            model = copy.deepcopy(start)
            self._train(model, [texts[i] for i in train], matrix[train], settings, rng, LoopSettings(self.on_bad_batch))
            logits, _ = predict_logits(
                model,
                self._builder,
                [texts[i] for i in held],
                labels,
                prompt=self.prompt,
                batch_size=self.batch_size,
                device=self.device_,
            )
            oof[held] = logits.astype(np.float64)
            if folds is not None:
                folds.append((train, held))
            del model
        return oof

    def _out_of_fold_apart(
        self, texts: list[str], matrix: np.ndarray, settings: TrainSettings, seed: int
    ) -> np.ndarray:
        """:meth:`_out_of_fold` logits for the map, drawn with random streams of their own: the fitted model is the
        very one a fit without a map makes (a temperature then changes no prediction, and nothing else)."""
        cuda = torch.device(self.device_).type == "cuda"
        with torch.random.fork_rng(devices=None if cuda else []):
            return self._out_of_fold(
                copy.deepcopy(self.model_), texts, matrix, settings, np.random.default_rng([seed, 1])
            )

    def _loop_settings(self, texts: list[str], matrix: np.ndarray | None) -> LoopSettings:
        return LoopSettings(
            on_bad_batch=self.on_bad_batch,
            checkpoint_dir=None if self.checkpoint_dir is None else os.fspath(self.checkpoint_dir),
            checkpoint_every=self.checkpoint_every,
            resume=self.resume,
            fingerprint=self._fingerprint(texts, matrix),
        )

    def _runs(self, texts: list[str], once: bool, stops: bool = False) -> int:
        """How many fine-tuning runs ``average_fits`` asks of this fit (``once``: a PPO or feedback fit; ``stops``:
        early stopping, whose kept epoch ``"auto"`` leaves as the one model)."""
        if self.average_fits != "auto":
            runs = int(self.average_fits)
            if runs > 1 and (once or self.checkpoint_dir is not None):
                raise ValueError(
                    f"average_fits={runs} averages supervised fits from y without checkpoint_dir; this fit is "
                    f"{'a PPO or feedback fit' if once else 'checkpointed'}: leave average_fits at 'auto' or 1."
                )
            return runs
        if once or stops or self.checkpoint_dir is not None:
            return 1
        return AUTO_AVERAGE_RUNS if self._tokens(texts) <= AUTO_AVERAGE_MAX_TOKENS else 1

    def _tokens(self, texts: list[str]) -> int:
        """How many tokens the model reads of ``texts`` (each cut at ``max_length``)."""
        return sum(map(len, self.tokenizer_(texts, truncation=True, max_length=self.max_length_)["input_ids"]))

    def _calibrates(self, ppo: PPOSettings | None, feedback: Any, matrix: np.ndarray | None) -> bool:
        """Whether this fit learns ``calibration`` or ``threshold="auto"``: a supervised fit from complete labels."""
        complete = matrix is not None and bool((matrix >= 0).all()) and len(matrix) >= 4
        return self._wants_held_out_scores() and ppo is None and feedback is None and complete

    def _cross_fits_for_calibration(self, texts: list[str]) -> bool:
        """Whether to pay two half-data fits for held-out logits: when a map or learnt thresholds are asked for by
        name, and for ``calibration="auto"`` on small single-label training sets, where a temperature never changes
        a prediction and the fine-tuned model is most over-confident (eight texts per class: hedging ECE 0.37 ->
        0.14, vaccine stance 0.35 -> 0.13, BBC 0.036 -> 0.030)."""
        if self.calibration not in ("auto", None) or (self.multilabel_ and self._learns_thresholds()):
            return True
        auto = self.calibration == "auto" and not self.multilabel_
        return auto and self._tokens(texts) <= AUTO_CALIBRATION_MAX_TOKENS

    def _raw_logits(self, X: Any) -> np.ndarray:
        logits = super()._raw_logits(X)
        if self.linear_head_ is None:
            return logits
        texts = check_texts(X)
        vectors = embed(self._frozen_encoder, self.tokenizer_, texts, self.max_length_, self.device_, self.batch_size)
        return mix(logits, self.linear_head_.log_proba(vectors, self.multilabel_), self.head_weights_, self.multilabel_)

    def _explained_output(self) -> str:
        """``explain(output="auto")``: the log-odds. A fine-tuned model is sure of most texts, where the log of its
        probability is flat and integrated gradients credit the words the path met first: on 200 BBC articles,
        deleting the top five words hurt more than five random ones in 81% of them with the log-odds, 79.5% with
        the log-probability (zero-shot: 78.5% and 81%)."""
        return "log-odds"

    def _scoring(self) -> Any:
        scoring = super()._scoring()
        if self.linear_head_ is not None:
            scoring.head, scoring.frozen, scoring.head_weights = (
                self.linear_head_,
                self._frozen_encoder,
                self.head_weights_,
            )
        return scoring

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_frozen_encoder", None)
        if getattr(self, "_frozen_encoder", None) is not None:
            state["_frozen_encoder_state"] = dump_encoder(self._frozen_encoder)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        stored = state.pop("_frozen_encoder_state", None)
        super().__setstate__(state)
        self._frozen_encoder = None if stored is None else restore_encoder(stored)

    def _train_autocast(self) -> bool:
        """Whether training runs under bf16 autocast (see ``train_precision``)."""
        if self.train_precision != "auto":
            return self.train_precision == "bf16"
        if self.device_.type == "cuda":
            return torch.cuda.is_bf16_supported()
        return self.device_.type == "cpu" and cpu_supports_bf16()

    def _fingerprint(self, texts: list[str], matrix: np.ndarray | None) -> str:
        """What a checkpoint must match to be resumed: the data, the classes and the training settings.

        The seed is not part of it: the checkpoint carries the weights and every random state.
        """
        ignored = {"verbose", "checkpoint_dir", "checkpoint_every", "resume", "device", "precision", "threshold"}
        settings = {name: value for name, value in self.get_params(deep=False).items() if name not in ignored}
        data = None if matrix is None else matrix.tobytes()
        return fingerprint(texts, data, self.classes_.tolist(), settings)

    def _early_stopping(self, ppo: PPOSettings | None, logged: bool) -> bool:
        """Whether to hold texts out: as asked, or with ``"auto"`` when learning from feedback (a reward
        function or a logged ``feedback``)."""
        if self.early_stopping == "auto":
            return logged or (ppo is not None and ppo.reward.has_feedback)
        return bool(self.early_stopping)

    def _held_out_fraction(self, n_texts: int, ppo: PPOSettings | None, logged: bool) -> float:
        """Share of the texts held out to judge training: ``validation_fraction``, raised for feedback fits so
        that the guard has tens of verdicts (logged: a capped count; a rater: a quarter, capped)."""
        if logged:
            return feedback_held_out(n_texts, self.validation_fraction, HELD_OUT_VERDICTS)
        if ppo is not None and ppo.reward.has_feedback:
            return feedback_held_out(n_texts, self.validation_fraction, RATER_HELD_OUT_TEXTS)
        return self.validation_fraction

    def _fit_feedback(self, X: Any, y: Any, feedback: Any) -> tuple[list[str], np.ndarray, np.ndarray | None]:
        """``fit(X, feedback=log)``: classes from ``labels=`` (else the log's labels), targets from the verdicts,
        and the texts drawn at random (None when all were), the only ones held out to judge training."""
        if y is not None:
            raise ValueError("fit takes y or feedback, not both; write known labels into the log as verdicts.")
        if self.method not in ("auto", "focal"):
            raise ValueError(
                f"feedback is learnt with the per-pair (focal) loss; method={self.method!r} cannot read verdicts on "
                "single labels. Use method='auto' or 'focal' (a reward function is PPO's way to learn from a reviewer)."
            )
        if self.embedding_head != 0:
            raise ValueError("embedding_head fits a regression on complete labels; verdicts leave most unknown.")
        log = read_feedback(X, feedback)
        names = check_labels(self.labels) if self.labels is not None else sorted(set(log.labels))
        self.classes_, self.label_names_ = np.asarray(names, dtype=object), names
        self.multilabel_ = self.multi_label is True  # "auto": one label per text, which every verdict of 1 settles
        if not self.multilabel_ and len(names) < 2:
            raise ValueError(f"feedback names one class ({names[0]!r}); give labels=[...] with every class.")
        self._check_fitted_inputs()
        texts, targets = feedback_targets(log, names, single_label=not self.multilabel_)
        drawn = log.random_texts(texts)
        return texts, targets.astype(np.float32), None if drawn.all() else drawn

    def _check_without_targets(self, ppo: PPOSettings | None) -> None:
        """``fit(X)`` alone is PPO learning from a reward function, with the classes from ``labels``."""
        if ppo is None:
            raise ValueError(
                "GLiClassifier.fit needs targets y (labels, label lists or an indicator matrix); "
                "only method='ppo' with a reward function can learn without them."
            )
        if ppo.reward.needs_targets:
            raise ValueError(
                f"reward={self.reward!r} compares predictions with y, but y is None; pass y, or give "
                "reward=a function reward(texts, actions, probs) to learn from feedback alone."
            )
        if self.labels is None:
            raise ValueError("fit(X) without y needs labels=[...] naming the classes the reward judges.")

    def _ppo_settings(self) -> PPOSettings:
        return PPOSettings(
            reward=make_reward(self.reward),
            sampling=self.ppo_sampling,
            clip=self.ppo_clip,
            iterations=self.ppo_iterations,
            kl_coef=self.ppo_kl_coef,
            entropy_coef=self.ppo_entropy_coef,
            value_model=self.ppo_value_model,
            credit=self.ppo_credit,
        )

    def _new_model(self) -> tuple[Any, Any]:
        head = {
            "architecture": self.architecture or COSINE_HEAD["architecture"],
            "pooler": self.pooler or COSINE_HEAD["pooler"],
            "scorer": self.scorer or COSINE_HEAD["scorer"],
            "layer_reweighting": bool(self.layer_reweighting),
        }
        if head["architecture"].startswith("bi-encoder") and head["scorer"] == "dot":
            head.update({k: COSINE_HEAD[k] for k in ("normalize_features", "logit_scale_init_value")})
        if head["scorer"] == "cross-attn" and self.pooler is None:
            head["pooler"] = "pass"
        model, tokenizer = load_model(self.model, **head)
        if self.architecture is not None and model.config.architecture != self.architecture:
            raise ValueError(
                f"architecture={self.architecture!r}, but the checkpoint {self.model!r} is a "
                f"{model.config.architecture}; leave architecture=None to fine-tune it as it is."
            )
        replace_head(model, pooler=self.pooler, scorer=self.scorer, layer_reweighting=self.layer_reweighting or None)
        return model, tokenizer


def feedback_held_out(n_texts: int, fraction: float, most: int) -> float:
    """Share of the texts of a feedback fit held out for the guard: ``fraction``, at least ``most`` texts or a
    quarter of fewer texts.

    Telling a gain from chance takes tens of verdicts, where 10% of a log of a hundred would hold out ten.
    """
    return max(fraction, min(most, n_texts // 4) / n_texts)


def _held_out_loss(model: np.ndarray, head: np.ndarray, y: np.ndarray, weights: tuple[float, float]) -> float:
    """Mean negative log-likelihood of the true classes under ``mix`` of the held-out log-probabilities."""
    mixed = log_softmax(mix(model, head, weights, multilabel=False), axis=1)
    return float(-mixed[np.arange(len(y)), y].mean())


def _hold_out(
    texts: list[str],
    matrix: np.ndarray | None,
    fraction: float,
    rng: np.random.Generator,
    judges: np.ndarray | None = None,
) -> tuple[list[str], np.ndarray | None, Validation]:
    """Split off ``fraction`` of the rows for validation: per class (by each row's first label), at least one
    row of every class with two or more, and never a class's last row; without targets, a random share.
    ``judges``: the rows that may be held out (texts like those the model will meet), where enough exist."""
    if matrix is None:  # a reward function judges: no classes to stratify by
        if len(texts) < 2:
            raise ValueError("early_stopping needs at least two training texts; set early_stopping=False.")
        # One verdict per text is a coarse score: ten texts at least, where a quarter of the texts allows.
        size = max(1, round(fraction * len(texts)), min(10, len(texts) // 4))
        held = rng.permutation(len(texts))[: min(len(texts) - 1, size)]
        mask = np.zeros(len(texts), dtype=bool)
        mask[held] = True
        kept = [t for t, m in zip(texts, mask, strict=True) if not m]
        return kept, None, Validation([t for t, m in zip(texts, mask, strict=True) if m], None)
    first = np.where((matrix == 1).any(1), (matrix == 1).argmax(1), -1)
    share = fraction if judges is None else fraction * len(texts) / max(int(judges.sum()), 1)
    held: list[int] = []
    for c in np.unique(first):
        rows = np.flatnonzero(first == c)
        pool = rows if judges is None else rows[judges[rows]]
        size = min(len(rows) - 1, len(pool), max(1, round(share * len(pool)))) if len(rows) >= 2 else 0
        held.extend(rng.permutation(pool)[:size].tolist())
    if not held and judges is not None:  # no class has a row to spare among them: any row judges
        return _hold_out(texts, matrix, fraction, rng)
    if not held:
        raise ValueError(
            f"early_stopping needs a validation share, but no class has two training texts ({len(texts)} texts); "
            "give more texts or set early_stopping=False."
        )
    mask = np.zeros(len(texts), dtype=bool)
    mask[held] = True
    kept = [t for t, m in zip(texts, mask, strict=True) if not m]
    return kept, matrix[~mask], Validation([t for t, m in zip(texts, mask, strict=True) if m], matrix[mask])
