"""Batched sampling with a KV cache, and the batch layout training shares with it.

Layout: prompts are left-padded and completions right-padded, so every completion starts in the same
column. Training then needs logits only for the last `completion_len + 1` positions, and the
log-probabilities computed while sampling line up with the ones recomputed for the loss.
Log-probabilities are those of the temperature-scaled distribution the tokens were drawn from.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from rlhub.train.modeling import Policy


@dataclass
class Generated:
    """One sampled completion: its tokens (end-of-turn included when it stopped) and their logprobs."""

    ids: list[int]
    logprobs: list[float]
    stopped: bool


def left_pad(rows: Sequence[Sequence[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(ids, attention mask) with every row right-aligned."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        if row:
            ids[i, width - len(row) :] = torch.tensor(row)
            mask[i, width - len(row) :] = 1
    return ids, mask


def right_pad(rows: Sequence[Sequence[int | float]], pad: float, dtype: torch.dtype) -> torch.Tensor:
    width = max(1, max(len(r) for r in rows))
    out = torch.full((len(rows), width), pad, dtype=dtype)
    for i, row in enumerate(rows):
        if row:
            out[i, : len(row)] = torch.tensor(row, dtype=dtype)
    return out


def positions(mask: torch.Tensor) -> torch.Tensor:
    return (mask.cumsum(-1) - 1).clamp(min=0)


@torch.no_grad()
def sample(
    policy: Policy,
    prompts: Sequence[Sequence[int]],
    max_tokens: int,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
) -> list[Generated]:
    """One completion per prompt; `temperature == 0` is greedy decoding."""
    model, device = policy.model, policy.device
    pad = policy.tokenizer.pad_token_id
    ids, mask = left_pad(prompts, pad)
    ids, mask = ids.to(device), mask.to(device)
    batch = ids.shape[0]
    stop = torch.tensor(sorted(policy.stop_ids), device=device)
    done = torch.zeros(batch, dtype=torch.bool, device=device)
    out_ids, out_logps = [], []
    # transformers 5 renamed `past_key_values` to `cache`; accept both generations of the API
    cache_kw = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"
    cache = None
    step_ids, pos = ids, positions(mask)
    for _ in range(max_tokens):
        output = model(input_ids=step_ids, attention_mask=mask, position_ids=pos, use_cache=True, **{cache_kw: cache})
        cache = output[cache_kw]
        logits = output.logits[:, -1, :].float()
        if temperature > 0:
            logps = torch.log_softmax(logits / temperature, dim=-1)
            probs = logps.exp()
            token = torch.multinomial(probs, 1, generator=generator).squeeze(-1)
        else:
            logps = torch.log_softmax(logits, dim=-1)
            token = logits.argmax(-1)
        token = torch.where(done, torch.full_like(token, pad), token)
        out_ids.append(token)
        out_logps.append(logps.gather(-1, token[:, None]).squeeze(-1))
        done = done | torch.isin(token, stop)
        if bool(done.all()):
            break
        step_ids = token[:, None]
        pos = pos[:, -1:] + 1
        mask = torch.cat([mask, torch.ones((batch, 1), dtype=mask.dtype, device=device)], dim=1)
    tokens = torch.stack(out_ids, 1).tolist()
    logprobs = torch.stack(out_logps, 1).tolist()
    results = []
    for row, row_logps in zip(tokens, logprobs, strict=True):
        end = next((i + 1 for i, t in enumerate(row) if t in policy.stop_ids), len(row))
        results.append(Generated(row[:end], row_logps[:end], end < len(row) or row[end - 1] in policy.stop_ids))
    return results


def completion_logprobs(
    policy: Policy, prompts: Sequence[Sequence[int]], completions: Sequence[Sequence[int]], temperature: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """(logprobs [B, C], mask [B, C]) of each completion given its prompt, with gradients."""
    pad = policy.tokenizer.pad_token_id
    prompt_ids, prompt_mask = left_pad(prompts, pad)
    completion_ids = right_pad(completions, pad, torch.long)
    completion_mask = right_pad([[1] * len(c) for c in completions], 0, torch.long)
    ids = torch.cat([prompt_ids, completion_ids], 1).to(policy.device)
    mask = torch.cat([prompt_mask, completion_mask], 1).to(policy.device)
    width = completion_ids.shape[1]
    logits = policy.model(
        input_ids=ids, attention_mask=mask, position_ids=positions(mask), logits_to_keep=width + 1
    ).logits[:, :-1, :]
    logps = torch.log_softmax(logits.float() / (temperature or 1.0), dim=-1)
    target = ids[:, -width:]
    return logps.gather(-1, target[..., None]).squeeze(-1), completion_mask.to(policy.device).float()


__all__ = ["Generated", "completion_logprobs", "left_pad", "positions", "right_pad", "sample"]
