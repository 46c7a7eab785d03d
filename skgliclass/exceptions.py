"""Warnings the package raises, as classes a caller can filter on and read counts from (torch-free)."""

from __future__ import annotations

__all__ = ["TruncationWarning"]


class TruncationWarning(UserWarning):
    """Some texts were longer than ``max_length`` tokens and were cut at the end.

    Attributes
    ----------
    count : int
        Texts that were cut.
    total : int
        Texts in the call that warned.
    """

    def __init__(self, message: str, count: int = 0, total: int = 0) -> None:
        super().__init__(message)
        self.count = count
        self.total = total
