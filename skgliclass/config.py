"""The GLiClass model configuration: a typed dataclass that reads and writes reference ``config.json``."""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skgliclass.choices import ARCHITECTURES, POOLER_NAMES, SCORER_NAMES

__all__ = [
    "GLiClassConfig",
    "check_choice",
]


# Reference spellings accepted on input (left) and the names we use (right).
_POOLER_ALIASES = {"avg": "mean", "average": "mean", "abs_max": "abs-max", "abs_avg": "abs-mean", "abs-avg": "abs-mean"}
_SCORER_ALIASES = {"simple": "dot", "weighted_dot": "weighted-dot", "cross_attn": "cross-attn"}
# Our names that the reference spells differently when we write its config.json.
_POOLER_TO_REFERENCE = {"mean": "avg", "abs-max": "abs_max", "abs-mean": "abs_avg"}
_SCORER_TO_REFERENCE = {"dot": "simple"}

# Written for a backbone with no name: the reference needs some string there.
_UNNAMED = "unnamed-encoder"
# Reference options that change the forward pass and that skgliclass does not implement.
_UNSUPPORTED_FLAGS = ("use_lstm", "use_segment_embeddings", "use_calibrator", "multimodal")
# Reference keys that are derived or meaningless here; never carried over as extras.
_DROPPED_KEYS = {
    "model_type",
    "architectures",
    "transformers_version",
    "pad_token_id",
    "_name_or_path",
    "dtype",
    "torch_dtype",
    "return_dict",
    "output_hidden_states",
    "output_attentions",
}


def _canonical(name: str, aliases: dict[str, str]) -> str:
    name = str(name).strip().lower()
    return aliases.get(name, name)


def _is_machine_path(name: str | None) -> bool:
    """True for names that point into a file system rather than at a hub id (``org/name``)."""
    if not name:
        return False
    return (
        os.path.isabs(name) or name.startswith((".", "~")) or name.count("/") > 1 or "\\" in name or os.path.isdir(name)
    )


def portable_model_name(name: str | None) -> str | None:
    """Return ``name`` if it is a hub id, else the last component of a local path (never a machine path)."""
    if name is None:
        return None
    if _is_machine_path(name):
        return Path(name).name or None
    return name


