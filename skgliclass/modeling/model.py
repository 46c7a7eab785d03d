"""``GLiClassModel``: the variant behind a ``model.`` prefix, as in reference checkpoints."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from transformers import PreTrainedModel

from skgliclass.config import GLiClassConfig
from skgliclass.modeling.architectures import ARCHITECTURE_CLASSES
from skgliclass.modeling.base import GLiClassOutput, VariantBase
from skgliclass.modeling.layers import LayerReweighting, Projector, identity_init_
from skgliclass.modeling.poolers import AttentionPooler

__all__ = ["BACKBONE_PREFIXES", "GLiClassModel"]

# Attribute names of the pretrained parts; everything else is the head.
BACKBONE_PREFIXES = ("encoder_model.", "label_encoder.", "encoder_decoder_model.")


class GLiClassModel(nn.Module):
    """A GLiClass model: ``self.model`` is one of the variants in :data:`ARCHITECTURE_CLASSES`.

    Parameters
    ----------
    config : GLiClassConfig
    model : VariantBase
        The variant module, built by :meth:`from_config` or a builder.

    Examples
    --------
    >>> from skgliclass import GLiClassConfig, GLiClassModel
    >>> config = GLiClassConfig(architecture="uni-encoder", encoder_config={"model_type": "bert",
    ...     "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64,
    ...     "vocab_size": 100})  # doctest: +SKIP
    >>> model = GLiClassModel.from_config(config)  # a random model: nothing is downloaded  # doctest: +SKIP
    """

    def __init__(self, config: GLiClassConfig, model: VariantBase) -> None:
        super().__init__()
        self.config = config
        self.model = model

    @classmethod
    def from_config(
        cls, config: GLiClassConfig, pretrained: dict[str, nn.Module] | None = None, identity_projectors: bool = False
    ) -> GLiClassModel:
        """A model with a fresh head on ``pretrained`` backbones (by attribute name), or on random ones
        built from their nested configs (nothing downloaded).

        Parameters
        ----------
        config : GLiClassConfig
        pretrained : dict of str to Module or None, default=None
            Backbones by attribute name (``encoder_model``, ``label_encoder``, ``encoder_decoder_model``).
        identity_projectors : bool, default=False
            Start the projectors as exact identities where their widths allow.

        Returns
        -------
        GLiClassModel

        Examples
        --------
        >>> model = GLiClassModel.from_config(config)  # doctest: +SKIP
        """
        variant = ARCHITECTURE_CLASSES[config.architecture].from_config(config, pretrained)  # type: ignore[attr-defined]
        model = cls(config, variant)
        for module in model.modules():
            if isinstance(module, PreTrainedModel):
                module.tie_weights()  # T5 ties its embeddings to `shared`; skipped when weight init is off
        model.init_head_(identity_projectors)
        return model

    def forward(self, **inputs: Any) -> GLiClassOutput:
        """Run the variant on the tensors an input builder made for it.

        Parameters
        ----------
        **inputs
            ``input_ids``, ``attention_mask`` and the variant's extras (see :func:`skgliclass.inference.chunk_inputs`).

        Returns
        -------
        GLiClassOutput
            ``logits`` ``(B, C)``, ``class_mask`` and the vectors that were scored.

        Examples
        --------
        >>> out = model(**inputs)  # doctest: +SKIP
        >>> out.logits.shape  # doctest: +SKIP
        torch.Size([4, 3])
        """
        return self.model(**inputs)

    def head_parameters(self) -> list[tuple[str, nn.Parameter]]:
        """Named parameters outside the pretrained backbones.

        Returns
        -------
        list of (str, Parameter)

        Examples
        --------
        >>> [name for name, _ in model.head_parameters()][:2]  # doctest: +SKIP
        ['text_projector.linear_1.weight', 'text_projector.linear_1.bias']
        """
        return [(n, p) for n, p in self.model.named_parameters() if not n.startswith(BACKBONE_PREFIXES)]

    @torch.no_grad()
    def init_head_(self, identity_projectors: bool = False, only: tuple[str, ...] | None = None) -> None:
        """Initialise the head as the reference does (normal, std ``initializer_range``; zero biases).

        Parameters
        ----------
        identity_projectors : bool, default=False
            Start the projectors as exact identities where their widths allow.
        only : tuple of str or None, default=None
            Initialise only these head modules (e.g. ``("scorer",)``); None: the whole head.

        Examples
        --------
        >>> model.init_head_(only=("scorer",))  # a fresh scorer, everything else kept  # doctest: +SKIP
        """
        std = self.config.initializer_range
        modules = [
            (name, module)
            for name, module in self.model.named_modules()
            if name and not name.startswith(BACKBONE_PREFIXES) and (only is None or name.split(".")[0] in only)
        ]
        for _, module in modules:
            if isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, std=std)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        for _, module in modules:
            if isinstance(module, Projector) and identity_projectors:
                identity_init_(module)
            elif isinstance(module, (LayerReweighting, AttentionPooler)):
                module.reset_parameters_()
        if only is None:
            self.model.logit_scale.fill_(self.config.logit_scale_init_value)
