"""What ``explain`` returns for one text: its words, their attribution to each label, and ways to look at them."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Explanation"]

_POSITIVE, _NEGATIVE = "0, 128, 0", "200, 0, 0"  # green raises a label's probability, red lowers it


@dataclass
class Explanation:
    """Per-word attributions of one text to some labels (what ``explain`` returns, one per text).

    Parameters
    ----------
    text : str
    words : list of str
        The text's whitespace-separated words, as far as the model read them.
    labels : list of str
        The explained labels.
    attributions : ndarray of shape (n_words, n_labels)
        How much each word moved each label's output (see ``output``) from the baseline's.
    scores : ndarray of shape (n_labels,)
        The labels' outputs for the text: the log-odds or the log of their probabilities, or their
        ``decision_function`` scores.
    probabilities : ndarray of shape (n_labels,)
        The labels' probabilities (``predict_proba``).
    delta : ndarray of shape (n_labels,)
        Integrated gradients: the attributions' sum less the score's change from the baseline (0 when exact);
        NaN for methods without that property.
    method : str
    output : {"log-odds", "log-proba", "score"}
        What the attributions add up to.
    truncated : bool
        Whether the model read only the start of the text (``long_text="truncate"``).

    Examples
    --------
    >>> from skgliclass import GLiClassZeroShot
    >>> clf = GLiClassZeroShot(labels=["sport", "politics"]).fit()
    >>> (explanation,) = clf.explain(["The striker scored twice in the final."])
    >>> explanation.labels
    ['sport']
    >>> [word for word, _ in explanation.top("sport", 2)]  # doctest: +SKIP
    ['striker', 'scored']
    """

    text: str
    words: list[str]
    labels: list[str]
    attributions: np.ndarray
    scores: np.ndarray
    probabilities: np.ndarray
    delta: np.ndarray
    method: str
    output: str = "log-proba"
    truncated: bool = False

    def _column(self, label: Any) -> int:
        names = [str(name) for name in self.labels]
        if str(label) not in names:
            raise KeyError(f"{label!r} was not explained; explained labels: {names}.")
        return names.index(str(label))

    def top(self, label: Any = None, k: int = 5, sign: str = "positive") -> list[tuple[str, float]]:
        """The ``k`` words with the largest attribution to ``label``.

        Parameters
        ----------
        label : str or None, default=None
            One of :attr:`labels`; None: the first.
        k : int, default=5
        sign : {"positive", "negative", "absolute"}, default="positive"
            The words that raise the score most, lower it most, or move it most either way.

        Returns
        -------
        list of (str, float)
            Words and their attributions, largest first.

        Examples
        --------
        >>> explanation.top("sport", 2)  # doctest: +SKIP
        [('striker', 0.61), ('scored', 0.42)]
        """
        if sign not in ("positive", "negative", "absolute"):
            raise ValueError(f"sign must be 'positive', 'negative' or 'absolute', got {sign!r}.")
        column = self.attributions[:, 0 if label is None else self._column(label)]
        key = {"positive": -column, "negative": column, "absolute": -np.abs(column)}[sign]
        order = np.argsort(key, kind="stable")[:k]
        return [(self.words[i], float(column[i])) for i in order]

    def to_html(self, label: Any = None) -> str:
        """The text with each word shaded by its attribution (green raises the label's probability, red lowers it),
        one paragraph per label.

        Parameters
        ----------
        label : str or None, default=None
            One label; None: every explained label.

        Returns
        -------
        str

        Examples
        --------
        >>> from pathlib import Path
        >>> Path("explanation.html").write_text(explanation.to_html())  # doctest: +SKIP
        """
        columns = range(len(self.labels)) if label is None else [self._column(label)]
        parts = []
        for j in columns:
            values = self.attributions[:, j]
            peak = float(np.abs(values).max()) if len(values) else 0.0
            spans = []
            for word, value in zip(self.words, values, strict=True):
                alpha = 0.0 if peak == 0 else min(abs(float(value)) / peak, 1.0) * 0.6
                color = _POSITIVE if value >= 0 else _NEGATIVE
                spans.append(
                    f'<span title="{value:+.3f}" style="background: rgba({color}, {alpha:.2f}); '
                    f'padding: 0 1px">{html.escape(word)}</span>'
                )
            head = f"<b>{html.escape(str(self.labels[j]))}</b> (probability {self.probabilities[j]:.2f})"
            cut = " <i>(the text was cut here)</i>" if self.truncated else ""
            parts.append(f"<p>{head}<br>{' '.join(spans)}{cut}</p>")
        return f'<div class="skgliclass-explanation">{"".join(parts)}</div>'

    def _repr_html_(self) -> str:
        return self.to_html()

    def plot(self, label: Any = None, k: int = 10, ax: Any = None) -> Any:
        """A bar chart of the ``k`` words that move ``label``'s score most (matplotlib).

        Parameters
        ----------
        label : str or None, default=None
            One of :attr:`labels`; None: the first.
        k : int, default=10
        ax : matplotlib Axes or None, default=None
            Where to draw; None: a new figure.

        Returns
        -------
        matplotlib Axes

        Examples
        --------
        >>> explanation.plot("sport", k=8).figure.savefig("sport.png")  # doctest: +SKIP
        """
        import matplotlib.pyplot as plt

        name = self.labels[0] if label is None else self.labels[self._column(label)]
        pairs = self.top(name, k, sign="absolute")[::-1]
        if ax is None:
            _, ax = plt.subplots(figsize=(4.5, 0.3 * max(len(pairs), 3) + 0.8))
        values = [v for _, v in pairs]
        ax.barh([w for w, _ in pairs], values, color=["tab:green" if v >= 0 else "tab:red" for v in values])
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_title(f"{name}: the words that moved it most", fontsize=9)
        ax.set_xlabel("attribution")
        return ax

    def __repr__(self) -> str:
        best = ", ".join(f"{lab}: {[w for w, _ in self.top(lab, 3)]}" for lab in self.labels)
        return f"Explanation({len(self.words)} words; {best})"
