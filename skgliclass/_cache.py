"""Process-level cache of loaded models, so ``clone``/``GridSearchCV`` never re-read the disk."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Hashable

from transformers import PreTrainedTokenizerBase

from skgliclass.modeling.model import GLiClassModel

__all__ = ["cached_model", "clear_cache"]

_CACHE: dict[Hashable, tuple[GLiClassModel, PreTrainedTokenizerBase]] = {}
_LOCK = threading.Lock()


def cached_model(
    key: Hashable, load: Callable[[], tuple[GLiClassModel, PreTrainedTokenizerBase]]
) -> tuple[GLiClassModel, PreTrainedTokenizerBase]:
    """A private copy of the (CPU) model and tokenizer stored under ``key``, loading them on first use.

    The cached objects are never handed out, so fitting or moving a copy never changes the cache.
    """
    with _LOCK:
        if key not in _CACHE:
            model, tokenizer = load()
            _CACHE[key] = (model.cpu().eval(), tokenizer)
        model, tokenizer = _CACHE[key]
        return copy.deepcopy(model), copy.deepcopy(tokenizer)


def clear_cache() -> None:
    """Forget every cached model (frees their memory)."""
    with _LOCK:
        _CACHE.clear()
