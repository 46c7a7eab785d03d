"""Held-out texts that decide which epoch a PPO fit keeps, so that learning from rewards never ends below its start.

Before the first epoch the model makes its most likely decisions on the held-out texts (the top label with one
label per text; each label with p > 0.5 with per-label decisions) and the reward judges them. When the reward
answers as a reviewer does (one function, 1 or 0 for a chosen label, nothing else), those verdicts judge every
epoch as logged feedback does: the calibrated likelihood of the verdicts, class-balanced, and an epoch replaces
the start only by a clear gain that keeps nine in ten as much right; no more verdicts are asked. Any other reward
judges each epoch's own decisions by their mean reward, asking about a (text, proposal) once and reusing the
answer when a later epoch proposes the same.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from skgliclass.data.prompts import InputBuilder
from skgliclass.modeling.model import GLiClassModel
from skgliclass.training import guard
from skgliclass.training.forward import forward_batch
from skgliclass.training.guard import guard_loss, judged
from skgliclass.training.policies import CategoricalPolicy, Policy
from skgliclass.training.rewards import Reward
from skgliclass.training.settings import Validation

__all__ = ["HeldOutJudge"]


class HeldOutJudge:
    """Scores a model on held-out texts; keeps every answer it was given.

    ``verdicts`` (set at the first call) is the reviewer's verdict matrix on the start's proposals, or None
    when the reward is not a reviewer's. ``asked`` counts the (text, label) answers the reward functions gave
    (finite entries), the cost of validation in a reviewer's verdicts.
    """

    def __init__(self, validation: Validation, reward: Reward, policy: Policy) -> None:
        self.texts, self.targets, self.reward, self.policy = validation.texts, validation.targets, reward, policy
        self.known = None if self.targets is None else self.targets >= 0
        self.answers: dict[tuple[int, bytes], np.ndarray] = {}
        self.asked = 0
        self.single_label = isinstance(policy, CategoricalPolicy)
        self.verdicts: np.ndarray | None = None

    @torch.no_grad()
    def loss(
        self, model: GLiClassModel, builder: InputBuilder, labels: Sequence[str], batch_size: int, device: torch.device
    ) -> tuple[float, np.ndarray | None, float | None]:
        """What the fit keeps lowest: the guard loss of the verdicts with per-row values for the significance
        test and what the model keeps right (:func:`~skgliclass.training.guard.kept_right`), or minus the mean
        reward of ``model``'s proposals, None and None (eval mode, labels in order)."""
        first = not self.answers
        logits, actions, probs = self._propose(model, builder, labels, batch_size, device)
        if self.verdicts is None:  # the verdicts, once set, are never asked again
            total = self.judge(np.arange(len(self.texts)), list(self.texts), actions, probs)
            if first:
                self.verdicts = self._as_verdicts(total, actions)
        if self.verdicts is not None:
            loss, rows = guard_loss(logits, self.verdicts, multilabel=not self.single_label)
            return loss, rows, guard.kept_right(logits, self.verdicts, multilabel=not self.single_label)
        return (-float(np.nanmean(total)) if np.isfinite(total).any() else 0.0), None, None

    def _propose(
        self, model: GLiClassModel, builder: InputBuilder, labels: Sequence[str], batch_size: int, device: torch.device
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Logits, most likely actions and the policy's probabilities on the held-out texts, each ``(n, C)``."""
        model.eval()
        logits, actions, probs = [], [], []
        for start in range(0, len(self.texts), batch_size):
            texts = list(self.texts[start : start + batch_size])
            out = forward_batch(model, builder, texts, labels, device, order=np.arange(len(labels)))
            part = out.logits.float()
            logits.append(part.cpu().numpy())
            actions.append(self.policy.sample(part, out.mask, None).cpu().numpy().astype(np.int64))
            probs.append(self.policy.probs(part, out.mask).cpu().numpy())
        model.train()
        return np.concatenate(logits), np.concatenate(actions), np.concatenate(probs)

    def _as_verdicts(self, total: np.ndarray, actions: np.ndarray) -> np.ndarray | None:
        """The answers as a verdict matrix (1 right, 0 wrong, -1 none) when the reward is one function whose
        answers are 1 or 0 (times its weight) for chosen labels and NaN elsewhere; otherwise None."""
        weight = self.reward.single_function_weight
        if self.targets is not None or weight is None:
            return None
        value = total / weight
        chosen = actions == 1
        # one label per text: a per-text answer is a verdict on the label shown, whatever the other columns hold
        off = np.zeros_like(chosen) if self.single_label else ~chosen & np.isfinite(value)
        on = value[chosen & np.isfinite(value)]
        if off.any() or not np.isin(on, (0.0, 1.0)).all():
            return None
        verdicts = np.where(chosen & np.isfinite(value), value, -1.0)
        return verdicts if judged(verdicts).sum() >= 2 else None

    def judge(self, rows: np.ndarray, texts: list[str], actions: np.ndarray, probs: np.ndarray) -> np.ndarray:
        """The reward ``(n, C)`` of each row's proposal; only proposals not judged before go to the reward."""
        keys = [(int(row), action.tobytes()) for row, action in zip(rows, actions, strict=True)]
        new = [i for i, key in enumerate(keys) if key not in self.answers]
        if new:
            targets = None if self.targets is None else self.targets[rows[new]]
            known = np.ones((len(new), actions.shape[1]), dtype=bool) if self.known is None else self.known[rows[new]]
            values = self.reward([texts[i] for i in new], actions[new], probs[new], targets, known)
            if self.reward.has_feedback:  # one verdict per judged proposal
                self.asked += int((np.isfinite(values.feedback) & (actions[new] == 1)).sum())
            total = np.where(known, values.total, np.nan)
            for i, row in zip(new, total, strict=True):
                self.answers[keys[i]] = row
        return np.stack([self.answers[key] for key in keys])