@dataclass
class GLiClassConfig:
    """Configuration of a GLiClass model.

    Field names follow skgliclass conventions; :meth:`from_reference_dict` and
    :meth:`to_reference_dict` translate to and from the ``config.json`` of the
    public ``gliclass`` package.

    Parameters
    ----------
    architecture : {"uni-encoder", "bi-encoder", "bi-encoder-fused", "encoder-decoder"}, default="uni-encoder"
        How text and labels meet: one joint sequence, two encoders, label
        vectors fused into the text input, or labels in a decoder.
    encoder_config : dict, default={}
        The backbone's full ``transformers`` config as a dict (``model_type`` included).
    encoder_model_name : str or None, default=None
        Hub id of the backbone, informational; never a local path.
    label_model_config : dict or None, default=None
        The label encoder's config (bi-encoders only).
    label_model_name : str or None, default=None
        Hub id of the label encoder (bi-encoders only).
    class_token_index : int or None, default=None
        Token id of ``<<LABEL>>``; ``None`` means ``vocab_size``.
    text_token_index : int or None, default=None
        Token id of ``<<SEP>>``; ``None`` means ``vocab_size + 1``.
    example_token_index : int or None, default=None
        Token id of ``<<EXAMPLE>>``; ``None`` means ``vocab_size + 2``.
    vocab_size : int or None, default=None
        Vocabulary size of the (resized) backbone; ``None`` reads it from ``encoder_config``.
    hidden_size : int or None, default=None
        Inner width of the projectors, also the width scorers are built with;
        ``None`` means the backbone's hidden size.
    projector_hidden_act : str, default="gelu"
        Activation inside the projectors.
    pooler : str, default="first"
        Text pooler: first, last, mean, max, sum, rms, abs-max, abs-mean, attention,
        or pass (token sequence, for the cross-attn scorer).
    class_token_pooling : {"first", "average"}, default="first"
        Label vector: the state at ``<<LABEL>>`` or the mean over the label's span.
    scorer : str, default="dot"
        Scorer: dot, weighted-dot, mlp, hopfield or cross-attn.
    scorer_num_heads : int, default=16
        Attention heads of the cross-attn scorer.
    scorer_mlp_hidden_size : int, default=1024
        MLP width of the cross-attn scorer (mlp and hopfield use 256, as the reference does).
    scorer_attn_dropout : float, default=0.1
        Attention dropout of the cross-attn scorer.
    normalize_features : bool, default=False
        L2-normalise text and label vectors (cosine scores times ``logit_scale``).
    logit_scale_init_value : float, default=2.6592
        Initial value of the learned logit scale (a raw multiplier).
    extract_text_features : bool, default=False
        Pool only the tokens from ``<<SEP>>`` onwards (uni-encoder).
    embed_class_token : bool, default=True
        False reads the label vector at the token after ``<<LABEL>>``.
    prompt_first : bool, default=False
        True puts the label prompt before the text.
    layer_reweighting : bool, default=False
        Squeeze-excitation mixing of all hidden states instead of the last one.
    encoder_layer_id : int or None, default=None
        Use this hidden state instead of the last one.
    dropout : float, default=0.1
        Dropout on the pooled text vector and inside the projectors.
    max_num_classes : int, default=25
        Label slots of the reference when the caller gives no count.
    problem_type : str, default="multi_label_classification"
        Kept for the reference; GLiClass scores are sigmoid-trained.
    focal_loss_alpha : float, default=0.5
        Focal loss alpha (negative: off), as the reference's trainer reads it from a checkpoint.
        skgliclass never trains from it: ``GLiClassifier`` has its own ``focal_alpha`` (default
        None) and ``focal_gamma`` (default 0.0), the defaults its few-shot benchmarks chose (see the
        training guide). The field keeps the reference's default so that a
        checkpoint written here trains in ``gliclass`` as one of its own would.
    focal_loss_gamma : float, default=2.0
        Focal loss gamma (0: plain BCE); see ``focal_loss_alpha``.
    contrastive_loss_coef : float, default=0.0
        Weight of the token-level contrastive loss between label vectors.
    initializer_range : float, default=0.03
        Standard deviation of new head weights.
    label_template : str or None, default=None
        How label names are written for the model, e.g. ``"This text is about {}."``; None: verbatim.
    max_seq_length : int or None, default=None
        Longest input the backbone was trained to read (e.g. 256 for sentence encoders); None derives
        one from the backbone (see :attr:`default_max_length`).
    extra : dict, default={}
        Unknown reference keys, written back unchanged.

    Examples
    --------
    >>> from skgliclass import GLiClassConfig
    >>> config = GLiClassConfig(architecture="uni-encoder", pooler="mean", scorer="mlp")
    >>> config.to_reference_dict()["pooling_strategy"]
    'avg'
    """

    architecture: str = "uni-encoder"
    encoder_config: dict[str, Any] = field(default_factory=dict)
    encoder_model_name: str | None = None
    label_model_config: dict[str, Any] | None = None
    label_model_name: str | None = None
    class_token_index: int | None = None
    text_token_index: int | None = None
    example_token_index: int | None = None
    vocab_size: int | None = None
    hidden_size: int | None = None
    projector_hidden_act: str = "gelu"
    pooler: str = "first"
    class_token_pooling: str = "first"
    scorer: str = "dot"
    scorer_num_heads: int = 16
    scorer_mlp_hidden_size: int = 1024
    scorer_attn_dropout: float = 0.1
    normalize_features: bool = False
    logit_scale_init_value: float = 2.6592
    extract_text_features: bool = False
    embed_class_token: bool = True
    prompt_first: bool = False
    layer_reweighting: bool = False
    encoder_layer_id: int | None = None
    dropout: float = 0.1
    max_num_classes: int = 25
    problem_type: str = "multi_label_classification"
    focal_loss_alpha: float = 0.5
    focal_loss_gamma: float = 2.0
    contrastive_loss_coef: float = 0.0
    initializer_range: float = 0.03
    label_template: str | None = None
    max_seq_length: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.architecture = _canonical(self.architecture, {"uni_encoder": "uni-encoder"}).replace("_", "-")
        self.pooler = _canonical(self.pooler, _POOLER_ALIASES)
        self.scorer = _canonical(self.scorer, _SCORER_ALIASES)
        self.encoder_config = dict(self.encoder_config)
        self.encoder_model_name = portable_model_name(self.encoder_model_name)
        self.label_model_name = portable_model_name(self.label_model_name)
        if self.vocab_size is None and "vocab_size" in self.encoder_config:
            self.vocab_size = int(self.encoder_config["vocab_size"])
        if self.vocab_size is not None:
            base = self.vocab_size
            self.class_token_index = base if self.class_token_index is None else self.class_token_index
            self.text_token_index = base + 1 if self.text_token_index is None else self.text_token_index
            self.example_token_index = base + 2 if self.example_token_index is None else self.example_token_index
        self.validate()

    # ------------------------------------------------------------------ checks
    def validate(self) -> None:
        """Check every field; raise ``ValueError`` naming the field, the value and the choices."""
        check_choice("architecture", self.architecture, ARCHITECTURES)
        check_choice("pooler", self.pooler, POOLER_NAMES)
        check_choice("scorer", self.scorer, SCORER_NAMES)
        check_choice("class_token_pooling", self.class_token_pooling, ("first", "average"))
        if (self.scorer == "cross-attn") != (self.pooler == "pass"):
            raise ValueError(
                f"scorer={self.scorer!r} with pooler={self.pooler!r}: the cross-attn scorer reads the whole token "
                "sequence, so it needs pooler='pass', and pooler='pass' is only valid with scorer='cross-attn'."
            )
        if self.scorer == "cross-attn" and self.architecture != "uni-encoder":
            raise ValueError(
                f"scorer='cross-attn' needs the text tokens in the same pass as the labels; "
                f"architecture={self.architecture!r} does not provide them. Use architecture='uni-encoder'."
            )
        if self.architecture in ("bi-encoder", "bi-encoder-fused") and self.label_model_config is None:
            raise ValueError(f"architecture={self.architecture!r} needs label_model_config (the label encoder).")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}.")
        for name in ("hidden_size", "scorer_num_heads", "scorer_mlp_hidden_size", "max_num_classes"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a positive int, got {value!r}.")

    # ------------------------------------------------------------ derived values
    @property
    def encoder_hidden_size(self) -> int:
        """Width of the backbone's hidden states."""
        cfg = self.encoder_config
        return int(cfg.get("hidden_size") or cfg.get("d_model"))

    @property
    def label_hidden_size(self) -> int:
        """Width of the label encoder's hidden states (bi-encoders)."""
        cfg = self.label_model_config or self.encoder_config
        return int(cfg.get("hidden_size") or cfg.get("d_model"))

    @property
    def projector_size(self) -> int:
        """Inner width of the projectors (``hidden_size`` or the backbone width)."""
        return self.hidden_size or self.encoder_hidden_size

    @property
    def num_hidden_layers(self) -> int:
        """Number of transformer layers of the backbone."""
        cfg = self.encoder_config
        return int(cfg.get("num_hidden_layers") or cfg.get("num_layers"))

    @property
    def absolute_positions(self) -> int | None:
        """How many absolute positions the backbone has; None where positions are relative (no limit)."""
        cfg = self.encoder_config
        if cfg.get("model_type") == "deberta-v2" and not cfg.get("position_biased_input", True):
            return None
        positions = cfg.get("max_position_embeddings")
        return int(positions) if positions else None

    @property
    def position_limit(self) -> int:
        """The longest input the backbone's positions allow, at most 1024 (the reference pipeline's length)."""
        return min(1024, self.absolute_positions or 1024)

    @property
    def default_max_length(self) -> int:
        """Training input length when the user gives none: ``max_seq_length``, else :attr:`position_limit`."""
        return int(self.max_seq_length or self.position_limit)

    @property
    def pad_token_id(self) -> int | None:
        """Padding id of the backbone."""
        value = self.encoder_config.get("pad_token_id")
        return None if value is None else int(value)

    def replace(self, **changes: Any) -> GLiClassConfig:
        """Return a copy with some fields changed (validated)."""
        return dataclasses.replace(self, **changes)

    # ---------------------------------------------------------- reference I/O
    @classmethod
    def from_reference_dict(cls, data: dict[str, Any]) -> GLiClassConfig:
        """Build a config from a reference ``config.json`` dict.

        Missing keys take the reference defaults, unknown keys are kept in
        ``extra`` and written back, reference names (``simple``, ``avg``) are accepted.
        """
        data = dict(data)
        for flag in _UNSUPPORTED_FLAGS:
            if data.get(flag):
                raise ValueError(
                    f"This checkpoint sets {flag}={data[flag]!r}, a reference option skgliclass does not implement; "
                    "it cannot be loaded with the same scores."
                )
        architecture = data.pop("architecture_type", "uni-encoder")
        if architecture not in ARCHITECTURES:
            raise ValueError(
                f"architecture_type={architecture!r} is not supported; skgliclass loads {', '.join(ARCHITECTURES)}."
            )
        encoder_config = data.pop("encoder_config", None) or {}
        encoder_config = dict(encoder_config)
        encoder_config.setdefault("model_type", "deberta-v2")
        layer_id = data.pop("encoder_layer_id", -1)
        values: dict[str, Any] = {
            "architecture": architecture,
            "encoder_config": encoder_config,
            "encoder_model_name": _pop_name(data),
            "label_model_config": data.pop("label_model_config", None),
            "label_model_name": data.pop("label_model_name", None),
            "pooler": data.pop("pooling_strategy", "first"),
            "scorer": data.pop("scorer_type", "simple"),
            "layer_reweighting": bool(data.pop("squeeze_layers", False)),
            "encoder_layer_id": None if layer_id in (-1, None) else int(layer_id),
        }
        for key in ("class_token_index", "text_token_index", "example_token_index"):
            value = data.pop(key, -1)
            values[key] = None if value in (-1, None) else int(value)
        names = {f.name for f in dataclasses.fields(cls)} - set(values) - {"extra"}
        for name in names:
            if name in data:
                values[name] = data.pop(name)
        values.setdefault("problem_type", "single_label_classification")  # the reference's default
        if values["problem_type"] is None:
            values.pop("problem_type")
        values["extra"] = {k: v for k, v in data.items() if k not in _DROPPED_KEYS}
        return cls(**values)

    def to_reference_dict(self) -> dict[str, Any]:
        """Return a ``config.json`` dict that ``gliclass`` loads; it holds no machine path."""
        out: dict[str, Any] = dict(self.extra)
        out.update(
            {
                "model_type": "GLiClass",
                "architectures": ["GLiClassModel"],
                "architecture_type": self.architecture,
                "encoder_config": dict(self.encoder_config),
                # The reference builds Path(encoder_model_name) and crashes on None.
                "encoder_model_name": portable_model_name(self.encoder_model_name) or _UNNAMED,
                "label_model_config": None if self.label_model_config is None else dict(self.label_model_config),
                "label_model_name": portable_model_name(self.label_model_name),
                "class_token_index": _or_minus_one(self.class_token_index),
                "text_token_index": _or_minus_one(self.text_token_index),
                "example_token_index": _or_minus_one(self.example_token_index),
                "vocab_size": self.vocab_size,
                "hidden_size": self.hidden_size,
                "projector_hidden_act": self.projector_hidden_act,
                "pooling_strategy": _POOLER_TO_REFERENCE.get(self.pooler, self.pooler),
                "class_token_pooling": self.class_token_pooling,
                "scorer_type": _SCORER_TO_REFERENCE.get(self.scorer, self.scorer),
                "scorer_num_heads": self.scorer_num_heads,
                "scorer_mlp_hidden_size": self.scorer_mlp_hidden_size,
                "scorer_attn_dropout": self.scorer_attn_dropout,
                "normalize_features": self.normalize_features,
                "logit_scale_init_value": self.logit_scale_init_value,
                "extract_text_features": self.extract_text_features,
                "embed_class_token": self.embed_class_token,
                "prompt_first": self.prompt_first,
                "squeeze_layers": self.layer_reweighting,
                "encoder_layer_id": _or_minus_one(self.encoder_layer_id),
                "dropout": self.dropout,
                "max_num_classes": self.max_num_classes,
                "problem_type": self.problem_type,
                "focal_loss_alpha": self.focal_loss_alpha,
                "focal_loss_gamma": self.focal_loss_gamma,
                "contrastive_loss_coef": self.contrastive_loss_coef,
                "initializer_range": self.initializer_range,
                "max_seq_length": self.max_seq_length,
                "label_template": self.label_template,
                "pad_token_id": self.pad_token_id,
            }
        )
        if self.encoder_config.get("_name_or_path"):
            out["encoder_config"]["_name_or_path"] = portable_model_name(self.encoder_config["_name_or_path"])
        if out["label_model_config"] and out["label_model_config"].get("_name_or_path"):
            name = out["label_model_config"]["_name_or_path"]
            out["label_model_config"]["_name_or_path"] = portable_model_name(name)
        return out

    @classmethod
    def from_json_file(cls, path: str | os.PathLike[str]) -> GLiClassConfig:
        """Read a reference ``config.json``."""
        with open(path, encoding="utf-8") as handle:
            return cls.from_reference_dict(json.load(handle))

    def to_json_string(self) -> str:
        """Serialise :meth:`to_reference_dict` as pretty JSON."""
        return json.dumps(self.to_reference_dict(), indent=2, sort_keys=True) + "\n"


def _pop_name(data: dict[str, Any]) -> str | None:
    """The backbone's name from either reference key (both are removed), the placeholder read as None."""
    name = data.pop("encoder_model_name", None)
    alias = data.pop("encoder_model", None)
    name = name or alias
    return None if name == _UNNAMED else name


def _or_minus_one(value: int | None) -> int:
    return -1 if value is None else int(value)


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        import difflib

        close = difflib.get_close_matches(str(value), choices, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"{name}={value!r} is not valid; choose one of {', '.join(map(repr, choices))}.{hint}")
