"""skgliclass: zero-shot and few-shot text classification with GLiClass, the scikit-learn way."""

from __future__ import annotations

__version__ = "0.1.0"

from skgliclass.config import GLiClassConfig
from skgliclass.modeling.model import GLiClassModel
from skgliclass.persistence import load_pretrained, save_pretrained

__all__ = ["GLiClassConfig", "GLiClassModel", "__version__", "load_pretrained", "save_pretrained"]
