"""The four GLiClass variants, one file each, registered by architecture name."""

from __future__ import annotations

from skgliclass.modeling.architectures.bi_encoder import BiEncoder
from skgliclass.modeling.architectures.bi_encoder_fused import BiEncoderFused
from skgliclass.modeling.architectures.encoder_decoder import EncoderDecoder
from skgliclass.modeling.architectures.uni_encoder import UniEncoder
from skgliclass.modeling.base import VariantBase

__all__ = ["ARCHITECTURE_CLASSES", "BiEncoder", "BiEncoderFused", "EncoderDecoder", "UniEncoder"]

ARCHITECTURE_CLASSES: dict[str, type[VariantBase]] = {
    "uni-encoder": UniEncoder,
    "bi-encoder": BiEncoder,
    "bi-encoder-fused": BiEncoderFused,
    "encoder-decoder": EncoderDecoder,
}
