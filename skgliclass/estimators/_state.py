"""Pickle/joblib/skops state of a fitted estimator: plain data only, weights as safetensors bytes."""

from __future__ import annotations

import json
import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as load_bytes
from safetensors.torch import save as save_bytes
from transformers import AutoTokenizer
from transformers.initialization import no_init_weights

from skgliclass._logging import quiet_transformers
from skgliclass.config import GLiClassConfig
from skgliclass.modeling.model import GLiClassModel
from skgliclass.persistence import load_state, state_dict_for_saving
from skgliclass.version import __version__

__all__ = ["LIVE_ATTRIBUTES", "MODEL_STATE", "dump_model", "restore_model"]

# The key of an estimator's state that holds what dump_model wrote.
MODEL_STATE = "_model_state"
# Attributes rebuilt on load rather than stored.
LIVE_ATTRIBUTES = ("model_", "tokenizer_", "config_", "device_", "_builder", "_label_cache", "_quantized")


def dump_model(model: GLiClassModel, tokenizer: Any, device: torch.device) -> dict[str, Any]:
    """The fitted model as plain data: config JSON, safetensors bytes, tokenizer files, device, versions."""
    import transformers

    with tempfile.TemporaryDirectory() as tmp:
        tokenizer.save_pretrained(tmp)
        files = {p.name: p.read_bytes() for p in Path(tmp).iterdir() if p.is_file()}
    return {
        "config": model.config.to_json_string(),
        "weights": save_bytes(state_dict_for_saving(model)),
        "tokenizer_files": files,
        "device": str(device),
        "versions": {
            "skgliclass": __version__,
            "torch": torch.__version__,
            "transformers": transformers.__version__,
        },
    }


def restore_model(state: dict[str, Any]) -> tuple[GLiClassModel, Any, torch.device]:
    """Rebuild what :func:`dump_model` stored; a CUDA model comes back on the CPU where CUDA is missing."""
    saved = state.get("versions", {}).get("skgliclass")
    if saved and saved != __version__:
        warnings.warn(
            f"this estimator was saved by skgliclass {saved} and is loaded by {__version__}.",
            UserWarning,
            stacklevel=3,
        )
    config = GLiClassConfig.from_reference_dict(json.loads(state["config"]))
    with quiet_transformers(), no_init_weights():
        model = GLiClassModel.from_config(config)
    load_state(model, load_bytes(state["weights"]), source="the pickled estimator")
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in state["tokenizer_files"].items():
            (Path(tmp) / name).write_bytes(data)
        with quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(tmp)
    device = torch.device(state.get("device", "cpu"))
    if device.type == "cuda" and not torch.cuda.is_available():
        warnings.warn("this estimator was fitted on CUDA, which is missing here; it runs on the CPU.", stacklevel=3)
        device = torch.device("cpu")
    elif device.type == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        device = torch.device("cpu")
    return model.eval(), tokenizer, device
