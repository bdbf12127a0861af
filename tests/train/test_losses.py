"""GRPO numerics against hand computations, and micro-batching that changes nothing."""

import math

import pytest
import torch

from rlhub.train.generate import completion_logprobs
from rlhub.train.losses import group_advantages, policy_loss, token_weights
from rlhub.train.modeling import load_policy


def test_advantages_match_hand_computation():
    rewards = torch.tensor([[1.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0], [1.0, 0.5, 0.0, 0.5]])
    adv = group_advantages(rewards, scale=True, eps=0.0 + 1e-12)
    # group 0: mean 0.5, unbiased std sqrt(4 * 0.25 / 3) = 0.57735
    std0 = math.sqrt(1 / 3)
    assert adv[0].tolist() == pytest.approx([0.5 / std0, -0.5 / std0, -0.5 / std0, 0.5 / std0])
    assert adv[1].tolist() == [0.0, 0.0, 0.0, 0.0]  # a flat group carries no signal
    std2 = math.sqrt((0.25 + 0 + 0.25 + 0) / 3)
    assert adv[2].tolist() == pytest.approx([0.5 / std2, 0.0, -0.5 / std2, 0.0])
    unscaled = group_advantages(rewards, scale=False)
    assert unscaled[2].tolist() == pytest.approx([0.5, 0.0, -0.5, 0.0])


def test_token_weights_per_variant():
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
    expected = {
        "grpo": [[1 / 4, 1 / 4, 0], [1 / 6, 1 / 6, 1 / 6]],
        "dapo": [[1 / 5, 1 / 5, 0], [1 / 5, 1 / 5, 1 / 5]],
        "dr_grpo": [[1 / 8, 1 / 8, 0], [1 / 8, 1 / 8, 1 / 8]],
    }
    for loss_type, weights in expected.items():
        torch.testing.assert_close(token_weights(mask, loss_type, 4), torch.tensor(weights))


def test_loss_matches_hand_computation():
    logps = torch.tensor([[-1.0, -2.0], [-0.5, -0.1]])
    old = torch.tensor([[-1.5, -2.0], [-0.2, -0.1]])
    adv = torch.tensor([1.0, -2.0])
    weights = torch.tensor([[0.25, 0.25], [0.25, 0.25]])
    loss = policy_loss(logps, old, adv, weights, clip_low=0.2, clip_high=0.28)
    # ratios: e^0.5 = 1.6487 (clipped to 1.28 for A=1 -> min(1.6487, 1.28) = 1.28), 1, e^-0.3 = 0.7408, 1
    # A = -2: min(0.7408 * -2, clip(0.7408 -> 0.8) * -2) = min(-1.4816, -1.6) = -1.6
    expected = -0.25 * (1.28 + 1.0 + -1.6 + -2.0)
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_kl_penalty_matches_hand_computation():
    logps = torch.tensor([[-1.0]])
    ref = torch.tensor([[-1.5]])
    loss = policy_loss(logps, logps, torch.tensor([0.0]), torch.ones(1, 1), ref_logps=ref, beta=0.1)
    delta = -0.5
    assert loss.item() == pytest.approx(0.1 * (math.exp(delta) - delta - 1))


@pytest.mark.parametrize("loss_type", ["grpo", "dr_grpo", "dapo"])
def test_micro_batches_give_the_full_batch_loss_and_gradients(tiny_path, loss_type):
    policy = load_policy(tiny_path, "cpu")
    prompts = [[3, 9, 10], [3, 11], [3, 9, 12, 13], [3, 10, 10], [3, 14], [3, 12, 9, 9, 9]]
    completions = [[9, 6], [10, 11, 12, 6], [13], [9, 9, 9, 9, 6], [11, 6], [12, 12, 6]]
    adv = torch.tensor([1.0, -0.5, 0.3, -1.2, 0.0, 0.8])
    with torch.no_grad():
        old = completion_logprobs(policy, prompts, completions)[0] + 0.05

    def run(size):
        policy.model.zero_grad()
        _, mask = completion_logprobs(policy, prompts, completions)
        weights = token_weights(mask, loss_type, 6)
        total = 0.0
        for s in range(0, len(prompts), size):
            logps, _ = completion_logprobs(policy, prompts[s : s + size], completions[s : s + size])
            width = logps.shape[1]
            loss = policy_loss(logps, old[s : s + size, :width], adv[s : s + size], weights[s : s + size, :width])
            loss.backward()
            total += loss.item()
        return total, [p.grad.clone() for p in policy.model.parameters()]

    full_loss, full_grads = run(6)
    for size in (1, 4):
        loss, grads = run(size)
        assert loss == pytest.approx(full_loss, rel=1e-5, abs=1e-7)
        for a, b in zip(grads, full_grads, strict=True):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
    assert any(g.abs().sum() > 0 for g in full_grads)
