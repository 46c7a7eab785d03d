"""Warnings the package raises, as classes a caller can filter on and read counts from (torch-free)."""

from __future__ import annotations

__all__ = ["TruncationWarning"]


class TruncationWarning(UserWarning):
    """Some texts were longer than ``max_length`` tokens and were cut at the end.

    Parameters
    ----------
    message : str
        What happened and how to read long texts whole (``long_text="chunk"``).
    count : int, default=0
        Texts that were cut.
    total : int, default=0
        Texts in the call that warned.

    Attributes
    ----------
    count : int
        Texts that were cut.
    total : int
        Texts in the call that warned.

    Examples
    --------
    >>> import warnings
    >>> from skgliclass import GLiClassZeroShot, TruncationWarning
    >>> clf = GLiClassZeroShot(labels=["sport", "politics"], max_length=16).fit()
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always", TruncationWarning)
    ...     _ = clf.predict([" ".join(["the striker scored twice in the final"] * 4), "a vote"])
    >>> [(w.message.count, w.message.total) for w in caught if w.category is TruncationWarning]
    [(1, 2)]
    """

    def __init__(self, message: str, count: int = 0, total: int = 0) -> None:
        super().__init__(message)
        self.count = count
        self.total = total

    @classmethod
    def of_cut(cls, count: int, total: int, max_length: int, remedy: str) -> TruncationWarning:
        """The warning of a prediction call that cut ``count`` of its ``total`` texts at ``max_length`` tokens;
        ``remedy`` says how to read them whole."""
        message = (
            f"{count} of {total} texts were longer than max_length={max_length} tokens (with the labels) and were "
            f"cut at the end; {remedy}."
        )
        return cls(message, count, total)
