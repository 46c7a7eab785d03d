"""Export a fitted estimator to a folder that :class:`~skgliclass.onnx.ONNXClassifier` runs without torch.

The graph is made by ``torch.onnx.export`` (the TorchScript exporter, else the dynamo one) with dynamic batch,
length and label dimensions; what lies around the graph (classes, label texts or the bi-encoders' label vectors, prompt,
calibration, thresholds, the embedding head) goes in a JSON manifest and an ``.npz`` of arrays.
"""

from __future__ import annotations

import copy
import json
import logging
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from transformers import PreTrainedModel

from skgliclass.batching import label_vectors
from skgliclass.data.batches import chunk_arrays
from skgliclass.embedding_head import sentence_vectors
from skgliclass.onnx.runtime import ARRAYS_FILE, FORMAT, FROZEN_FILE, MANIFEST_FILE, MODEL_FILE
from skgliclass.version import __version__

__all__ = ["export"]

TRACE_TEXTS = ["A first text to trace the graph with.", "And a second, longer one, so that no size is one."]


class _WithVectors(nn.Module):
    """Bi-encoders: texts scored against label vectors computed at export."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, label_vectors: torch.Tensor):
        return self.model(input_ids=input_ids, attention_mask=attention_mask, label_vectors=label_vectors).logits


class _WithSlots(nn.Module):
    """Uni-encoder: the labels are in the ids; ``label_slots``' length says how many this pass scores."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, label_slots: torch.Tensor):
        return self.model(input_ids=input_ids, attention_mask=attention_mask, num_labels=label_slots.shape[0]).logits


class _WithDecoder(nn.Module):
    """Encoder-decoder: the label prompt goes to the decoder."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        decoder_input_ids: torch.Tensor,
        decoder_attention_mask: torch.Tensor,
        label_slots: torch.Tensor,
    ):
        return self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            decoder_input_ids=decoder_input_ids,
            decoder_attention_mask=decoder_attention_mask,
            num_labels=label_slots.shape[0],
        ).logits


class _Sentence(nn.Module):
    """The embedding head's frozen encoder: mean-pooled, normalised sentence vectors."""

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        return sentence_vectors(
            self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state, attention_mask
        )


def _to_onnx(
    module: nn.Module,
    inputs: dict[str, torch.Tensor],
    dims: dict[str, dict[int, str]],
    path: Path,
    output: str,
    exporter: str = "auto",
) -> str:
    """``torch.onnx.export`` with named dynamic dimensions, by ``exporter`` ("auto": the TorchScript exporter,
    whose graphs ran 1.3-1.5x faster in onnxruntime here, else the dynamo one); returns the one that did it."""
    order = {"auto": ("torchscript", "dynamo"), "torchscript": ("torchscript",), "dynamo": ("dynamo",)}[exporter]
    errors = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporters' notices on deprecated internals are not the user's
        logging.getLogger("torch.onnx").setLevel(logging.ERROR)
        for name in order:
            try:
                (_torchscript if name == "torchscript" else _dynamo)(module.eval(), inputs, dims, path, output)
                return name
            except Exception as error:  # a graph one exporter cannot take may suit the next
                errors.append(f"{name}: {type(error).__name__}: {str(error)[:300]}")
    raise ValueError("this model does not export to ONNX here; " + " | ".join(errors))


def _dynamo(module: nn.Module, inputs: dict, dims: dict, path: Path, output: str) -> None:
    shapes = {name: {axis: torch.export.Dim.DYNAMIC for axis in axes} for name, axes in dims.items()}
    program = torch.onnx.export(
        module, (), kwargs=inputs, input_names=list(inputs), output_names=[output], dynamo=True,
        dynamic_shapes=shapes, external_data=False, verbose=False,
    )  # fmt: skip
    program.save(str(path))


def _torchscript(module: nn.Module, inputs: dict, dims: dict, path: Path, output: str) -> None:
    for part in module.modules():  # plain attention traces to a graph onnxruntime runs faster than SDPA's
        if isinstance(part, PreTrainedModel) and part.config._attn_implementation == "sdpa":
            part.set_attn_implementation("eager")
    axes = {**dims, output: {0: "batch", 1: "labels"} if output == "logits" else {0: "batch"}}
    torch.onnx.export(
        module, (), str(path), kwargs=inputs, input_names=list(inputs), output_names=[output], dynamo=False,
        dynamic_axes=axes, opset_version=17, verbose=False,
    )  # fmt: skip


