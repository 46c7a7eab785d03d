"""The torch core: variants, poolers, scorers, layers and backbones."""

from __future__ import annotations

from skgliclass.modeling.architectures import ARCHITECTURE_CLASSES
from skgliclass.modeling.base import GLiClassOutput
from skgliclass.modeling.model import GLiClassModel
from skgliclass.modeling.poolers import POOLERS
from skgliclass.modeling.scorers import SCORERS

__all__ = ["ARCHITECTURE_CLASSES", "POOLERS", "SCORERS", "GLiClassModel", "GLiClassOutput"]
