"""A new GLiClass model on a pretrained plain encoder (BERT, DeBERTa, ModernBERT, T5)."""

from __future__ import annotations

from typing import Any

from transformers import AutoTokenizer, PreTrainedTokenizerBase

from skgliclass._logging import quiet_transformers
from skgliclass.config import GLiClassConfig, portable_model_name
from skgliclass.modeling.encoder import add_special_tokens, load_backbone, resize_vocab
from skgliclass.modeling.model import GLiClassModel
from skgliclass.modeling.scorers import SCORERS

__all__ = ["new_model"]


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
    the encoder's own geometry before any training (this is what makes zero-shot work on a sentence encoder).

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
    """
    with quiet_transformers():
        tokenizer = AutoTokenizer.from_pretrained(encoder)
    seq2seq = architecture == "encoder-decoder"
    backbone = load_backbone(encoder, encoder_only=not seq2seq)
    pretrained = {"encoder_decoder_model" if seq2seq else "encoder_model": backbone}
    fields: dict[str, Any] = {}
    if architecture != "bi-encoder":  # the plain bi-encoder never reads markers (and the reference cannot resize it)
        fields.update(add_special_tokens(tokenizer))
        resize_vocab(backbone, len(tokenizer))
    if architecture in ("bi-encoder", "bi-encoder-fused"):
        pretrained["label_encoder"] = load_backbone(label_encoder or encoder)
        fields["label_model_config"] = _config_dict(pretrained["label_encoder"])
        fields["label_model_name"] = portable_model_name(label_encoder or encoder_model_name or encoder)
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
    return GLiClassModel.from_config(config, pretrained, identity_projectors=identity), tokenizer
