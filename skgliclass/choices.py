"""The names every layer shares: input markers, the architectures, poolers and scorers, each parameter's
choices, and the head a plain encoder gets. Torch-free, so the command line's ``--help`` stays light."""

from __future__ import annotations

__all__ = [
    "ARCHITECTURES",
    "BAD_BATCH",
    "CALIBRATIONS",
    "COSINE_HEAD",
    "CREDIT",
    "EXAMPLE",
    "LABEL",
    "LONG_TEXT",
    "MARKERS",
    "METHODS",
    "POOLER_NAMES",
    "PRECISIONS",
    "SAMPLING",
    "SCORER_NAMES",
    "SEP",
    "TRAIN_PRECISIONS",
    "VALUE_MODELS",
]

# The markers GLiClass inputs are written with (special tokens of every checkpoint).
LABEL, SEP, EXAMPLE = "<<LABEL>>", "<<SEP>>", "<<EXAMPLE>>"
MARKERS = (LABEL, SEP, EXAMPLE)

# The model: the registries in skgliclass.modeling hold one entry per name.
ARCHITECTURES = ("uni-encoder", "bi-encoder", "bi-encoder-fused", "encoder-decoder")
POOLER_NAMES = ("first", "last", "mean", "max", "sum", "rms", "abs-max", "abs-mean", "attention", "pass")
SCORER_NAMES = ("dot", "weighted-dot", "mlp", "hopfield", "cross-attn")

# A plain encoder (the embedded MiniLM by default) becomes a bi-encoder scoring cosine similarity;
# 20 (temperature 0.05) is the usual scale for sentence embeddings' cosines in [-1, 1].
COSINE_HEAD = {
    "architecture": "bi-encoder",
    "pooler": "mean",
    "scorer": "dot",
    "normalize_features": True,
    "logit_scale_init_value": 20.0,
}

# Estimator parameters.
METHODS = ("auto", "focal", "softmax", "focal+softmax", "ppo")
TRAIN_PRECISIONS = ("auto", "fp32", "bf16")
PRECISIONS = ("auto", "fp32", "bf16", "fp16", "int8")
LONG_TEXT = ("truncate", "chunk")
BAD_BATCH = ("raise", "skip")
SAMPLING = ("stochastic", "deterministic")
CREDIT = ("label", "text")
VALUE_MODELS = ("head", "encoder")
CALIBRATIONS = ("temperature", "label-bias", "per-label")  # the maps `calibration` may name, besides "auto" and None
