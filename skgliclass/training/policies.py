"""PPO policies over a text's labels: a Bernoulli decision per label (multi-label), or one label per text drawn
from the softmax (single-label). Every method takes logits and the mask of real label slots, both ``(B, C)``."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["POLICIES", "BernoulliPolicy", "CategoricalPolicy", "Policy"]


class Policy:
    """How actions are drawn from logits and how likely they were."""

    def probs(self, logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The probability of choosing each label, ``(B, C)``."""
        raise NotImplementedError

    def sample(self, logits: torch.Tensor, mask: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """0/1 actions ``(B, C)``: drawn (with ``generator``), or the most likely when ``generator`` is None."""
        raise NotImplementedError

    def log_prob(
        self, logits: torch.Tensor, mask: torch.Tensor, actions: torch.Tensor, smoothing: float
    ) -> torch.Tensor:
        """``log pi`` of ``actions`` per entry ``(B, C)``; the entries that carry a decision are :meth:`decisions`."""
        raise NotImplementedError

    def decisions(self, actions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The entries whose log-probability is a decision of the policy, ``(B, C)`` bool."""
        raise NotImplementedError

    def kl(self, logits: torch.Tensor, reference: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean exact ``KL(pi || pi_ref)``."""
        raise NotImplementedError

    def entropy(self, logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean entropy of the policy."""
        raise NotImplementedError


class BernoulliPolicy(Policy):
    """Each (text, label) decided on its own: ``a ~ Bernoulli(sigmoid(logit))`` (multi-label)."""

    def probs(self, logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(logits) * mask

    def sample(self, logits: torch.Tensor, mask: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        probs = self.probs(logits, mask)
        return torch.bernoulli(probs, generator=generator) if generator is not None else (probs > 0.5).float()

    def log_prob(
        self, logits: torch.Tensor, mask: torch.Tensor, actions: torch.Tensor, smoothing: float
    ) -> torch.Tensor:
        if smoothing:  # actions smoothed towards 1/2
            actions = actions * (1 - smoothing) + 0.5 * smoothing
        return -F.binary_cross_entropy_with_logits(logits, actions, reduction="none")

    def decisions(self, actions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return mask.bool()

    def kl(self, logits: torch.Tensor, reference: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        p = torch.sigmoid(logits)
        per_entry = p * (F.logsigmoid(logits) - F.logsigmoid(reference)) + (1 - p) * (
            F.logsigmoid(-logits) - F.logsigmoid(-reference)
        )
        return _masked_mean(per_entry, mask)

    def entropy(self, logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        per_entry = F.binary_cross_entropy_with_logits(logits, torch.sigmoid(logits), reduction="none")
        return _masked_mean(per_entry, mask)


class CategoricalPolicy(Policy):
    """One label per text: ``a ~ Categorical(softmax(logits))`` over the real label slots (single-label)."""

    def probs(self, logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self._log_softmax(logits, mask).exp()

    def sample(self, logits: torch.Tensor, mask: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        probs = self.probs(logits, mask)
        if generator is not None:
            choice = torch.multinomial(probs, 1, generator=generator)
        else:
            choice = probs.argmax(1, keepdim=True)
        return torch.zeros_like(probs).scatter_(1, choice, 1.0)

    def log_prob(
        self, logits: torch.Tensor, mask: torch.Tensor, actions: torch.Tensor, smoothing: float
    ) -> torch.Tensor:
        log_p = self._log_softmax(logits, mask)
        if smoothing:  # the chosen label's target smoothed towards the uniform over real labels
            real = mask.float()
            uniform = (log_p.masked_fill(~mask.bool(), 0.0) * real).sum(1, keepdim=True) / real.sum(1, keepdim=True)
            log_p = (1 - smoothing) * log_p + smoothing * uniform
        return log_p

    def decisions(self, actions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return actions.bool() & mask.bool()

    def kl(self, logits: torch.Tensor, reference: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        log_p, log_q = self._log_softmax(logits, mask), self._log_softmax(reference, mask)
        per_text = (log_p.exp() * (log_p - log_q)).masked_fill(~mask.bool(), 0.0).sum(1)
        return per_text.mean()

    def entropy(self, logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        log_p = self._log_softmax(logits, mask)
        return -(log_p.exp() * log_p).masked_fill(~mask.bool(), 0.0).sum(1).mean()

    @staticmethod
    def _log_softmax(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return logits.masked_fill(~mask.bool(), float("-inf")).log_softmax(1).masked_fill(~mask.bool(), -1e9)


POLICIES: dict[str, type[Policy]] = {"bernoulli": BernoulliPolicy, "categorical": CategoricalPolicy}


def _masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    weights = mask.to(values.dtype)
    return (values * weights).sum() / weights.sum().clamp_min(1.0)
