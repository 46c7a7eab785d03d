"""ONNX: :func:`export` a fitted estimator; :class:`ONNXClassifier` predicts with it on onnxruntime alone.

``import skgliclass.onnx`` loads neither torch nor transformers: the runtime needs onnxruntime,
tokenizers and numpy only (``pip install skgliclass[runtime]``). :func:`export` loads torch when called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from skgliclass.onnx.runtime import ONNXClassifier

if TYPE_CHECKING:
    from skgliclass.onnx.exporter import export

__all__ = ["ONNXClassifier", "export"]


def __getattr__(name: str) -> Any:
    if name == "export":  # the torch side, loaded only by those who export
        from skgliclass.onnx.exporter import export

        return export
    raise AttributeError(f"module 'skgliclass.onnx' has no attribute {name!r}")
