"""Moving a fitted estimator to another device, as a worker or an actor of a cluster does."""

from __future__ import annotations

from typing import Any

from skgliclass.inference import resolve_device

__all__ = ["on_device"]


def on_device(estimator: Any, device: str | None) -> Any:
    """``estimator`` with its model on ``device`` (``"auto"``: this process's GPU if it has one).

    Moves in place and only when needed, so calling it for every batch costs nothing after the first.
    """
    if device is None:
        return estimator
    target = resolve_device(device)
    if estimator.device_ != target:
        estimator.set_params(device=device)
        estimator._setup_inference(estimator.model_, estimator.tokenizer_, target)
    return estimator
