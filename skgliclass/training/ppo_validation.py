"""Held-out texts that decide which epoch a PPO fit keeps, so that learning from rewards never ends below its start.

After each epoch (and once before the first), the model makes its most likely decisions on the held-out texts
(the top label with one label per text; each label with p > 0.5 with per-label decisions) and the reward judges
them. A reviewer is asked about a (text, proposal) once: its answer is kept and reused when a later epoch proposes
the same.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from skgliclass.data.prompts import InputBuilder
from skgliclass.modeling.model import GLiClassModel
from skgliclass.training.forward import forward_batch
from skgliclass.training.policies import Policy
from skgliclass.training.rewards import Reward
from skgliclass.training.settings import Validation

__all__ = ["HeldOutJudge"]


class HeldOutJudge:
    """Scores a model on held-out texts by the mean reward of its proposals; keeps every answer it was given.

    ``asked`` counts the (text, label) answers the reward functions gave (finite entries), the cost of
    validation in a reviewer's verdicts.
    """

    def __init__(self, validation: Validation, reward: Reward, policy: Policy) -> None:
        self.texts, self.targets, self.reward, self.policy = validation.texts, validation.targets, reward, policy
        self.known = None if self.targets is None else self.targets >= 0
        self.answers: dict[tuple[int, bytes], np.ndarray] = {}
        self.asked = 0

    @torch.no_grad()
    def score(
        self, model: GLiClassModel, builder: InputBuilder, labels: Sequence[str], batch_size: int, device: torch.device
    ) -> float:
        """The mean reward of ``model``'s proposals over the held-out texts (eval mode, labels in order)."""
        model.eval()
        totals = []
        for start in range(0, len(self.texts), batch_size):
            rows = np.arange(start, min(start + batch_size, len(self.texts)))
            texts = [self.texts[i] for i in rows]
            out = forward_batch(model, builder, texts, labels, device, order=np.arange(len(labels)))
            logits = out.logits.float()
            # The policy's own decisions at their most likely: the top label, or each label with p > 0.5.
            actions = self.policy.sample(logits, out.mask, None).cpu().numpy().astype(np.int64)
            totals.append(self.judge(rows, texts, actions, self.policy.probs(logits, out.mask).cpu().numpy()))
        model.train()
        total = np.concatenate(totals)
        return float(np.nanmean(total)) if np.isfinite(total).any() else 0.0

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
