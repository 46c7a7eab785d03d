"""Batched inference: length-sorted batches, dynamic padding, original order restored."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import numpy as np
import torch

from skgliclass.batching import chunk_inputs, label_vectors
from skgliclass.data.batches import batch_count, score_chunks
from skgliclass.data.prompts import Chunk, EncodedInputs, InputBuilder
from skgliclass.modeling.model import GLiClassModel
from skgliclass.progress import progress_bar

__all__ = [
    "autocast_context",
    "cpu_supports_bf16",
    "predict_logits",
    "resolve_device",
]


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """``"auto"`` (or None) picks cuda, then mps, then cpu; an explicit device is checked, never replaced."""
    if device is None or device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device={device!r} is not a device; use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'.") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was asked for, but CUDA is not available here. Use 'cpu' or 'auto'.")
    return resolved


def cpu_supports_bf16() -> bool:
    """Whether this CPU has native bf16 arithmetic (AVX512-BF16 or AMX), where bf16 autocast pays off."""
    check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    return bool(check is not None and check())


def autocast_context(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """The autocast of ``precision`` on ``device``; a no-op for fp32, int8 and where it would not help.

    CUDA: ``"auto"`` is bf16 where supported, else fp16. CPU: bf16 (``"bf16"``, or ``"auto"`` on
    CPUs with native bf16); ``"fp16"`` stays fp32 there, as CPUs have no fast fp16 matrix products.
    """
    if device.type == "cuda" and precision in ("auto", "bf16", "fp16"):
        if precision == "auto":
            precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        return torch.autocast("cuda", dtype={"bf16": torch.bfloat16, "fp16": torch.float16}[precision])
    if device.type == "cpu" and (precision == "bf16" or (precision == "auto" and cpu_supports_bf16())):
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


@torch.inference_mode()
def predict_logits(
    model: GLiClassModel,
    builder: InputBuilder,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    prompt: str | None = None,
    examples: Sequence[dict] | None = None,
    batch_size: int = 16,
    device: torch.device | None = None,
    precision: str = "fp32",
    label_cache: dict | None = None,
    fixed_vectors: np.ndarray | None = None,
    progress: bool = False,
    windows: bool = False,
) -> tuple[np.ndarray, EncodedInputs]:
    """Logits ``(n_texts, n_labels)`` (float32, label order kept) and the encoded inputs (truncation counts).

    ``label_cache`` (a dict owned by the caller) keeps bi-encoder label vectors between calls;
    ``fixed_vectors`` (bi-encoders, ``(n_labels, D)``) are used instead of encoding the labels.
    ``windows``: texts too long for their room are read in consecutive windows and each label
    keeps the largest logit over a text's windows (else they are cut at the end).
    """
    device = device or next(model.parameters()).device
    model.eval()
    encoded = builder.build(texts, labels, prompt=prompt, examples=examples, windows=windows)
    pad_id = builder.pad_id
    bar = progress_bar(batch_count(encoded, batch_size), progress, "predict")
    with autocast_context(device, precision):
        vectors = None
        if encoded.label_ids is not None and fixed_vectors is not None:
            vectors = torch.as_tensor(fixed_vectors, dtype=torch.float32, device=device)
        elif encoded.label_ids is not None:
            key = (tuple(labels), precision)
            if label_cache is not None and key in label_cache:
                vectors = label_cache[key].to(device)
            else:
                vectors = label_vectors(model, encoded.label_ids, pad_id, device, batch_size).float()
                if label_cache is not None:
                    label_cache[key] = vectors

        def run(chunk: Chunk, index: np.ndarray) -> np.ndarray:
            return model(**chunk_inputs(chunk, index, pad_id, device, vectors)).logits.float().cpu().numpy()

        out = score_chunks(encoded, len(texts), len(labels), batch_size, run, lambda: bar.update(1))
    bar.close()
    return out, encoded
