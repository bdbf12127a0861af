"""Batched sampling with a KV cache, and the batch layout training shares with it.

Layout: prompts are left-padded and completions right-padded, so every completion starts in the same
column. Training then needs logits only for the last `completion_len + 1` positions, and the
log-probabilities computed while sampling line up with the ones recomputed for the loss.
Log-probabilities are those of the distribution the tokens were drawn from: temperature-scaled,
and renormalised over the nucleus when `top_p` truncates it.
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
    top_p: float | None = None,
) -> list[Generated]:
    """One completion per prompt; `temperature == 0` is greedy decoding, `top_p` nucleus sampling.
    Repeated prompts (a GRPO group) are prefilled once and their KV cache is shared out."""
    model, device = policy.model, policy.device
    pad = policy.tokenizer.pad_token_id
    unique: dict[tuple[int, ...], int] = {}
    rows = torch.tensor([unique.setdefault(tuple(p), len(unique)) for p in prompts], device=device)
    ids, mask = left_pad(list(unique), pad)
    ids, mask = ids.to(device), mask.to(device)
    cache_kw = _cache_kw(model)
    output = model(input_ids=ids, attention_mask=mask, position_ids=positions(mask), use_cache=True, logits_to_keep=1)
    cache = output[cache_kw]
    if len(unique) < len(prompts):
        cache.batch_select_indices(rows)
    mask, pos = mask[rows], positions(mask)[rows, -1:]
    logits = output.logits[rows, -1, :].float()
    batch = len(prompts)
    stop = torch.tensor(sorted(policy.stop_ids), device=device)
    done = torch.zeros(batch, dtype=torch.bool, device=device)
    out_ids, out_logps = [], []
    for step in range(max_tokens):
        if temperature > 0:
            logps = torch.log_softmax(logits / temperature, dim=-1)
            if top_p is not None and top_p < 1.0:
                logps = nucleus(logps, top_p)
            token = torch.multinomial(logps.exp(), 1, generator=generator).squeeze(-1)
        else:
            logps = torch.log_softmax(logits, dim=-1)
            token = logits.argmax(-1)
        token = torch.where(done, torch.full_like(token, pad), token)
        out_ids.append(token)
        out_logps.append(logps.gather(-1, token[:, None]).squeeze(-1))
        done = done | torch.isin(token, stop)
        if bool(done.all()) or step == max_tokens - 1:
            break
        pos = pos + 1
        mask = torch.cat([mask, torch.ones((batch, 1), dtype=mask.dtype, device=device)], dim=1)
        output = model(
            input_ids=token[:, None], attention_mask=mask, position_ids=pos, use_cache=True, **{cache_kw: cache}
        )
        cache = output[cache_kw]
        logits = output.logits[:, -1, :].float()
    tokens = torch.stack(out_ids, 1).tolist()
    logprobs = torch.stack(out_logps, 1).tolist()
    results = []
    for row, row_logps in zip(tokens, logprobs, strict=True):
        end = next((i + 1 for i, t in enumerate(row) if t in policy.stop_ids), len(row))
        results.append(Generated(row[:end], row_logps[:end], end < len(row) or row[end - 1] in policy.stop_ids))
    return results


def nucleus(logps: torch.Tensor, top_p: float) -> torch.Tensor:
    """Log-probabilities restricted to the smallest set of most likely tokens whose mass reaches
    `top_p` (the most likely token is always kept, so `top_p == 0` is greedy), renormalised."""
    sorted_logps, order = logps.sort(dim=-1, descending=True)
    mass_before = sorted_logps.exp().cumsum(-1) - sorted_logps.exp()
    outside = mass_before >= top_p
    outside[..., 0] = False
    kept = logps.scatter(-1, order, sorted_logps.masked_fill(outside, float("-inf")))
    return torch.log_softmax(kept, dim=-1)


def completion_logprobs(
    policy: Policy,
    prompts: Sequence[Sequence[int]],
    completions: Sequence[Sequence[int]],
    temperature: float = 1.0,
    share_prompts: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(logprobs [B, C], mask [B, C]) of each completion given its prompt, with gradients.

    With `share_prompts`, each distinct prompt is run once and its KV cache is indexed out to every
    completion that follows it (a GRPO group shares one prompt): same result, a fraction of the work.
    """
    unique: dict[tuple[int, ...], int] = {}
    index = [unique.setdefault(tuple(p), len(unique)) for p in prompts]
    if not share_prompts or len(unique) == len(prompts):
        return _logprobs_unshared(policy, prompts, completions, temperature)
    model, device = policy.model, policy.device
    pad = policy.tokenizer.pad_token_id
    prompt_ids, prompt_mask = left_pad(list(unique), pad)
    prompt_ids, prompt_mask = prompt_ids.to(device), prompt_mask.to(device)
    cache_kw = _cache_kw(model)
    head = model(
        input_ids=prompt_ids,
        attention_mask=prompt_mask,
        position_ids=positions(prompt_mask),
        use_cache=True,
        logits_to_keep=1,
    )
    rows = torch.tensor(index, device=device)
    cache = head[cache_kw]
    cache.batch_select_indices(rows)
    completion_ids = right_pad(completions, pad, torch.long).to(device)
    completion_mask = right_pad([[1] * len(c) for c in completions], 0, torch.long).to(device)
    mask = torch.cat([prompt_mask[rows], completion_mask], 1)
    tail = model(
        input_ids=completion_ids,
        attention_mask=mask,
        position_ids=positions(mask)[:, prompt_ids.shape[1] :],
        use_cache=True,
        **{cache_kw: cache},
    )
    logits = torch.cat([head.logits[rows], tail.logits[:, :-1]], 1)
    logps = torch.log_softmax(logits.float() / (temperature or 1.0), dim=-1)
    return logps.gather(-1, completion_ids[..., None]).squeeze(-1), completion_mask.float()


def _logprobs_unshared(
    policy: Policy, prompts: Sequence[Sequence[int]], completions: Sequence[Sequence[int]], temperature: float
) -> tuple[torch.Tensor, torch.Tensor]:
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


def _cache_kw(model: torch.nn.Module) -> str:
    """transformers 5 renamed `past_key_values` to `cache`; accept both generations of the API."""
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


__all__ = ["Generated", "completion_logprobs", "left_pad", "nucleus", "positions", "right_pad", "sample"]
