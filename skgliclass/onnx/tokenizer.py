"""The tokenizer of an exported model, on the ``tokenizers`` library alone (no transformers)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tokenizers import Tokenizer

__all__ = ["RuntimeTokenizer"]


class RuntimeTokenizer:
    """What :class:`skgliclass.data.prompts.InputBuilder` calls on a tokenizer, over a ``tokenizer.json``.

    Parameters
    ----------
    path : path-like
        The ``tokenizer.json`` a fast tokenizer saved.
    pad_token_id : int or None
        The id that pads rows.
    special_tokens : sequence of str
        The special tokens' strings (kept whole in texts unless ``split_special_tokens``).
    """

    def __init__(self, path: str | Path, pad_token_id: int | None, special_tokens: Sequence[str]) -> None:
        self._tokenizer = Tokenizer.from_file(str(path))
        self._tokenizer.no_truncation()  # rows are cut by the input builder, as in the estimators
        self._tokenizer.no_padding()
        self.pad_token_id = pad_token_id
        self.all_special_tokens = list(special_tokens)
        self.added_tokens_decoder: dict[int, Any] = {}  # its special entries are in all_special_tokens already
        self._lock = threading.Lock()  # encode_special_tokens is one switch for the whole tokenizer

    def __call__(
        self,
        text: str | Sequence[str],
        add_special_tokens: bool = True,
        split_special_tokens: bool = False,
        return_offsets_mapping: bool = False,
    ) -> dict[str, Any]:
        """Ids (and character offsets) of one string or a list, as a transformers fast tokenizer returns them."""
        single = isinstance(text, str)
        batch = [text] if single else list(text)
        with self._lock:
            self._tokenizer.encode_special_tokens = bool(split_special_tokens)
            try:
                encodings = self._tokenizer.encode_batch(batch, add_special_tokens=add_special_tokens)
            finally:
                self._tokenizer.encode_special_tokens = False
        out: dict[str, Any] = {"input_ids": [e.ids for e in encodings]}
        if return_offsets_mapping:
            out["offset_mapping"] = [list(e.offsets) for e in encodings]
        return {key: value[0] for key, value in out.items()} if single else out