def _trace_inputs(estimator: Any, vectors: np.ndarray | None) -> tuple[dict[str, torch.Tensor], dict[str, dict]]:
    """Real inputs for two texts (every dimension above one, so none is fixed) and their dynamic axes."""
    builder, labels = estimator._builder, estimator._label_texts()
    labels = labels if len(labels) > 1 else labels * 2
    encoded = builder.build(TRACE_TEXTS, labels, prompt=estimator.prompt, examples=estimator._in_context_examples())
    chunk = encoded.chunks[0]
    inputs = {k: torch.from_numpy(v) for k, v in chunk_arrays(chunk, range(len(chunk.rows)), builder.pad_id).items()}
    dims: dict[str, dict] = {"input_ids": {0: "batch", 1: "length"}, "attention_mask": {0: "batch", 1: "length"}}
    if vectors is not None:
        rows = vectors if len(vectors) > 1 else np.repeat(vectors, 2, axis=0)
        inputs["label_vectors"], dims["label_vectors"] = torch.from_numpy(rows).float(), {0: "labels"}
        return inputs, dims
    if chunk.decoder_ids is not None:
        dims["decoder_input_ids"] = dims["decoder_attention_mask"] = {0: "batch", 1: "decoder_length"}
    inputs["label_slots"], dims["label_slots"] = torch.zeros(max(chunk.stop - chunk.start, 2)), {0: "labels"}
    return inputs, dims


def _label_vectors(estimator: Any, model: nn.Module) -> np.ndarray:
    """The bi-encoders' label vectors, as prediction uses them: adapted at fit, or encoded now."""
    fixed = getattr(estimator, "label_vectors_", None)
    if fixed is not None:
        return np.asarray(fixed, dtype=np.float32)
    builder = estimator._builder
    encoded = builder.build(TRACE_TEXTS[:1], estimator._label_texts())
    with torch.inference_mode():
        vectors = label_vectors(model, encoded.label_ids, builder.pad_id, torch.device("cpu"), estimator.batch_size)
    return vectors.float().numpy()


def _state(estimator: Any, vectors: np.ndarray | None) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The manifest and the arrays: everything prediction needs besides the graphs and the tokenizer."""
    tokenizer = estimator.tokenizer_
    added = getattr(tokenizer, "added_tokens_decoder", {}).values()
    specials = sorted(set(tokenizer.all_special_tokens) | {t.content for t in added if t.special})
    classes = estimator.classes_.tolist()
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "skgliclass_version": __version__,
        "estimator": type(estimator).__name__,
        "architecture": estimator.config_.architecture,
        "classes": [c if isinstance(c, (str, int, float, bool)) else str(c) for c in classes],
        "label_texts": estimator._label_texts(),
        "prompt": estimator.prompt,
        "examples": estimator._in_context_examples(),
        "max_length": estimator.max_length_,
        "long_text": estimator.long_text,
        "multi_label": bool(estimator.multilabel_),
        "batch_size": int(estimator.batch_size),
        "pad_token_id": estimator._builder.pad_id,
        "special_tokens": specials,
        "embedding_head": None,
        "optimized": False,
        "quantized": False,
    }
    arrays: dict[str, np.ndarray] = {}
    if vectors is not None:
        arrays["label_vectors"] = vectors
    if estimator.multilabel_:
        arrays["thresholds"] = np.asarray(estimator._thresholds(), dtype=np.float64)
    offsets = getattr(estimator, "label_offsets_", None)
    if offsets is not None:
        arrays["label_offsets"] = np.asarray(offsets, dtype=np.float64)
    calibration = getattr(estimator, "calibration_", None)
    if calibration is not None:
        arrays["calibration_scale"] = np.asarray(calibration["scale"], dtype=np.float64)
        arrays["calibration_bias"] = np.asarray(calibration["bias"], dtype=np.float64)
    head = getattr(estimator, "linear_head_", None)
    if head is not None:
        arrays["head_coef"], arrays["head_intercept"] = head.coef, head.intercept
        weights = [float(w) for w in estimator.head_weights_]
        manifest["embedding_head"] = {
            "weights": weights,
            "max_length": estimator.max_length_,
            "dim": head.coef.shape[1],
        }
    return manifest, arrays


def _quantize(path: Path) -> None:
    """int8 dynamic quantisation of the weights of matrix products, by onnxruntime, in place.

    One scale per output channel: on BBC with the default model, the largest probability change was 0.06
    (0.30 with one scale per matrix), the top label unchanged in 59 of 60 articles (53 of 60).
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out = path.with_suffix(".int8.onnx")
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # its advice to pre-process: its shape inference fails on these graphs
    try:
        quantize_dynamic(path, out, weight_type=QuantType.QInt8, per_channel=True)
    finally:
        root.setLevel(level)
    out.replace(path)


