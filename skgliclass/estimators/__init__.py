"""The scikit-learn estimators."""

from __future__ import annotations

from skgliclass.estimators.classifier import GLiClassifier
from skgliclass.estimators.zero_shot import GLiClassZeroShot

# Stable import paths for pickle and skops: the classes are reached at the package's top level.
GLiClassifier.__module__ = "skgliclass"
GLiClassZeroShot.__module__ = "skgliclass"

__all__ = ["GLiClassZeroShot", "GLiClassifier"]
