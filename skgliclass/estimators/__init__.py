"""The scikit-learn estimators."""

from __future__ import annotations

from skgliclass.estimators.classifier import GLiClassifier
from skgliclass.estimators.zero_shot import GLiClassZeroShot

__all__ = ["GLiClassZeroShot", "GLiClassifier"]
