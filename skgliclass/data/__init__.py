"""Turning texts and labels into model inputs."""

from __future__ import annotations

from skgliclass.data.prompts import EncodedInputs, InputBuilder, format_examples

__all__ = ["EncodedInputs", "InputBuilder", "format_examples"]
