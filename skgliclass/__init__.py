"""skgliclass: zero-shot and few-shot text classification with GLiClass, the scikit-learn way."""

from __future__ import annotations

__version__ = "0.1.0"

from skgliclass._cache import clear_cache
from skgliclass.config import GLiClassConfig
from skgliclass.estimators import GLiClassifier, GLiClassZeroShot
from skgliclass.modeling.builder import new_model
from skgliclass.modeling.model import GLiClassModel
from skgliclass.persistence import load_pretrained, save_pretrained

# Stable import paths for pickle and skops: the classes live at the package's top level.
GLiClassifier.__module__ = "skgliclass"
GLiClassZeroShot.__module__ = "skgliclass"

#: Types ``skops.io.load(path, trusted=skgliclass.TRUSTED_TYPES)`` must trust: our estimators only.
TRUSTED_TYPES = ["skgliclass.GLiClassZeroShot", "skgliclass.GLiClassifier", "skgliclass.embedding_head.LinearHead"]

__all__ = [
    "TRUSTED_TYPES",
    "GLiClassConfig",
    "GLiClassModel",
    "GLiClassZeroShot",
    "GLiClassifier",
    "__version__",
    "clear_cache",
    "load_pretrained",
    "new_model",
    "save_pretrained",
]
