"""GRPO: reinforce what the environment's rubric rewards, relative to the other samples of a group.

Each step, top to bottom:
1. take `prompts` train tasks (indices follow the step, so data order needs no RNG and resumes exactly);
2. run `group` episodes per task with the current policy through the environment (any kind: single
   turn, multi turn, tools) on the rollout runner, batched in one generation, each scored in the
   runner's scoring processes as it finishes;
3. group-relative advantages: reward minus the group mean (divided by the group std unless
   `scale_rewards = false`); with `dynamic_sampling`, groups whose rewards are all equal are dropped;
4. every model call of an episode is one training sequence carrying the episode's advantage; only
   the model's tokens count in the loss (prompts, environment and tool messages are context);
5. `epochs` optimizer steps on this batch, each with gradient accumulation over micro-batches, on the
   token-level clipped surrogate (ratio to the sampling policy), normalised per the `loss` variant,
   minus `beta` x a k3 KL estimate to the frozen initial model.

Simplifications, on purpose:
- dynamic sampling drops flat groups instead of sampling more tasks to refill the batch;
- the "old" policy of the importance ratio is recomputed by a forward pass before the first update
  (with `epochs = 1` it equals the current policy, so the ratio is exactly 1);
- multi-turn episodes train turn by turn (each call's prompt re-encoded with the chat template), not
  as one concatenated sequence;
- generation and training alternate in one process (no asynchronous off-policy rollouts, no vLLM);
- the learning rate is constant.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch

from rlhub.core.errors import ConfigError
from rlhub.core.metrics import compute_metrics
from rlhub.core.types import Rollout, Sampling
from rlhub.rollout.runner import Collector, RolloutConfig
from rlhub.train.client import LocalModelClient
from rlhub.train.common import Metrics, Run, plot_curves, prepare, progress, read_metrics
from rlhub.train.config import TrainConfig
from rlhub.train.generate import completion_logprobs, right_pad
from rlhub.train.losses import group_advantages, policy_loss, token_weights
from rlhub.train.modeling import Policy, load_policy


@dataclass
class Sequence:
    """One training sequence: a model call's prompt and completion, and its episode's advantage."""

    prompt_ids: list[int]
    ids: list[int]
    advantage: float
    behavior_logps: list[float] | None = None
    """Log-probabilities of `ids` under the policy that sampled them, when that was not the current one
    (asynchronous RL): the importance ratio is then taken against them."""


@dataclass
class GRPOResult:
    model: Path
    steps: int
    reward: float
    seconds: float


def groups(config: TrainConfig) -> RolloutConfig:
    """The runner's settings for one batch: `grpo.group` samples of `grpo.prompts` train tasks, all in
    one generation, no timeout (a failed rollout stops training: see `Collector`)."""
    cfg = config.grpo
    return RolloutConfig(
        n=cfg.prompts,
        r=cfg.group,
        concurrency=cfg.prompts * cfg.group,
        split="train",
        seed=config.env.seed,
        sampling=Sampling(temperature=cfg.temperature, max_tokens=config.env.max_tokens),
        timeout_s=None,
        score_workers=cfg.score_workers,
        ramp_pause_s=0.0,
        progress=False,
    )


def turns(rollout: Rollout) -> list[tuple[list[int], list[int], list[float]]]:
    """(prompt ids, completion ids, sampling logprobs) of every model call of an episode that produced
    tokens: what the loss sees."""
    out = []
    for c in rollout.completions:
        if c.prompt_token_ids is None or c.token_ids is None or c.logprobs is None:
            raise ValueError(f"{rollout.task.id}: GRPO needs token ids and logprobs from the model client")
        if c.token_ids:
            out.append((list(c.prompt_token_ids), list(c.token_ids), list(c.logprobs)))
    return out


def to_sequences(rollouts: list[Rollout], advantages: torch.Tensor, keep: torch.Tensor, group: int) -> list[Sequence]:
    """Training sequences of the kept groups: every model turn of every episode."""
    out: list[Sequence] = []
    for n, rollout in enumerate(rollouts):
        g, k = divmod(n, group)
        if keep[g]:
            out.extend(Sequence(prompt, ids, float(advantages[g, k])) for prompt, ids, _ in turns(rollout))
    return out


def update(run: Run, batch: list[Sequence], ref: Policy | None) -> dict[str, float]:
    """`grpo.epochs` optimizer steps on one batch; returns the last step's loss and clip fraction."""
    cfg, policy = run.config.grpo, run.policy
    mask = right_pad([[1] * len(s.ids) for s in batch], 0, torch.float)
    weights = token_weights(mask, cfg.loss, run.config.env.max_tokens).to(policy.device)
    if ref is None:  # without a KL term a zero-advantage sequence adds exactly 0 to loss and gradient: skip it
        active = [i for i, s in enumerate(batch) if s.advantage != 0.0]
        batch, weights = [batch[i] for i in active], weights[active]
    size = cfg.micro_batch_size
    micro = [batch[i : i + size] for i in range(0, len(batch), size)]

    def logps_of(part: list[Sequence], model: Policy = policy) -> torch.Tensor:
        return completion_logprobs(model, [s.prompt_ids for s in part], [s.ids for s in part], cfg.temperature)[0]

    old: list[torch.Tensor | None] = [None] * len(micro)
    refs: list[torch.Tensor | None] = [None] * len(micro)
    with torch.no_grad():
        for i, part in enumerate(micro):
            behavior = [s.behavior_logps for s in part]
            if all(b is not None for b in behavior):
                old[i] = right_pad(behavior, 0.0, torch.float).to(policy.device)  # type: ignore[arg-type]
            elif cfg.epochs > 1:
                old[i] = logps_of(part)
            if ref is not None:
                refs[i] = logps_of(part, ref)
    stats = {"loss": 0.0, "clipped": 0.0}
    for _ in range(cfg.epochs):
        loss_total, clipped, start = 0.0, 0.0, 0
        for i, part in enumerate(micro):
            logps = logps_of(part)
            width = logps.shape[1]
            w = weights[start : start + len(part), :width]
            start += len(part)
            old_part, ref_full = old[i], refs[i]
            base = old_part[:, :width] if old_part is not None else logps.detach()
            adv = torch.tensor([s.advantage for s in part], device=policy.device)
            ref_part = ref_full[:, :width] if ref_full is not None else None
            loss = policy_loss(logps, base, adv, w, cfg.clip_low, cfg.clip_high, ref_part, cfg.beta)
            loss.backward()
            loss_total += loss.item()
            ratio = torch.exp(logps.detach() - base)
            outside = (ratio < 1 - cfg.clip_low) | (ratio > 1 + cfg.clip_high)
            clipped += float((outside.float() * w).sum())
        for p in policy.model.parameters():  # zero, not absent: AdamW's momentum still moves the weights
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        if run.config.optim.grad_clip:
            torch.nn.utils.clip_grad_norm_(policy.model.parameters(), run.config.optim.grad_clip)
        run.optimizer_step()
        stats = {"loss": loss_total, "clipped": clipped}
    return stats


