"""PPO rewards: set metrics of the sampled labels against known targets, and user feedback functions.

Every reward is computed for a whole batch at once from ``(n, C)`` arrays. A named reward scores
each text (shape ``(n,)``) over the entries whose target is known; a user function may score each
text or each (text, label) entry, and may return NaN where it gives no feedback.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from skgliclass.config import check_choice

__all__ = [
    "REWARDS",
    "Reward",
    "RewardValues",
    "accuracy_reward",
    "f1_reward",
    "make_reward",
    "precision_reward",
    "recall_reward",
]


def _counts(actions: np.ndarray, targets: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, ...]:
    """True positives, false positives and false negatives per row, over known entries only."""
    a = actions.astype(bool) & known
    y = (targets == 1) & known
    tp = (a & y).sum(1)
    return tp, (a & ~y).sum(1), (~a & y & known).sum(1)


def f1_reward(actions: np.ndarray, targets: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Per-text F1 of the chosen label set; 1 when nothing is chosen and nothing is true."""
    tp, fp, fn = _counts(actions, targets, known)
    denominator = 2 * tp + fp + fn
    return np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), 1.0)


def precision_reward(actions: np.ndarray, targets: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Per-text precision; choosing nothing scores 1 only when no label is true."""
    tp, fp, fn = _counts(actions, targets, known)
    chosen = tp + fp
    return np.where(chosen > 0, tp / np.maximum(chosen, 1), (fn == 0).astype(float))


def recall_reward(actions: np.ndarray, targets: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Per-text recall; 1 when no label is true."""
    tp, _, fn = _counts(actions, targets, known)
    true = tp + fn
    return np.where(true > 0, tp / np.maximum(true, 1), 1.0)


def accuracy_reward(actions: np.ndarray, targets: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Per-text share of known entries decided right (0 for a text with no known entry)."""
    right = ((actions.astype(bool) == (targets == 1)) & known).sum(1)
    return right / np.maximum(known.sum(1), 1)


REWARDS: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    "f1": f1_reward,
    "accuracy": accuracy_reward,
    "precision": precision_reward,
    "recall": recall_reward,
}


@dataclass
class RewardValues:
    """Rewards of one batch, split by where they come from.

    Attributes
    ----------
    from_labels : ndarray of shape (n,)
        Weighted sum of the components that compare actions with ``y`` (0 without any).
    feedback : ndarray of shape (n, C)
        Weighted sum of the user functions, broadcast per label; NaN where one gave no feedback.
    parts : dict
        Each component's batch mean, before weighting.
    """

    from_labels: np.ndarray
    feedback: np.ndarray
    parts: dict[str, float]

    @property
    def total(self) -> np.ndarray:
        """The whole reward per (text, label) entry."""
        return self.from_labels[:, None] + self.feedback


@dataclass
class Reward:
    """A weighted sum of reward components: ``(name, function, weight, from_labels)`` each."""

    components: list[tuple[str, Callable[..., Any], float, bool]]

    @property
    def needs_targets(self) -> bool:
        """Whether some component compares the actions with ``y``."""
        return any(from_labels for *_, from_labels in self.components)

    @property
    def has_feedback(self) -> bool:
        """Whether some component is a user function."""
        return not all(from_labels for *_, from_labels in self.components)

    @property
    def single_function_weight(self) -> float | None:
        """The weight of the one user function when it is the whole reward (a reviewer can be), else None."""
        if len(self.components) == 1 and not self.components[0][3]:
            return float(self.components[0][2])
        return None

    def __call__(
        self,
        texts: list[str],
        actions: np.ndarray,
        probs: np.ndarray,
        targets: np.ndarray | None,
        known: np.ndarray,
    ) -> RewardValues:
        """Every component on one batch of ``(n, C)`` actions (columns in class order)."""
        n, c = actions.shape
        from_labels, feedback = np.zeros(n), np.zeros((n, c))
        parts: dict[str, float] = {}
        for name, function, weight, labelled in self.components:
            if labelled:
                value = function(actions, targets, known)
                from_labels = from_labels + weight * value
            else:
                value = _checked(name, function(list(texts), actions.copy(), probs.copy()), n, c)
                feedback = feedback + weight * (value[:, None] if value.ndim == 1 else value)
            finite = value[np.isfinite(value)]
            parts[name] = float(finite.mean()) if finite.size else float("nan")
        return RewardValues(from_labels, feedback, parts)

    def each_label(self, shape: tuple[int, int], targets: np.ndarray, known: np.ndarray) -> np.ndarray:
        """The label-based reward of each text had it chosen label j alone, ``(n, C)``."""
        out = np.zeros(shape)
        for j in range(shape[1]):  # one vectorised call per label column, never per text
            alone = np.zeros(shape, dtype=np.int64)
            alone[:, j] = 1
            out[:, j] = self.from_labels(alone, targets, known)
        return out

    def flipped(self, actions: np.ndarray, targets: np.ndarray, known: np.ndarray) -> np.ndarray:
        """The label-based reward of each text had decision (i, j) gone the other way, ``(n, C)``."""
        out = np.zeros(actions.shape)
        flipped = actions.copy()
        for j in range(actions.shape[1]):  # one vectorised call per label column, never per text
            flipped[:, j] = 1 - actions[:, j]
            out[:, j] = self.from_labels(flipped, targets, known)
            flipped[:, j] = actions[:, j]
        return out

    def from_labels(self, actions: np.ndarray, targets: np.ndarray, known: np.ndarray) -> np.ndarray:
        """The weighted sum of the components that compare ``actions`` with ``y``, ``(n,)``."""
        total = np.zeros(len(actions))
        for _, function, weight, labelled in self.components:
            if labelled:
                total = total + weight * function(actions, targets, known)
        return total


def _checked(name: str, value: Any, n: int, c: int) -> np.ndarray:
    """A user reward as a float array of shape (n,) or (n, C); NaN is allowed (no feedback), inf is not."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"reward {name!r} must return numbers, got {type(value).__name__}.") from error
    if array.shape not in ((n,), (n, c)):
        raise ValueError(
            f"reward {name!r} returned shape {array.shape}; expected ({n},) for one reward per text "
            f"or ({n}, {c}) for one per (text, label)."
        )
    if np.isinf(array).any():
        raise ValueError(f"reward {name!r} returned an infinite value; return NaN for 'no feedback'.")
    return array


def _name(function: Callable[..., Any]) -> str:
    name = getattr(function, "__name__", type(function).__name__)
    return "custom" if name == "<lambda>" else name


def make_reward(spec: Any) -> Reward:
    """Read ``reward=``: a name in :data:`REWARDS`, a callable ``reward(texts, actions, probs)``, or a
    dict mapping names and callables to weights (the total is the weighted sum)."""
    items = spec.items() if isinstance(spec, Mapping) else [(spec, 1.0)]
    if isinstance(spec, Mapping) and not spec:
        raise ValueError("reward is an empty dict; map at least one reward name or function to a weight.")
    components = []
    for key, weight in items:
        if not isinstance(weight, numbers.Real) or isinstance(weight, bool) or not np.isfinite(weight):
            raise ValueError(f"reward weight of {key!r} must be a finite number, got {weight!r}.")
        if isinstance(key, str):
            check_choice("reward", key, tuple(REWARDS))
            components.append((key, REWARDS[key], float(weight), True))
        elif callable(key):
            components.append((_name(key), key, float(weight), False))
        else:
            raise TypeError(
                f"reward must be one of {tuple(REWARDS)}, a callable reward(texts, actions, probs) or a dict "
                f"of those to weights; got {key!r}."
            )
    names = [name for name, *_ in components]
    if len(set(names)) != len(names):
        raise ValueError(f"reward components need distinct names, got {names}.")
    return Reward(components)
