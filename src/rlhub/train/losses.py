"""The numerics of GRPO as small pure functions, each checked against a hand computation in tests.

The loss is a weighted sum over tokens. `token_weights` fixes the weights from the whole batch (the
variant's normalisation) before it is split into micro-batches, so the sum of the micro-batch losses
is exactly the full-batch loss and gradient accumulation changes nothing.
"""

from __future__ import annotations

from typing import Literal

import torch

LossType = Literal["grpo", "dr_grpo", "dapo"]


def group_advantages(rewards: torch.Tensor, scale: bool = True, eps: float = 1e-4) -> torch.Tensor:
    """Group-relative advantages of rewards shaped [groups, G]: reward minus its group mean,
    divided by the group's (unbiased) standard deviation when `scale`."""
    centred = rewards - rewards.mean(dim=1, keepdim=True)
    if not scale:
        return centred
    return centred / (rewards.std(dim=1, keepdim=True) + eps)


def token_weights(mask: torch.Tensor, loss_type: LossType, max_tokens: int) -> torch.Tensor:
    """Per-token weights [B, T] of the batch: how much each completion token counts in the loss.

    grpo: mean over each sequence's tokens, then over sequences.
    dr_grpo: sum over tokens divided by (sequences x max_tokens): no length bias.
    dapo: mean over all tokens of the batch (token-level normalisation).
    """
    if loss_type == "grpo":
        return mask / mask.sum(dim=1, keepdim=True).clamp(min=1) / mask.shape[0]
    if loss_type == "dr_grpo":
        return mask / (mask.shape[0] * max_tokens)
    if loss_type == "dapo":
        return mask / mask.sum().clamp(min=1)
    raise ValueError(f"unknown loss type {loss_type!r}")


def policy_loss(
    logps: torch.Tensor,
    old_logps: torch.Tensor,
    advantages: torch.Tensor,
    weights: torch.Tensor,
    clip_low: float = 0.2,
    clip_high: float = 0.2,
    ref_logps: torch.Tensor | None = None,
    beta: float = 0.0,
) -> torch.Tensor:
    """Clipped surrogate objective, negated for minimisation, with an optional k3 KL penalty.

    Per token: min(r A, clip(r, 1 - clip_low, 1 + clip_high) A) - beta KL, with r = exp(logp - old)
    and A the sequence's advantage; the loss is minus the weighted sum.
    """
    ratio = torch.exp(logps - old_logps)
    adv = advantages[:, None]
    objective = torch.minimum(ratio * adv, ratio.clamp(1 - clip_low, 1 + clip_high) * adv)
    if ref_logps is not None and beta > 0:
        delta = ref_logps - logps
        objective = objective - beta * (torch.exp(delta) - delta - 1)
    return -(objective * weights).sum()


__all__ = ["LossType", "group_advantages", "policy_loss", "token_weights"]