def train_grpo(config: TrainConfig) -> GRPOResult:
    """Run GRPO as configured; returns the saved model directory and the last batch's mean reward."""
    cfg = config.grpo
    run = prepare(config, lr=cfg.lr, warmup=0)
    if cfg.time_budget_s and run.workers.world > 1:
        raise ConfigError("grpo.time_budget_s needs a single worker: DiLoCo workers must all run the same steps")
    policy = run.policy
    ref = load_policy(run.source, config.model.device) if cfg.beta > 0 else None
    if ref is not None:
        ref.model.eval().requires_grad_(False)
    client = LocalModelClient(policy, max_tokens=config.env.max_tokens, generator=run.generator)
    metrics = Metrics(run.out / "metrics.jsonl", run.step)
    started = time.perf_counter()
    reward = 0.0
    with (
        progress(config.run.progress, cfg.steps, "grpo", config.run.progress_every) as bar,
        Collector(run.env, client, groups(config)) as collect,
    ):
        bar.update(bar.task_ids[0], completed=run.step)
        while run.step < cfg.steps:
            if cfg.time_budget_s and time.perf_counter() - started > cfg.time_budget_s:
                break
            t0 = time.perf_counter()
            policy.model.eval()
            rollouts = collect(run.workers.shard(run.step) * cfg.prompts)
            rewards = torch.tensor([r.reward for r in rollouts]).view(cfg.prompts, cfg.group)
            advantages = group_advantages(rewards, cfg.scale_rewards)
            keep = rewards.std(dim=1) > 0 if cfg.dynamic_sampling else torch.ones(cfg.prompts, dtype=torch.bool)
            batch = to_sequences(rollouts, advantages, keep, cfg.group)
            t1 = time.perf_counter()
            policy.model.train()
            stats = update(run, batch, ref) if batch else {"loss": 0.0, "clipped": 0.0}
            run.step += 1
            reward = float(rewards.mean())
            metrics.log(
                phase="grpo",
                step=run.step,
                reward=round(reward, 5),
                accuracy=round(compute_metrics(rollouts).accuracy, 5),
                loss=round(stats["loss"], 6),
                clipped=round(stats["clipped"], 5),
                groups=int(keep.sum()),
                sequences=len(batch),
                tokens=sum(len(s.ids) for s in batch),
                generate_s=round(t1 - t0, 3),
                update_s=round(time.perf_counter() - t1, 3),
            )
            bar.update(bar.task_ids[0], completed=run.step, stats=f"reward {reward:.3f} · loss {stats['loss']:+.4f}")
            if config.run.save_every and run.step % config.run.save_every == 0:
                run.checkpoint()
    run.workers.finish(policy.model, run.out)
    run.checkpoint()
    model = run.save_model()
    plot_curves(read_metrics(metrics.path), run.out / "curve.png", f"GRPO on {run.env.spec}")
    return GRPOResult(model, run.step, reward, time.perf_counter() - started)


__all__ = ["GRPOResult", "Sequence", "groups", "to_sequences", "train_grpo", "turns", "update"]
