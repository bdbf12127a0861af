"""Asynchronous RL: rollout workers separate from the trainer, as processes here and as machines in
production. Launched with torchrun; rank 0 trains, every other rank generates:

    torchrun --nproc-per-node 3 -m rlhub.train.distributed.async_rl configs/arithmetic.toml \\
        --steps 50 --max-staleness 2 --run.init_from runs/arithmetic/sft/model

Top to bottom:
1. the trainer loads the policy (`prepare`, as GRPO does) and publishes version 0 of its weights;
2. each worker loads the same architecture, then loops: pull the newest weights when their version
   changed, claim the next `grpo.prompts` train tasks (a shared counter, so no two workers take the same
   ones), sample `grpo.group` episodes per task on the rollout runner (as GRPO does), scored with the
   environment's rubric, and send the batch with the policy version it was sampled from and the
   sampling log-probabilities;
3. the trainer takes batches in arrival order, drops any sampled more than `max_staleness` versions
   ago, and otherwise takes one GRPO update in which the importance ratio is against the *sampling*
   policy (the log-probabilities the worker sent), clipped as usual: off-policy but corrected;
4. after each update the trainer publishes the next version; at the end it tells workers to stop.

Weights and rollouts travel through torch.distributed's TCPStore (`channels.py`); rank 0 serves it on a
free port that it announces over the process group. Simplifications: the trainer never waits for fresh batches
(stale ones are dropped, not reweighted further); a worker that dies loses its in-flight batch; weights
are sent whole each version (fine for small models; large ones want a broadcast or shared storage).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch.distributed import TCPStore

from rlhub.core.metrics import compute_metrics
from rlhub.core.registry import load
from rlhub.rollout.runner import Collector
from rlhub.train.client import LocalModelClient
from rlhub.train.common import Metrics, prepare
from rlhub.train.config import TrainConfig, load_config, parse_overrides
from rlhub.train.distributed.channels import (
    PolicyChannel,
    RolloutChannel,
    request_stop,
    stop_requested,
)
from rlhub.train.distributed.workers import Workers
from rlhub.train.grpo import Sequence, groups, turns, update
from rlhub.train.losses import group_advantages
from rlhub.train.modeling import load_policy


@dataclass
class AsyncConfig:
    steps: int = 20
    """Trainer updates (policy versions published after version 0)."""
    max_staleness: int = 2
    """Drop a batch sampled from a policy more than this many versions behind the trainer's."""


def _store(rank: int, world: int) -> TCPStore:
    """A store for weights and rollouts: rank 0 listens on a free port and tells the others which."""
    host = os.environ.get("MASTER_ADDR", "127.0.0.1")
    store = TCPStore(host, 0, world, is_master=True, wait_for_workers=False) if rank == 0 else None
    port = [store.port if store is not None else 0]
    dist.broadcast_object_list(port, src=0)
    return store if store is not None else TCPStore(host, port[0], world, is_master=False)


def run_worker(config: TrainConfig, store: TCPStore, rank: int) -> None:
    policies, rollouts = PolicyChannel(store), RolloutChannel(store)
    store.wait(["policy/source"])
    policy = load_policy(store.get("policy/source").decode(), config.model.device)
    env = load(config.env.id, **config.env.args)
    generator = torch.Generator(device=policy.device).manual_seed(config.run.seed + 1000 * rank)
    client = LocalModelClient(policy, max_tokens=config.env.max_tokens, generator=generator)
    prompts = config.grpo.prompts
    version = -1
    with Collector(env, client, groups(config)) as collect:
        while not stop_requested(store):
            if policies.version() != version:
                version, state = policies.fetch()
                policy.model.load_state_dict(state)
            policy.model.eval()
            scored = collect(store.add("tasks/claimed", prompts) - prompts)
            rollouts.put(
                {
                    "version": version,
                    "worker": rank,
                    "rewards": [r.reward for r in scored],
                    "accuracy": compute_metrics(scored).accuracy,
                    "turns": [turns(r) for r in scored],
                }
            )


def run_trainer(config: TrainConfig, settings: AsyncConfig, store: TCPStore) -> dict[str, Any]:
    cfg = config.grpo
    run = prepare(config, lr=cfg.lr, warmup=0, workers=Workers())  # the trainer trains alone
    policies, rollouts = PolicyChannel(store), RolloutChannel(store)
    version = 0
    policies.publish(version, run.policy.model.state_dict())
    store.set("policy/source", str(run.source))
    metrics = Metrics(run.out / "metrics.jsonl", 0)
    accepted = dropped = 0
    staleness_seen: list[int] = []
    started = time.perf_counter()
    while accepted < settings.steps:
        batch = rollouts.take()
        staleness = version - batch["version"]
        if staleness > settings.max_staleness:
            dropped += 1
            continue
        rewards = torch.tensor(batch["rewards"]).view(cfg.prompts, cfg.group)
        advantages = group_advantages(rewards, cfg.scale_rewards)
        sequences = [
            Sequence(prompt_ids, ids, float(advantages.flatten()[n]), behavior_logps=logps)
            for n, turns in enumerate(batch["turns"])
            for prompt_ids, ids, logps in turns
        ]
        run.policy.model.train()
        stats = update(run, sequences, None)
        version += 1
        accepted += 1
        staleness_seen.append(staleness)
        policies.publish(version, run.policy.model.state_dict())
        metrics.log(
            phase="async-grpo",
            step=version,
            reward=round(float(rewards.mean()), 5),
            accuracy=round(batch["accuracy"], 5),
            loss=round(stats["loss"], 6),
            clipped=round(stats["clipped"], 5),
            staleness=staleness,
            worker=batch["worker"],
            dropped=dropped,
        )
    request_stop(store)
    model = run.save_model()
    summary = {
        "steps": accepted,
        "dropped_stale": dropped,
        "max_staleness_seen": max(staleness_seen),
        "mean_staleness": sum(staleness_seen) / len(staleness_seen),
        "policy_bytes_published": policies.bytes_sent,
        "seconds": round(time.perf_counter() - started, 1),
        "model": str(model),
        "settings": asdict(settings),
    }
    (run.out / "async_summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", help="A training TOML (see configs/); dotted overrides may follow.")
    parser.add_argument("--steps", type=int, default=AsyncConfig.steps)
    parser.add_argument("--max-staleness", type=int, default=AsyncConfig.max_staleness)
    args, rest = parser.parse_known_args(argv)
    config = load_config(args.config, parse_overrides(rest))
    settings = AsyncConfig(steps=args.steps, max_staleness=args.max_staleness)
    torch.set_num_threads(max(1, config.run.threads or 1))
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    if world < 2:
        raise SystemExit("async RL needs at least 2 processes: a trainer and a rollout worker")
    store = _store(rank, world)
    if rank == 0:
        summary = run_trainer(config, settings, store)
        print(json.dumps(summary))
    else:
        run_worker(config, store, rank)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
