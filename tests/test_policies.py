"""PPO policies: one label per text from the softmax, or a Bernoulli decision per label."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from skgliclass.training.policies import POLICIES, BernoulliPolicy, CategoricalPolicy

LOGITS = torch.tensor([[2.0, 0.5, -1.0, 9.0], [0.0, 0.0, 0.0, 0.0], [-3.0, 4.0, 1.0, 0.0]])
MASK = torch.tensor([[True, True, True, False], [True, True, True, True], [True, True, True, True]])


def test_categorical_draws_exactly_one_real_label_per_text():
    policy = CategoricalPolicy()
    generator = torch.Generator().manual_seed(0)
    draws = torch.stack([policy.sample(LOGITS, MASK, generator) for _ in range(2000)])  # (draws, B, C)
    assert (draws.sum(-1) == 1).all()
    assert not draws[:, 0, 3].any()  # a padded slot is never chosen, however large its logit
    # Frequencies follow the softmax over the real slots.
    expected = policy.probs(LOGITS, MASK)
    torch.testing.assert_close(draws.mean(0), expected, atol=0.04, rtol=0)
    torch.testing.assert_close(expected[0, :3], LOGITS[0, :3].softmax(0))
    greedy = policy.sample(LOGITS, MASK, None)
    assert greedy.argmax(1).tolist() == [0, 0, 1]


def test_categorical_log_prob_kl_and_entropy():
    policy = CategoricalPolicy()
    actions = policy.sample(LOGITS, MASK, None)
    log_p = policy.log_prob(LOGITS, MASK, actions, smoothing=0.0)
    decided = policy.decisions(actions, MASK)
    assert decided.sum().item() == 3  # one decision per text
    torch.testing.assert_close(
        log_p[decided],
        LOGITS[1:]
        .log_softmax(1)
        .new_tensor([LOGITS[0, :3].log_softmax(0)[0].item(), math.log(0.25), LOGITS[2].log_softmax(0)[1].item()]),
    )
    assert policy.kl(LOGITS, LOGITS, MASK).abs().item() < 1e-6
    other = LOGITS + torch.tensor([1.0, 0.0, 0.0, 0.0])
    p, q = LOGITS[1].softmax(0), other[1].softmax(0)
    manual = (p * (p.log() - q.log())).sum()
    assert policy.kl(LOGITS, other, MASK).item() > 0
    torch.testing.assert_close(policy.kl(LOGITS[1:2], other[1:2], MASK[1:2]), manual)
    torch.testing.assert_close(policy.entropy(LOGITS[1:2], MASK[1:2]), torch.tensor(math.log(4.0)))


def test_bernoulli_decides_every_real_label():
    policy = BernoulliPolicy()
    actions = policy.sample(LOGITS, MASK, torch.Generator().manual_seed(0))
    assert policy.decisions(actions, MASK).equal(MASK)
    log_p = policy.log_prob(LOGITS, MASK, actions, smoothing=0.0)
    expected = torch.where(actions.bool(), F.logsigmoid(LOGITS), F.logsigmoid(-LOGITS))
    torch.testing.assert_close(log_p, expected)
    assert policy.kl(LOGITS, LOGITS, MASK).abs().item() < 1e-6


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_smoothing_moves_log_prob_towards_uniform(name):
    policy = POLICIES[name]()
    actions = policy.sample(LOGITS, MASK, None)
    sharp = policy.log_prob(LOGITS, MASK, actions, smoothing=0.0)
    smooth = policy.log_prob(LOGITS, MASK, actions, smoothing=0.5)
    decided = policy.decisions(actions, MASK)
    assert not torch.allclose(sharp[decided], smooth[decided])
