"""A new GLiClass model on a pretrained plain encoder (BERT, DeBERTa, ModernBERT, T5)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from transformers import AutoTokenizer, PreTrainedTokenizerBase

from skgliclass._cache import cached
from skgliclass._logging import quiet_transformers
from skgliclass.config import GLiClassConfig, portable_model_name
from skgliclass.modeling.encoder import add_special_tokens, load_backbone, resize_vocab
from skgliclass.modeling.layers import LayerReweighting
from skgliclass.modeling.model import GLiClassModel
from skgliclass.modeling.poolers import build_pooler
from skgliclass.modeling.scorers import SCORERS, build_scorer

__all__ = ["SENTENCE_TEMPLATE", "new_model", "replace_head"]

SENTENCE_TEMPLATE = "This text is about {}."


def _tokenizer(name: str) -> PreTrainedTokenizerBase:
    def load() -> PreTrainedTokenizerBase:
        with quiet_transformers():
            return AutoTokenizer.from_pretrained(name)

    return cached(("tokenizer", _key(name)), load)


def _backbone(name: str, encoder_only: bool) -> Any:
    return cached(("backbone", _key(name), encoder_only), lambda: load_backbone(name, encoder_only=encoder_only))


def _key(name: str) -> str:
    path = Path(name).expanduser()
    return str(path.resolve()) if path.is_dir() else name


def _trained_length(name: str) -> int | None:
    """``max_seq_length`` of a sentence-transformers folder (the length its encoder was trained on)."""
    path = Path(name).expanduser() / "sentence_bert_config.json"
    if not path.is_file():
        return None
    value = json.loads(path.read_text(encoding="utf-8")).get("max_seq_length")
    return int(value) if value else None


def _config_dict(backbone: Any) -> dict[str, Any]:
    values = backbone.config.to_dict()
    values.pop("_name_or_path", None)
    return values


def new_model(
    encoder: str,
    *,
    architecture: str = "uni-encoder",
    pooler: str = "first",
    scorer: str = "dot",
    label_encoder: str | None = None,
    encoder_model_name: str | None = None,
    **config_fields: Any,
) -> tuple[GLiClassModel, PreTrainedTokenizerBase]:
    """Put a fresh GLiClass head on a pretrained encoder.

    The marker tokens are added to the tokenizer and the embeddings resized where the variant reads
    markers (all but the plain bi-encoder). With a weightless scorer (``dot``) and no ``hidden_size``
    given, the projectors are twice as wide and start as exact identities, so the model scores with
    the encoder's own geometry before any training (this is what makes zero-shot work on a sentence encoder);
    on a sentence-transformers encoder, such a bi-encoder also writes its labels as sentences
    (``config.label_template``).

    Parameters
    ----------
    encoder : str
        Local folder or hub id of the backbone.
    architecture, pooler, scorer : str
        See :class:`~skgliclass.GLiClassConfig`.
    label_encoder : str or None, default=None
        Backbone of the label encoder (bi-encoders); ``None`` reuses ``encoder`` (a separate copy).
    encoder_model_name : str or None, default=None
        Hub id recorded in the config; defaults to ``encoder`` when that is not a local path.
    **config_fields
        Other :class:`~skgliclass.GLiClassConfig` fields.

    Returns
    -------
    model : GLiClassModel
    tokenizer : PreTrainedTokenizerBase

    Examples
    --------
    >>> from skgliclass import new_model
    >>> model, tokenizer = new_model(
    ...     "microsoft/deberta-v3-small", architecture="uni-encoder", pooler="mean", scorer="mlp"
    ... )  # doctest: +SKIP
    >>> model.config.scorer  # doctest: +SKIP
    'mlp'
    """
    seq2seq = architecture == "encoder-decoder"
    tokenizer = _tokenizer(encoder)
    backbone = _backbone(encoder, encoder_only=not seq2seq)
    pretrained = {"encoder_decoder_model" if seq2seq else "encoder_model": backbone}
    fields: dict[str, Any] = {}
    if architecture != "bi-encoder":  # the plain bi-encoder never reads markers (and the reference cannot resize it)
        fields.update(add_special_tokens(tokenizer))
        resize_vocab(backbone, len(tokenizer))
    if architecture in ("bi-encoder", "bi-encoder-fused"):
        pretrained["label_encoder"] = _backbone(label_encoder or encoder, encoder_only=True)
        fields["label_model_config"] = _config_dict(pretrained["label_encoder"])
        fields["label_model_name"] = portable_model_name(label_encoder or encoder_model_name or encoder)
    fields["max_seq_length"] = _trained_length(encoder)
    fields.update(config_fields)
    config = GLiClassConfig(
        architecture=architecture,
        encoder_config=_config_dict(backbone),
        encoder_model_name=portable_model_name(encoder_model_name or encoder),
        vocab_size=backbone.get_input_embeddings().num_embeddings,
        pooler=pooler,
        scorer=scorer,
        **fields,
    )
    identity = not SCORERS[config.scorer].has_weights and config.hidden_size is None
    if identity:
        config = config.replace(hidden_size=2 * config.encoder_hidden_size)
    if config.label_template is None and fields["max_seq_length"] and config.architecture == "bi-encoder" and identity:
        # A sentence encoder compares a text with sentences, not with bare words.
        config = config.replace(label_template=SENTENCE_TEMPLATE)
    return GLiClassModel.from_config(config, pretrained, identity_projectors=identity), tokenizer


def replace_head(model: GLiClassModel, **changes: Any) -> GLiClassModel:
    """Swap head parts of a model in place: ``pooler``, ``scorer``, ``layer_reweighting``.

    Poolers without weights are swapped freely; a new scorer, an attention pooler or layer
    re-weighting start fresh (initialised as for a new model). Other fields cannot change.
    """
    allowed = {"pooler", "scorer", "layer_reweighting"}
    if set(changes) - allowed:
        raise ValueError(f"only {sorted(allowed)} can change on a loaded model, not {sorted(set(changes) - allowed)}.")
    changes = {k: v for k, v in changes.items() if v is not None and getattr(model.config, k) != v}
    if not changes:
        return model
    config = model.config.replace(**changes)
    variant = model.model
    variant.config = config
    model.config = config
    if "pooler" in changes:
        variant.pooler = build_pooler(config.pooler, config.encoder_hidden_size)
    if "scorer" in changes:
        variant.scorer = build_scorer(config.scorer, config)
    if "layer_reweighting" in changes:
        if config.layer_reweighting:
            variant.layer_wise_attention = LayerReweighting(config.num_hidden_layers + 1, config.encoder_hidden_size)
        elif hasattr(variant, "layer_wise_attention"):
            del variant.layer_wise_attention
    names = {"pooler": "pooler", "scorer": "scorer", "layer_reweighting": "layer_wise_attention"}
    model.init_head_(only=tuple(names[k] for k in changes))
    return model
