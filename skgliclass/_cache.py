"""Process-level cache of loaded models and tokenizers, so ``clone``/``GridSearchCV`` never re-read the disk."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

__all__ = ["cached", "clear_cache"]

T = TypeVar("T")
_CACHE: dict[Hashable, Any] = {}
_LOCK = threading.Lock()


def cached(key: Hashable, load: Callable[[], T]) -> T:
    """A private deep copy of what ``load()`` returned the first time ``key`` was asked for.

    The cached object itself is never handed out, so fitting or moving a copy never changes the cache.
    Models are cached on the CPU in eval mode.
    """
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = load()
        return copy.deepcopy(_CACHE[key])


def clear_cache() -> None:
    """Forget every cached model and tokenizer (frees their memory).

    Loaded backbones, tokenizers and checkpoints stay in a process-level cache so that
    ``clone``, ``GridSearchCV`` and repeated fits never read the disk twice.

    Examples
    --------
    >>> import skgliclass
    >>> skgliclass.clear_cache()
    """
    with _LOCK:
        _CACHE.clear()