def _optimize(path: Path) -> None:
    """onnxruntime's graph optimisations (constant folding, fusions), saved so every session starts from them."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    out = path.with_suffix(".opt.onnx")
    options.optimized_model_filepath = str(out)
    ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    out.replace(path)


def export(
    estimator: Any,
    folder: str | Path,
    *,
    optimize: bool = False,
    quantize: bool = False,
    exporter: str = "auto",
    overwrite: bool = False,
) -> Path:
    """Write a fitted estimator as an ONNX folder that :class:`~skgliclass.onnx.ONNXClassifier` predicts with.

    Every architecture exports: the bi-encoders with their label vectors computed once (or as adapted at
    fit), the uni-encoder and the encoder-decoder with the labels in their inputs (label sets too long
    for one pass are split as in the estimators). Prediction needs onnxruntime, tokenizers and numpy only.

    Parameters
    ----------
    estimator : GLiClassifier or GLiClassZeroShot
        A fitted estimator.
    folder : str or path-like
        Where to write ``model.onnx``, the tokenizer, ``config.json``, the manifest and a model card.
    optimize : bool, default=False
        Save the graph after onnxruntime's extended optimisations (fusions, constant folding).
    quantize : bool, default=False
        Quantise the weights of the matrix products to int8 (onnxruntime's dynamic quantisation):
        smaller and, on most CPUs, faster, at a small cost in accuracy (see the benchmarks).
    exporter : {"auto", "torchscript", "dynamo"}, default="auto"
        Which of torch's exporters makes the graph. "auto": the TorchScript exporter (with plain attention:
        its graphs ran 1.3-1.5x faster in onnxruntime than the dynamo exporter's here), and the dynamo
        exporter where it fails (or is gone from a later torch).
    overwrite : bool, default=False
        Replace a folder that is not empty.

    Returns
    -------
    Path
        The folder.

    Examples
    --------
    >>> from skgliclass import GLiClassZeroShot
    >>> from skgliclass.onnx import ONNXClassifier, export
    >>> clf = GLiClassZeroShot(labels=["sport", "politics"]).fit()
    >>> folder = export(clf, "sport-or-politics")  # doctest: +SKIP
    >>> ONNXClassifier(folder).predict(["The striker scored twice."])  # doctest: +SKIP
    array(['sport'], dtype=object)
    """
    from sklearn.utils.validation import check_is_fitted

    from skgliclass.card import write_card

    check_is_fitted(estimator)
    if exporter not in ("auto", "torchscript", "dynamo"):
        raise ValueError(f"exporter must be 'auto', 'torchscript' or 'dynamo', got {exporter!r}.")
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or (any(folder.iterdir()) and not overwrite)):
        raise FileExistsError(f"{folder} exists and is not empty; choose another folder or pass overwrite=True.")
    if not getattr(estimator.tokenizer_, "is_fast", False):
        raise ValueError("export needs a fast tokenizer (a tokenizer.json): this model's tokenizer is a slow one.")
    model = copy.deepcopy(estimator.model_).float().cpu().eval()  # the estimator's own model stays as it is
    arch = model.config.architecture
    vectors = _label_vectors(estimator, model) if arch in ("bi-encoder", "bi-encoder-fused") else None
    wrapper = (
        _WithVectors(model)
        if vectors is not None
        else _WithDecoder(model)
        if arch == "encoder-decoder"
        else _WithSlots(model)
    )
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}-"))
    try:
        used = _to_onnx(wrapper, *_trace_inputs(estimator, vectors), work / MODEL_FILE, "logits", exporter)
        manifest, arrays = _state(estimator, vectors)
        if manifest["embedding_head"]:
            frozen = _Sentence(copy.deepcopy(estimator._frozen_encoder).float().cpu())
            inputs, dims = _trace_inputs(estimator, None)
            inputs = {k: inputs[k] for k in ("input_ids", "attention_mask")}
            _to_onnx(frozen, inputs, {k: dims[k] for k in inputs}, work / FROZEN_FILE, "vectors", exporter)
        for path in [work / MODEL_FILE] + ([work / FROZEN_FILE] if manifest["embedding_head"] else []):
            if quantize:  # first: the quantiser does not know the fused operators optimisation makes
                _quantize(path)
            if optimize:
                _optimize(path)
        manifest["optimized"], manifest["quantized"], manifest["exporter"] = optimize, quantize, used
        estimator.tokenizer_.save_pretrained(work)
        (work / "config.json").write_text(model.config.to_json_string(), encoding="utf-8")
        np.savez(work / ARRAYS_FILE, **arrays)
        (work / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
        write_card(work, estimator, manifest)
        if folder.exists():
            shutil.rmtree(folder)
        work.replace(folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return folder
