"""Checkpoint folders in the reference format: ``config.json``, ``model.safetensors``, tokenizer files."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoTokenizer, PreTrainedTokenizerBase
from transformers.initialization import no_init_weights

from skgliclass._logging import quiet_transformers
from skgliclass.config import GLiClassConfig
from skgliclass.files import write_atomic
from skgliclass.modeling.model import GLiClassModel

__all__ = [
    "is_gliclass_checkpoint",
    "load_pretrained",
    "resolve_folder",
    "save_pretrained",
    "state_dict_for_saving",
]

WEIGHTS_FILES = ("model.safetensors", "pytorch_model.bin")
# Keys the reference also ignores: old position buffers of some backbones.
_IGNORED_UNEXPECTED = ("position_embeddings", "position_ids")


def resolve_folder(name_or_path: str | os.PathLike[str]) -> Path:
    """A local folder as is; a hub id through the Hugging Face cache (works offline once cached)."""
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return path
    if path.exists():
        raise ValueError(f"{str(name_or_path)!r} is a file; give the checkpoint's folder.")
    if str(name_or_path).startswith(("/", ".", "~")) or path.is_absolute() or str(name_or_path).count("/") > 1:
        raise ValueError(f"model={str(name_or_path)!r}: no such folder (and not a hub id such as 'owner/name').")
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(str(name_or_path)))
    except Exception as error:
        raise ValueError(
            f"model={str(name_or_path)!r} is neither a local folder nor a hub id that can be fetched or found "
            f"in the local cache ({type(error).__name__}: {error})."
        ) from error


def is_gliclass_checkpoint(folder: str | os.PathLike[str]) -> bool:
    """Whether ``folder/config.json`` describes a GLiClass model (rather than a plain encoder)."""
    config = Path(folder) / "config.json"
    if not config.is_file():
        return False
    with open(config, encoding="utf-8") as handle:
        return str(json.load(handle).get("model_type", "")).lower() == "gliclass"


def _read_weights(folder: Path) -> dict[str, torch.Tensor]:
    for name in WEIGHTS_FILES:
        path = folder / name
        if path.is_file():
            try:
                if name.endswith(".safetensors"):
                    return load_file(path)
                return torch.load(path, map_location="cpu", weights_only=True)
            except Exception as error:  # safetensors, pickle and zip each raise their own kind
                raise ValueError(
                    f"{path} is truncated or corrupted and cannot be read ({type(error).__name__}: {error}); "
                    "copy or save the checkpoint again."
                ) from error
    raise ValueError(f"{folder} holds no weights: expected one of {', '.join(WEIGHTS_FILES)}.")


def load_pretrained(name_or_path: str | os.PathLike[str]) -> tuple[GLiClassModel, PreTrainedTokenizerBase]:
    """Load a GLiClass checkpoint (reference format) with its own tokenizer, in eval mode on the CPU.

    Parameters
    ----------
    name_or_path : str or path-like
        A checkpoint folder, or a hub id found in the local Hugging Face cache (or online).

    Returns
    -------
    model : GLiClassModel
    tokenizer : PreTrainedTokenizerBase
        The tokenizer saved with the checkpoint, marker tokens included.

    Raises
    ------
    ValueError
        When the folder is not a GLiClass checkpoint, or its weights do not match its config
        (the message names the missing and unexpected keys).

    Examples
    --------
    >>> from skgliclass import load_pretrained
    >>> model, tokenizer = load_pretrained("path/to/gliclass-checkpoint")  # doctest: +SKIP
    >>> model.config.architecture  # doctest: +SKIP
    'uni-encoder'
    """
    folder = resolve_folder(name_or_path)
    if not is_gliclass_checkpoint(folder):
        raise ValueError(f"{folder} is not a GLiClass checkpoint (its config.json has no model_type 'GLiClass').")
    config = GLiClassConfig.from_json_file(folder / "config.json")
    with quiet_transformers(), no_init_weights():  # every weight is overwritten by the checkpoint below
        model = GLiClassModel.from_config(config)
        tokenizer = AutoTokenizer.from_pretrained(folder)
    load_state(model, _read_weights(folder), source=str(folder))
    return model.eval(), tokenizer


def load_state(model: GLiClassModel, state: dict[str, torch.Tensor], source: str = "checkpoint") -> None:
    """Load weights strictly, tolerating only what the reference tolerates; name every mismatch."""
    expected = model.state_dict()
    tied = _tied_names(model)
    missing = [k for k in expected if k not in state and k not in tied and not k.endswith("logit_scale")]
    unexpected = [k for k in state if k not in expected and not any(s in k for s in _IGNORED_UNEXPECTED)]
    reshaped = [
        f"{k} {tuple(state[k].shape)} vs {tuple(expected[k].shape)}"
        for k in state
        if k in expected and state[k].shape != expected[k].shape
    ]
    if missing or unexpected or reshaped:
        raise ValueError(
            f"the weights in {source} do not match its config.json: "
            f"missing keys {_few(missing)}, unexpected keys {_few(unexpected)}, "
            f"shape mismatches (checkpoint vs config) {_few(reshaped)}."
        )
    model.load_state_dict({k: v for k, v in state.items() if k in expected}, strict=False)


def _few(names: list[str], limit: int = 8) -> str:
    return str(names[:limit])[:-1] + (f", ... {len(names) - limit} more]" if len(names) > limit else "]")


def _tied_names(model: torch.nn.Module) -> set[str]:
    """Names of parameters that share storage with an earlier one (e.g. T5 embeddings tied to ``shared``)."""
    seen: dict[int, str] = {}
    tied = set()
    for name, tensor in model.state_dict(keep_vars=True).items():
        key = tensor.data_ptr()
        if key in seen and tensor.numel() > 0:
            tied.add(name)
        else:
            seen[key] = name
    return tied


def state_dict_for_saving(model: GLiClassModel) -> dict[str, torch.Tensor]:
    """CPU, contiguous tensors; tied duplicates dropped (the reference re-ties them on load)."""
    tied = _tied_names(model)
    return {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items() if k not in tied}


def save_pretrained(
    model: GLiClassModel, tokenizer: PreTrainedTokenizerBase, directory: str | os.PathLike[str]
) -> Path:
    """Write a checkpoint folder that both skgliclass and the reference ``gliclass`` load.

    The config holds no machine path. Features the reference lacks (the attention pooler) are saved
    too, but such a checkpoint loads only in skgliclass.

    Parameters
    ----------
    model : GLiClassModel
    tokenizer : PreTrainedTokenizerBase
    directory : str or path-like
        Created if missing; ``config.json``, ``model.safetensors`` and the tokenizer files go there.

    Returns
    -------
    Path
        The folder.

    Examples
    --------
    >>> from skgliclass import new_model, save_pretrained
    >>> model, tokenizer = new_model("bert-base-uncased", architecture="uni-encoder")  # doctest: +SKIP
    >>> save_pretrained(model, tokenizer, "my-checkpoint")  # doctest: +SKIP
    PosixPath('my-checkpoint')
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    state = state_dict_for_saving(model)
    # Each file is written under a temporary name and renamed: an interrupted save leaves no torn file.
    with tempfile.TemporaryDirectory(dir=folder, prefix=".tokenizer-") as tmp:
        tokenizer.save_pretrained(tmp)
        for path in Path(tmp).iterdir():
            if path.is_file():
                os.replace(path, folder / path.name)
    write_atomic(folder / "model.safetensors", lambda p: save_file(state, str(p), metadata={"format": "pt"}))
    write_atomic(folder / "config.json", lambda p: p.write_text(model.config.to_json_string(), encoding="utf-8"))
    return folder
