"""skgliclass: zero-shot and few-shot text classification with GLiClass, the scikit-learn way.

The torch parts load on first use (``skgliclass.GLiClassifier``, ...), so that importing the package,
its command line's ``--help`` and its torch-free modules stay light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from skgliclass.exceptions import TruncationWarning
from skgliclass.version import __version__

if TYPE_CHECKING:
    from skgliclass._cache import clear_cache
    from skgliclass.config import GLiClassConfig
    from skgliclass.estimators import GLiClassifier, GLiClassZeroShot
    from skgliclass.modeling.builder import new_model
    from skgliclass.modeling.model import GLiClassModel
    from skgliclass.persistence import load_pretrained, save_pretrained

# Each public name and the module that defines it, imported when the name is first read.
_LAZY = {
    "GLiClassConfig": "skgliclass.config",
    "GLiClassModel": "skgliclass.modeling.model",
    "GLiClassZeroShot": "skgliclass.estimators",
    "GLiClassifier": "skgliclass.estimators",
    "clear_cache": "skgliclass._cache",
    "load_pretrained": "skgliclass.persistence",
    "new_model": "skgliclass.modeling.builder",
    "save_pretrained": "skgliclass.persistence",
}

#: Types ``skops.io.load(path, trusted=skgliclass.TRUSTED_TYPES)`` must trust: our estimators only.
TRUSTED_TYPES = ["skgliclass.GLiClassZeroShot", "skgliclass.GLiClassifier", "skgliclass.embedding_head.LinearHead"]

__all__ = [
    "TRUSTED_TYPES",
    "GLiClassConfig",
    "GLiClassModel",
    "GLiClassZeroShot",
    "GLiClassifier",
    "TruncationWarning",
    "__version__",
    "clear_cache",
    "load_pretrained",
    "new_model",
    "save_pretrained",
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'skgliclass' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value  # later reads skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
