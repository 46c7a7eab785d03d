"""Backbones: build them from a nested config (nothing downloaded) or load pretrained ones; special tokens."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from transformers import AutoConfig, AutoModel, PretrainedConfig, PreTrainedTokenizerBase

from skgliclass._logging import quiet_transformers
from skgliclass.choices import MARKERS

__all__ = [
    "SPECIAL_TOKENS",
    "add_special_tokens",
    "build_backbone",
    "hf_config",
    "load_backbone",
    "resize_vocab",
]

SPECIAL_TOKENS = MARKERS
_T5_FAMILY = {"t5", "mt5", "umt5"}


def hf_config(config: dict[str, Any] | PretrainedConfig) -> PretrainedConfig:
    """A ``transformers`` config object from a nested config dict (``model_type`` names the class)."""
    if isinstance(config, PretrainedConfig):
        return config
    values = dict(config)
    model_type = values.pop("model_type", "deberta-v2")
    for key in ("transformers_version", "architectures", "_name_or_path"):
        values.pop(key, None)
    try:
        return AutoConfig.for_model(model_type, **values)
    except ValueError as error:
        raise ValueError(
            f"encoder_config has model_type={model_type!r}, which this transformers version does not know."
        ) from error


def _model_class(cfg: PretrainedConfig, encoder_only: bool) -> Any:
    """T5-family configs give their encoder stack when only an encoder is wanted, as in the reference."""
    if encoder_only and cfg.model_type in _T5_FAMILY:
        from transformers import T5EncoderModel, UMT5EncoderModel

        return UMT5EncoderModel if cfg.model_type == "umt5" else T5EncoderModel
    return AutoModel


def build_backbone(config: dict[str, Any] | PretrainedConfig, *, encoder_only: bool = True) -> nn.Module:
    """A randomly initialised backbone from its config (no download).

    Parameters
    ----------
    config : dict or PretrainedConfig
        The nested encoder config.
    encoder_only : bool, default=True
        False keeps a T5 decoder (the encoder-decoder variant).
    """
    cfg = hf_config(config)
    if not encoder_only and not getattr(cfg, "is_encoder_decoder", False):
        raise ValueError(
            f"architecture='encoder-decoder' needs an encoder-decoder backbone such as T5; got {cfg.model_type!r}."
        )
    return _model_class(cfg, encoder_only).from_config(cfg)


def load_backbone(name_or_path: str, *, encoder_only: bool = True, **kwargs: Any) -> nn.Module:
    """A pretrained backbone from a local folder or a hub id (fp32, eval mode)."""
    cfg = AutoConfig.from_pretrained(name_or_path, **kwargs)
    if not encoder_only and not getattr(cfg, "is_encoder_decoder", False):
        raise ValueError(
            f"architecture='encoder-decoder' needs an encoder-decoder backbone such as T5; "
            f"{name_or_path!r} is {cfg.model_type!r}."
        )
    with quiet_transformers():
        model = _model_class(cfg, encoder_only).from_pretrained(name_or_path, dtype=torch.float32, **kwargs)
    return model.eval()


def add_special_tokens(tokenizer: PreTrainedTokenizerBase) -> dict[str, int]:
    """Add ``<<LABEL>>``, ``<<SEP>>``, ``<<EXAMPLE>>`` (as special tokens) where missing; return their ids."""
    missing = [t for t in SPECIAL_TOKENS if t not in tokenizer.get_vocab()]
    if missing:
        tokenizer.add_tokens(missing, special_tokens=True)
    ids = tokenizer.convert_tokens_to_ids(list(SPECIAL_TOKENS))
    return dict(zip(("class_token_index", "text_token_index", "example_token_index"), ids, strict=True))


def resize_vocab(backbone: nn.Module, vocab_size: int | None) -> nn.Module:
    """Resize the input embeddings to ``vocab_size`` when it differs (the checkpoint's resized vocabulary)."""
    current = backbone.get_input_embeddings().num_embeddings
    if vocab_size is not None and vocab_size != current:
        with quiet_transformers():
            backbone.resize_token_embeddings(vocab_size)
    return backbone
