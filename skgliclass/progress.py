"""Progress bars for long work (prediction, adaptation, training); torch-free."""

from __future__ import annotations

from typing import Any

__all__ = ["progress_bar"]


def progress_bar(total: int | None, show: bool, desc: str, unit: str = "batch") -> Any:
    """A tqdm bar, drawn only when ``show`` (``verbose >= 1``); ``total=None`` counts without an end."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, disable=not show, leave=False)
