"""skgliclass: zero-shot and few-shot text classification with GLiClass, the scikit-learn way."""

from __future__ import annotations

__version__ = "0.1.0"

from skgliclass._cache import clear_cache
from skgliclass.config import GLiClassConfig
from skgliclass.estimators import GLiClassZeroShot
from skgliclass.modeling.builder import new_model
from skgliclass.modeling.model import GLiClassModel
from skgliclass.persistence import load_pretrained, save_pretrained

__all__ = [
    "GLiClassConfig",
    "GLiClassModel",
    "GLiClassZeroShot",
    "__version__",
    "clear_cache",
    "load_pretrained",
    "new_model",
    "save_pretrained",
]
