"""LoRA adapters (peft) on the backbones; the head trains fully. Adapters are merged after fit."""

from __future__ import annotations

from torch import nn

from skgliclass.modeling.model import BACKBONE_PREFIXES, GLiClassModel

__all__ = ["DEFAULT_TARGETS", "add_lora", "merge_lora", "target_modules"]

# Linear layers worth adapting, by backbone family (``model_type``).
DEFAULT_TARGETS: dict[str, list[str]] = {
    "bert": ["query", "key", "value", "dense"],
    "roberta": ["query", "key", "value", "dense"],
    "xlm-roberta": ["query", "key", "value", "dense"],
    "electra": ["query", "key", "value", "dense"],
    "deberta-v2": ["query_proj", "key_proj", "value_proj", "dense"],
    "deberta": ["in_proj", "dense"],
    "modernbert": ["Wqkv", "Wo", "Wi"],
    "t5": ["q", "k", "v", "o", "wi", "wo", "wi_0", "wi_1"],
    "mt5": ["q", "k", "v", "o", "wi_0", "wi_1", "wo"],
    "umt5": ["q", "k", "v", "o", "wi_0", "wi_1", "wo"],
}


def target_modules(backbone: nn.Module) -> list[str]:
    """Module names to adapt in ``backbone``: its family's list, else every Linear layer's name."""
    family = getattr(getattr(backbone, "config", None), "model_type", "")
    if family in DEFAULT_TARGETS:
        present = {name.rsplit(".", 1)[-1] for name, m in backbone.named_modules() if isinstance(m, nn.Linear)}
        return [t for t in DEFAULT_TARGETS[family] if t in present]
    return sorted({name.rsplit(".", 1)[-1] for name, m in backbone.named_modules() if isinstance(m, nn.Linear)})


def _backbones(model: GLiClassModel) -> list[str]:
    return [p.rstrip(".") for p in BACKBONE_PREFIXES if hasattr(model.model, p.rstrip("."))]


def add_lora(
    model: GLiClassModel, r: int, alpha: float, dropout: float, targets: list[str] | None = None
) -> GLiClassModel:
    """Wrap every backbone in LoRA adapters (backbone weights frozen); head parameters stay trainable."""
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError as error:
        raise ImportError("lora_r needs the 'peft' package: pip install 'skgliclass[lora]'") from error
    for attribute in _backbones(model):
        backbone = getattr(model.model, attribute)
        config = LoraConfig(
            r=r,
            lora_alpha=alpha,
            lora_dropout=dropout,
            target_modules=targets or target_modules(backbone),
            bias="none",
        )
        setattr(model.model, attribute, get_peft_model(backbone, config))
    for _, param in model.head_parameters():
        param.requires_grad_(True)
    return model


def merge_lora(model: GLiClassModel) -> GLiClassModel:
    """Fold the adapters into the backbone weights, so prediction costs nothing extra."""
    for attribute in _backbones(model):
        backbone = getattr(model.model, attribute)
        if hasattr(backbone, "merge_and_unload"):
            merged = backbone.merge_and_unload()
            merged.requires_grad_(True)
            setattr(model.model, attribute, merged)
    return model
