"""Keep ``transformers`` quiet while skgliclass loads models (its bars and notices are not ours to show)."""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator

__all__ = ["quiet_transformers"]


# Shared by every thread: the first to enter silences, the last to leave restores.
_lock = threading.Lock()
_depth = 0
_saved: tuple[int, bool] = (30, True)  # transformers' WARNING level, bars on


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence ``transformers`` logging and progress bars inside the block, then restore them.

    Safe from several threads at once: the settings are saved by the first block to open and
    restored by the last to close, so overlapping blocks never restore a silenced state.
    """
    global _depth, _saved
    if "transformers" not in sys.modules:  # nothing to silence (the torch-free runtime never loads it)
        yield
        return
    from transformers.utils import logging as hf_logging

    with _lock:
        if _depth == 0:
            _saved = (hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled())
            hf_logging.set_verbosity_error()
            hf_logging.disable_progress_bar()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                hf_logging.set_verbosity(_saved[0])
                if _saved[1]:
                    hf_logging.enable_progress_bar()
